#include "http/worker_pool.h"

namespace roster::http {

worker_pool::worker_pool(size_t min_threads, size_t max_threads) : max_threads_(std::max(min_threads, max_threads)) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < min_threads; ++i) spawn_locked();
}

worker_pool::~worker_pool() { shutdown(); }

void worker_pool::spawn_locked() { threads_.emplace_back([this] { run(); }); }

void worker_pool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(fn));
    // Every queued job needs a thread of its own (it may hold it for the
    // whole life of a connection): grow when they outnumber idle threads.
    if (jobs_.size() > idle_ && threads_.size() < max_threads_) spawn_locked();
  }
  cond_.notify_one();
}

void worker_pool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutdown_ && threads_.empty()) return;
    shutdown_ = true;
    threads.swap(threads_);
  }
  cond_.notify_all();
  for (auto& t : threads)
    if (t.joinable()) t.join();
}

size_t worker_pool::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_.size();
}

void worker_pool::run() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ++idle_;
      cond_.wait(lock, [this] { return shutdown_ || !jobs_.empty(); });
      --idle_;
      if (jobs_.empty()) return;  // shutdown with nothing left to do
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

} // namespace roster::http
