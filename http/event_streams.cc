#include "http/event_streams.h"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "cluster/router_port.h"
#include "domain/notifications.h"

namespace roster::http {

namespace {
constexpr millis resubscribe_deadline = 10'000;  // a handoff's switch takes well under that
constexpr auto resubscribe_pause = std::chrono::milliseconds(250);
constexpr size_t max_held = 1000;        // events held for one resuming stream
constexpr size_t max_input = 4096;       // bytes a stream's client may send (it has nothing to say)
constexpr int control_threads = 4;       // router calls: resubscribe, unsubscribe
} // namespace

struct event_streams::impl : std::enable_shared_from_this<event_streams::impl> {
  enum class phase { pending, open, resuming };
  struct stream {
    std::string uid16;
    std::string ip;
    size_t input = 0;  // bytes the client sent (and were read away)
    int fd = -1;
    phase ph = phase::pending;
    std::string out;  // bytes the socket has not taken yet
    std::vector<std::pair<uint64_t, std::string>> held;  // events while pending or resuming
    std::string end_frame;  // ended while pending or resuming: written after the held events
    uint64_t last_seq = 0;  // the last event written (or replayed)
    std::string session_id;
    bool closing = false;  // close once `out` is written
    bool detach_pending = false;  // the actor went away before attach()
    bool want_out = false;  // EPOLLOUT armed
    caf::strong_actor_ptr source;  // the user actor it is subscribed at
  };

  stream_limits limits;
  router_port& route;
  stream_relay_hdl relay;
  std::string credential;

  mutable std::mutex mutex;
  std::unordered_map<uint64_t, stream> streams;
  std::unordered_map<int, uint64_t> by_fd;
  std::unordered_map<std::string, int64_t> per_address;
  uint64_t next_id = 1;
  std::atomic<int64_t> count{0};

  int epoll_fd = -1, wake_fd = -1;
  std::atomic<bool> stopping{false};
  std::thread io;

  // Router calls (unsubscribe, subscribe again) block: a thread of their own.
  std::mutex tasks_mutex;
  std::condition_variable tasks_wake;
  std::deque<std::function<void()>> tasks;
  std::vector<std::thread> control;

  impl(stream_limits l, router_port& r) : limits(l), route(r) {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev);
  }
  ~impl() {
    ::close(epoll_fd);
    ::close(wake_fd);
  }

  void start() {
    io = std::thread([self = shared_from_this()] { self->run_io(); });
    for (int i = 0; i < control_threads; ++i) control.emplace_back([self = shared_from_this()] { self->run_control(); });
  }

  void later(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(tasks_mutex);
      if (stopping) return;
      tasks.push_back(std::move(fn));
    }
    tasks_wake.notify_one();
  }

  // -- under `mutex` ---------------------------------------------------------------

  /// The relay watches the user actor a stream is subscribed at.
  void watch(stream& s, uint64_t id, caf::strong_actor_ptr source) {
    if (s.source == source) return;
    if (s.source) caf::anon_send(relay, stream_watch{credential, s.source, id, false});
    s.source = std::move(source);
    if (s.source) caf::anon_send(relay, stream_watch{credential, s.source, id, true});
  }

  void arm(stream& s, bool want_out) {
    if (s.fd < 0 || s.want_out == want_out) return;
    s.want_out = want_out;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<uint64_t>(s.fd) + 1;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, s.fd, &ev);
  }

  /// Writes what the socket takes now and keeps the rest; false when the
  /// client is gone or has not read for too long (the caller closes it).
  bool write(stream& s, std::string_view bytes) {
    if (s.fd < 0) return true;
    if (!s.out.empty()) {
      s.out.append(bytes);
      return s.out.size() <= limits.max_buffered;
    }
    while (!bytes.empty()) {
      auto n = ::send(s.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        bytes.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    if (!bytes.empty()) {
      s.out.assign(bytes);
      arm(s, true);
      if (s.out.size() > limits.max_buffered) return false;
    }
    return true;
  }

  bool flush(stream& s) {
    std::string pending;
    pending.swap(s.out);
    if (!write(s, pending)) return false;
    if (s.out.empty()) arm(s, false);
    return true;
  }

  /// Closes a stream; `tell_actor` when the user's actor still counts it.
  void close_locked(uint64_t id, bool tell_actor) {
    auto it = streams.find(id);
    if (it == streams.end()) return;
    auto& s = it->second;
    watch(s, id, nullptr);
    if (s.fd >= 0) {
      ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, s.fd, nullptr);
      ::shutdown(s.fd, SHUT_RDWR);
      ::close(s.fd);
      by_fd.erase(s.fd);
    }
    if (tell_actor) {
      auto uid = s.uid16;
      auto self = shared_from_this();
      later([self, uid, id] { (void)self->route.call_user(uid, unsubscribe{self->relay, id}); });
    }
    if (auto a = per_address.find(s.ip); a != per_address.end() && --a->second <= 0) per_address.erase(a);
    streams.erase(it);
    count.fetch_sub(1, std::memory_order_relaxed);
  }

  /// After attach or a new subscription: the replay, then the events held
  /// meanwhile that are newer, then an end that came meanwhile.
  void open_with(uint64_t id, stream& s, std::string_view first, uint64_t replayed_to) {
    s.ph = phase::open;
    s.last_seq = std::max(s.last_seq, replayed_to);
    bool ok = write(s, first);
    for (auto& [seq, frame] : s.held)
      if (ok && seq > s.last_seq) {
        ok = write(s, frame);
        s.last_seq = seq;
      }
    s.held.clear();
    if (!ok) return close_locked(id, true);
    if (!s.end_frame.empty()) {
      ok = write(s, s.end_frame);
      if (!ok || s.out.empty()) return close_locked(id, false);
      s.closing = true;
    }
  }

  void resubscribe(uint64_t id) {
    auto deadline = now_ms() + resubscribe_deadline;
    while (!stopping && now_ms() < deadline) {
      std::string uid, session;
      uint64_t last = 0;
      {
        std::lock_guard<std::mutex> lock(mutex);
        auto it = streams.find(id);
        if (it == streams.end() || it->second.ph != phase::resuming) return;
        uid = it->second.uid16;
        session = it->second.session_id;
        last = it->second.last_seq;
      }
      auto r = route.call_user(uid, subscribe{relay, id, last, {}, session});
      std::lock_guard<std::mutex> lock(mutex);
      auto it = streams.find(id);
      if (it == streams.end()) {  // the client left meanwhile
        if (r) later([self = shared_from_this(), uid, id] { (void)self->route.call_user(uid, unsubscribe{self->relay, id}); });
        return;
      }
      auto& s = it->second;
      if (r) {
        watch(s, id, r->source);
        return open_with(id, s, r->replay, r->last_seq);
      }
      auto code = r.err().code;
      if (code == errc::unauthorized || code == errc::session_expired || code == errc::account_blocked ||
          code == errc::account_banned || code == errc::pending_activation || code == errc::not_found) {
        s.end_frame = sse_end_frame(code == errc::unauthorized ? std::string_view("session_revoked") : errc_name(code));
        return open_with(id, s, {}, s.last_seq);
      }
      // Moving or unreachable: try again shortly.
      mutex.unlock();
      std::this_thread::sleep_for(resubscribe_pause);
      mutex.lock();
    }
    std::lock_guard<std::mutex> lock(mutex);
    auto it = streams.find(id);
    if (it == streams.end()) return;
    it->second.end_frame = sse_end_frame("unavailable");
    open_with(id, it->second, {}, it->second.last_seq);
  }

  // -- threads -------------------------------------------------------------------

  void run_control() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(tasks_mutex);
        tasks_wake.wait(lock, [&] { return stopping || !tasks.empty(); });
        if (stopping) return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      try {
        task();
      } catch (const std::exception& e) {
        spdlog::error("event streams: {}", e.what());
      }
    }
  }

  void run_io() {
    std::vector<epoll_event> events(256);
    millis next_beat = now_ms() + limits.heartbeat;
    while (!stopping) {
      int wait = static_cast<int>(std::max<millis>(0, next_beat - now_ms()));
      int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), wait);
      std::lock_guard<std::mutex> lock(mutex);
      for (int i = 0; i < n; ++i) {
        if (events[i].data.u64 == 0) {
          uint64_t drained;
          (void)::read(wake_fd, &drained, sizeof drained);
          continue;
        }
        int fd = static_cast<int>(events[i].data.u64 - 1);
        auto f = by_fd.find(fd);
        if (f == by_fd.end()) continue;
        auto id = f->second;
        auto& s = streams.at(id);
        bool gone = false;
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
          // A stream's client sends nothing; whatever comes is read away, and
          // its end (or an error) is the client leaving.
          char sink[512];
          for (;;) {
            auto r = ::recv(fd, sink, sizeof sink, MSG_DONTWAIT);
            if (r > 0) {
              s.input += static_cast<size_t>(r);
              if (s.input > max_input) {  // a client that talks is no event-stream client
                gone = true;
                break;
              }
              continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) gone = true;
            break;
          }
        }
        if (!gone && (events[i].events & EPOLLOUT)) {
          gone = !flush(s);
          if (!gone && s.closing && s.out.empty()) {
            close_locked(id, false);
            continue;
          }
        }
        if (gone) close_locked(id, !s.closing);
      }
      if (now_ms() >= next_beat) {
        next_beat = now_ms() + limits.heartbeat;
        std::vector<uint64_t> dead;
        // Resuming streams too: a comment between two events breaks nothing.
        for (auto& [id, s] : streams)
          if (s.ph != phase::pending && s.fd >= 0 && !write(s, ": heartbeat\n\n")) dead.push_back(id);
        for (auto id : dead) close_locked(id, true);
      }
    }
  }
};

event_streams::event_streams(stream_limits limits, router_port& route)
    : impl_(std::make_shared<impl>(limits, route)) {
  impl_->start();
}

event_streams::~event_streams() { stop(); }

void event_streams::set_relay(stream_relay_hdl relay, std::string credential) {
  impl_->relay = std::move(relay);
  impl_->credential = std::move(credential);
}
const stream_relay_hdl& event_streams::relay() const { return impl_->relay; }

uint64_t event_streams::reserve(const std::string& uid16, const std::string& ip) {
  auto& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mutex);
  if (im.stopping || im.count.load() >= im.limits.max_streams) return 0;
  auto& mine = im.per_address[ip];
  if (mine >= im.limits.max_per_address) return 0;
  ++mine;
  auto id = im.next_id++;
  auto& s = im.streams[id];
  s.uid16 = uid16;
  s.ip = ip;
  im.count.fetch_add(1, std::memory_order_relaxed);
  return id;
}

void event_streams::cancel(uint64_t id) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->close_locked(id, false);
}

void event_streams::attach(uint64_t id, int fd, std::string first, std::string session_id, uint64_t last_seq,
                           caf::strong_actor_ptr source) {
  auto& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mutex);
  auto it = im.streams.find(id);
  if (it == im.streams.end() || im.stopping || fd < 0) {
    if (fd >= 0) ::close(fd);
    if (it != im.streams.end()) {
      im.watch(it->second, id, std::move(source));
      im.close_locked(id, true);
    }
    return;
  }
  auto& s = it->second;
  s.fd = fd;
  s.session_id = std::move(session_id);
  im.watch(s, id, std::move(source));
  im.by_fd[fd] = id;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(fd) + 1;
  ::epoll_ctl(im.epoll_fd, EPOLL_CTL_ADD, fd, &ev);
  bool detach = s.detach_pending;
  im.open_with(id, s, first, last_seq);
  if (detach) {
    auto again = im.streams.find(id);
    if (again == im.streams.end()) return;
    again->second.ph = impl::phase::resuming;
    im.later([self = impl_, id] { self->resubscribe(id); });
  }
}

std::vector<uint64_t> event_streams::push(const std::vector<uint64_t>& ids, uint64_t seq, const std::string& frame) {
  auto& im = *impl_;
  std::vector<uint64_t> unknown;
  std::lock_guard<std::mutex> lock(im.mutex);
  for (auto id : ids) {
    auto it = im.streams.find(id);
    if (it == im.streams.end()) {
      unknown.push_back(id);
      continue;
    }
    auto& s = it->second;
    if (s.ph != impl::phase::open) {
      if (s.held.size() >= max_held) {  // too far behind: the client reconnects with Last-Event-ID
        s.held.clear();
        s.end_frame = sse_end_frame("unavailable");
        continue;
      }
      s.held.emplace_back(seq, frame);
      continue;
    }
    if (seq <= s.last_seq) continue;  // already in a replay
    s.last_seq = seq;
    if (!im.write(s, frame)) im.close_locked(id, true);
  }
  return unknown;
}

void event_streams::end(uint64_t id, const std::string& frame) {
  auto& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mutex);
  auto it = im.streams.find(id);
  if (it == im.streams.end()) return;
  auto& s = it->second;
  if (s.ph != impl::phase::open) {
    s.end_frame = frame;
    return;
  }
  if (!im.write(s, frame) || s.out.empty()) return im.close_locked(id, false);
  s.closing = true;
}

void event_streams::detached(const std::vector<uint64_t>& ids) {
  auto& im = *impl_;
  std::lock_guard<std::mutex> lock(im.mutex);
  for (auto id : ids) {
    auto it = im.streams.find(id);
    if (it == im.streams.end()) continue;
    auto& s = it->second;
    if (s.ph == impl::phase::pending) {
      s.detach_pending = true;
      continue;
    }
    if (s.ph == impl::phase::resuming) continue;
    s.ph = impl::phase::resuming;
    im.later([self = impl_, id] { self->resubscribe(id); });
  }
}

void event_streams::stop() {
  auto& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.tasks_mutex);  // no control thread misses the wake-up
    if (im.stopping.exchange(true)) return;
  }
  uint64_t one = 1;
  (void)::write(im.wake_fd, &one, sizeof one);
  im.tasks_wake.notify_all();
  if (im.io.joinable()) im.io.join();
  for (auto& t : im.control)
    if (t.joinable()) t.join();
  std::lock_guard<std::mutex> lock(im.mutex);
  std::vector<uint64_t> all;
  for (auto& [id, s] : im.streams) all.push_back(id);
  for (auto id : all) im.close_locked(id, false);
}

int64_t event_streams::open() const { return impl_->count.load(std::memory_order_relaxed); }

} // namespace roster::http
