#include "http/worker_pool.h"

#include <system_error>
#include <thread>

namespace roster::http {

worker_pool::worker_pool(size_t min_threads, size_t max_threads, std::chrono::milliseconds idle_exit)
    : min_threads_(min_threads), max_threads_(std::max(min_threads, max_threads)), idle_exit_(idle_exit) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < min_threads; ++i) spawn_locked();
}

worker_pool::~worker_pool() { shutdown(); }

void worker_pool::spawn_locked() {
  try {
    std::thread([this] { run(); }).detach();
    ++threads_;
  } catch (const std::system_error&) {
    // Out of threads (a pids limit): the queued job waits for a busy one.
  }
}

void worker_pool::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    jobs_.push_back(std::move(fn));
    if (jobs_.size() > idle_ && threads_ < max_threads_) spawn_locked();
  }
  cond_.notify_one();
}

void worker_pool::shutdown() {
  std::unique_lock<std::mutex> lock(mutex_);
  shutdown_ = true;
  cond_.notify_all();
  gone_.wait(lock, [this] { return threads_ == 0; });
}

size_t worker_pool::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_;
}

void worker_pool::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    ++idle_;
    bool woken = cond_.wait_for(lock, idle_exit_, [this] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty() && (shutdown_ || (!woken && threads_ > min_threads_))) {
      // Done, or idle for idle_exit beyond the minimum: this thread ends.
      // The notify happens under the lock; nothing of `this` is touched
      // after the lock is released.
      --threads_;
      gone_.notify_all();
      return;
    }
    if (jobs_.empty()) continue;
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    lock.unlock();
    job();
    lock.lock();
  }
}

} // namespace roster::http
