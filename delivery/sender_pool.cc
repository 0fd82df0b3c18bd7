#include "delivery/sender_pool.h"

#include <algorithm>

namespace roster {

sender_pool::sender_pool(delivery_config cfg, size_t threads) : cfg_(std::move(cfg)) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i) threads_.emplace_back([this] { run(); });
}

sender_pool::~sender_pool() { stop(); }

void sender_pool::submit(outbox_entry e, done_fn done) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    queue_.emplace_back(std::move(e), std::move(done));
  }
  wake_.notify_one();
}

void sender_pool::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_.exchange(true)) return;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

void sender_pool::run() {
  deliverer d(cfg_, &stopping_);
  for (;;) {
    std::pair<outbox_entry, done_fn> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    auto outcome = d.deliver(job.first);
    if (stopping_) return;
    job.second(job.first, outcome);
  }
}

} // namespace roster
