#pragma once
// The HTTP worker pool. cpp-httplib runs each connection on one pool thread
// for as long as the connection stays open (keep-alive, and later SSE
// streams), so a fixed pool of N threads stalls connection N+1 until another
// client goes away. This pool keeps `min_threads` ready and starts another
// thread whenever a connection arrives and no thread is idle, up to
// `max_threads`; the extra threads stay for later bursts.
//
// Thread-safety: enqueue() and shutdown() may be called from any thread.
#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace roster::http {

class worker_pool final : public httplib::TaskQueue {
 public:
  worker_pool(size_t min_threads, size_t max_threads);
  ~worker_pool() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

  size_t threads() const;

 private:
  void spawn_locked();
  void run();

  const size_t max_threads_;
  // State below is protected by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  size_t idle_ = 0;
  bool shutdown_ = false;
};

} // namespace roster::http
