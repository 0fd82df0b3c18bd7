#include "domain/throttle.h"

#include <algorithm>

namespace roster {

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

void prune_failures(std::vector<millis>& failures, millis now, const throttle_policy& p) {
  failures.erase(std::remove_if(failures.begin(), failures.end(),
                                [&](millis t) { return t <= now - p.window; }),
                 failures.end());
  if (failures.size() > 64) failures.erase(failures.begin(), failures.end() - 64);
}

millis ip_throttle::check(const std::string& ip, millis now) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = failures_.find(ip);
  if (it == failures_.end()) return 0;
  return lockout_remaining(it->second, now, policy_);
}

void ip_throttle::record_failure(const std::string& ip, millis now) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (failures_.size() > 100'000) {
    for (auto it = failures_.begin(); it != failures_.end();) {
      prune_failures(it->second, now, policy_);
      it = it->second.empty() ? failures_.erase(it) : std::next(it);
    }
  }
  auto& f = failures_[ip];
  prune_failures(f, now, policy_);
  f.push_back(now);
}

} // namespace roster

namespace roster {

millis rate_window::acquire(const std::string& key, millis now) {
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
  if (count >= limit_) return start + window_ - now;
  ++count;
  return 0;
}

} // namespace roster
