#pragma once
// The notification sender's own threads: libcurl sends block, so they run
// here and never on a CAF scheduler thread. The actor hands over at most
// outbox.in_flight entries at a time; each thread keeps a deliverer (and its
// open connections) for its lifetime. `done` runs on the sending thread.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "delivery/deliverer.h"

namespace roster {

class sender_pool {
 public:
  using done_fn = std::function<void(const outbox_entry&, const delivery_outcome&)>;

  sender_pool(delivery_config cfg, size_t threads);
  ~sender_pool();
  sender_pool(const sender_pool&) = delete;
  sender_pool& operator=(const sender_pool&) = delete;

  void submit(outbox_entry e, done_fn done);
  /// Aborts sends in progress, drops queued ones (they stay pending in the
  /// store) and joins the threads. Idempotent.
  void stop();

 private:
  void run();

  delivery_config cfg_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<outbox_entry, done_fn>> queue_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

} // namespace roster
