#pragma once
// Failed-login throttling (SPEC §3): after `max_failures` failures inside
// `window`, further attempts are refused for 30 s, doubling with each further
// failure, capped at `window`. The pure rule is `lockout_remaining`; the
// `ip_throttle` class applies it per client address, node-locally.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/clock.h"

namespace roster {

struct throttle_policy {
  int max_failures = 5;
  millis window = 15 * 60'000;
  millis base_lockout = 30'000;
};

/// Milliseconds until another attempt is allowed (0 = allowed now), given the
/// times of recent failures (any order; those outside the window are ignored).
millis lockout_remaining(const std::vector<millis>& failures, millis now, const throttle_policy& p);

/// Drops failures that are outside the window; keeps at most 64 entries.
void prune_failures(std::vector<millis>& failures, millis now, const throttle_policy& p);

/// Per-IP failure counter. Thread-safe (one mutex); memory bounded by pruning.
class ip_throttle {
 public:
  explicit ip_throttle(throttle_policy p) : policy_(p) {}
  millis check(const std::string& ip, millis now);
  void record_failure(const std::string& ip, millis now);

 private:
  throttle_policy policy_;
  // State below is protected by mutex_.
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<millis>> failures_;
};

} // namespace roster

namespace roster {

/// A fixed-window request counter per key (e.g. client IP): at most `limit`
/// calls per `window`. Thread-safe; memory bounded (old windows are dropped).
class rate_window {
 public:
  rate_window(int limit, millis window) : limit_(limit), window_(window) {}
  /// 0 if the call is allowed (and counted), else ms until the window ends.
  millis acquire(const std::string& key, millis now);

 private:
  int limit_;
  millis window_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::pair<millis, int>> counts_;  // key → (window start, count)
};

} // namespace roster
