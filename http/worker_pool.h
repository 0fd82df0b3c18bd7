#pragma once
// The HTTP worker pool. A worker runs one request at a time, from the moment
// the edge (http/edge.h) has read it whole until the answer is written; idle
// and slow connections hold no worker. The pool keeps `min_threads` ready,
// starts another thread whenever a job arrives and no thread is idle, up to
// `max_threads`, and lets a thread beyond `min_threads` end after
// `idle_exit` without work, so a burst does not leave its threads behind.
//
// Thread-safety: enqueue(), threads() and shutdown() may be called from any
// thread.
#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace roster::http {

class worker_pool final : public httplib::TaskQueue {
 public:
  worker_pool(size_t min_threads, size_t max_threads,
              std::chrono::milliseconds idle_exit = std::chrono::seconds(30));
  ~worker_pool() override;

  void enqueue(std::function<void()> fn) override;
  /// Runs the jobs already queued, then ends every thread (and waits).
  void shutdown() override;

  size_t threads() const;

 private:
  void spawn_locked();
  void run();

  const size_t min_threads_, max_threads_;
  const std::chrono::milliseconds idle_exit_;
  // State below is protected by mutex_.
  mutable std::mutex mutex_;
  std::condition_variable cond_, gone_;
  std::deque<std::function<void()>> jobs_;
  size_t threads_ = 0, idle_ = 0;
  bool shutdown_ = false;
};

} // namespace roster::http
