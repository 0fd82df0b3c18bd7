#include "domain/throttle.h"

#include <algorithm>

namespace roster {

namespace {
int failures_in_window(const std::vector<millis>& failures, millis now, const throttle_policy& p) {
  return static_cast<int>(std::count_if(failures.begin(), failures.end(), [&](millis t) { return t > now - p.window; }));
}
} // namespace

millis lockout_remaining(const std::vector<millis>& failures, millis now, const throttle_policy& p) {
  int count = 0;
  millis last = 0;
  for (millis t : failures) {
    if (t > now - p.window) {
      ++count;
      last = std::max(last, t);
    }
  }
  if (count < p.max_failures) return 0;
  int excess = std::min(count - p.max_failures, 20);
  millis lock = std::min(p.window, p.base_lockout << excess);
  millis remaining = last + lock - now;
  return remaining > 0 ? remaining : 0;
}

millis attempt_wait(const std::vector<millis>& failures, size_t in_flight, millis now, const throttle_policy& p) {
  if (auto lock = lockout_remaining(failures, now, p); lock > 0) return lock;
  auto failed = static_cast<size_t>(failures_in_window(failures, now, p));
  auto max = static_cast<size_t>(std::max(p.max_failures, 1));
  // Locked before and the lock has run out: one probe at a time.
  if (failed >= max) return in_flight > 0 ? busy_wait : 0;
  return failed + in_flight >= max ? busy_wait : 0;
}

void prune_failures(std::vector<millis>& failures, millis now, const throttle_policy& p) {
  failures.erase(std::remove_if(failures.begin(), failures.end(),
                                [&](millis t) { return t <= now - p.window; }),
                 failures.end());
  if (failures.size() > 64) failures.erase(failures.begin(), failures.end() - 64);
}

error throttled_error(millis wait) {
  error e = make_error(errc::rate_limited, "too many attempts; try again later");
  e.retry_after = std::max<millis>(1, (wait + 999) / 1000);
  return e;
}

uint64_t pending_attempts::add(millis now) {
  if (next_ == 0) next_ = static_cast<uint64_t>(now) << 16;
  uint64_t id = ++next_;
  items_.emplace_back(id, now);
  return id;
}

bool pending_attempts::resolve(uint64_t id) {
  auto it = std::find_if(items_.begin(), items_.end(), [&](auto& i) { return i.first == id; });
  if (it == items_.end()) return false;
  items_.erase(it);
  return true;
}

void pending_attempts::resolve_oldest() {
  if (!items_.empty()) items_.erase(items_.begin());  // added in time order
}

size_t pending_attempts::live(millis now, millis ttl) {
  items_.erase(std::remove_if(items_.begin(), items_.end(), [&](auto& i) { return i.second <= now - ttl; }),
               items_.end());
  return items_.size();
}

result<uint64_t> login_guard::begin(const std::vector<millis>& failures, millis now, const throttle_policy& p) {
  auto in_flight = pending_.live(now, p.reservation_ttl);
  if (auto wait = attempt_wait(failures, in_flight, now, p); wait > 0) return throttled_error(wait);
  return pending_.add(now);
}

void login_guard::failed(uint64_t reservation, std::vector<millis>& failures, millis now, const throttle_policy& p) {
  pending_.resolve(reservation);
  prune_failures(failures, now, p);
  failures.push_back(now);
}

void attempt_throttle::prune_all(millis now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    prune_failures(it->second.failures, now, policy_);
    it->second.pending.live(now, policy_.reservation_ttl);
    it = it->second.failures.empty() && it->second.pending.empty() ? entries_.erase(it) : std::next(it);
  }
}

millis attempt_throttle::reserve(const std::string& key, millis now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() > 100'000) prune_all(now);
  auto& e = entries_[key];
  auto in_flight = e.pending.live(now, policy_.reservation_ttl);
  if (auto wait = attempt_wait(e.failures, in_flight, now, policy_); wait > 0) return wait;
  e.pending.add(now);
  return 0;
}

void attempt_throttle::fail(const std::string& key, millis now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& e = entries_[key];
  e.pending.resolve_oldest();
  prune_failures(e.failures, now, policy_);
  e.failures.push_back(now);
}

void attempt_throttle::succeed(const std::string& key, bool forget_failures) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  it->second.pending.resolve_oldest();
  if (forget_failures) it->second.failures.clear();
  if (it->second.failures.empty() && it->second.pending.empty()) entries_.erase(it);
}

millis rate_window::acquire(const std::string& key, millis now, int64_t units) {
  if (limit_ <= 0) return 0;
  units = std::clamp<int64_t>(units, 1, limit_);
  std::lock_guard<std::mutex> lock(mutex_);
  if (counts_.size() > 100'000) {
    for (auto it = counts_.begin(); it != counts_.end();)
      it = now - it->second.first >= window_ ? counts_.erase(it) : std::next(it);
  }
  auto& [start, count] = counts_[key];
  if (now - start >= window_) {
    start = now;
    count = 0;
  }
  if (count + units > limit_) return start + window_ - now;
  count += units;
  return 0;
}

} // namespace roster
