#pragma once
// Throttles (SPEC §3): password checks and per-address request budgets.
//
// Password checks: after `max_failures` failures inside `window`, further
// attempts are refused for 30 s, doubling with each further failure, capped at
// `window`. So that the rule holds under concurrency, an attempt is *reserved*
// before its hash is verified and counts against the limit while in flight:
// failures + attempts in flight may never exceed `max_failures`, and once the
// lock has run out, attempts go one at a time. A reservation turns into a
// failure (wrong password) or is dropped (right password, or the check did not
// run); one that is never resolved stops counting after `reservation_ttl`.
//
// The pure rule is `attempt_wait`; `pending_attempts` keeps one key's
// reservations; `attempt_throttle` applies both per key (client address,
// normalised login), node-locally; `login_guard` applies them to one account's
// stored failures (held by the user actor, actors/user/user_actor.cc).
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/errc.h"

namespace roster {

struct throttle_policy {
  int max_failures = 5;
  millis window = 15 * 60'000;
  millis base_lockout = 30'000;
  millis reservation_ttl = 30'000;  // an unresolved attempt stops counting after this
};

/// The wait suggested to an attempt refused because others are still in flight.
constexpr millis busy_wait = 1000;

/// Milliseconds until another attempt is allowed (0 = allowed now), given the
/// times of recent failures (any order; those outside the window are ignored).
/// Failures only, no reservations: see attempt_wait.
millis lockout_remaining(const std::vector<millis>& failures, millis now, const throttle_policy& p);

/// The rule for a new attempt, given the recent failures and the number of
/// attempts in flight (live reservations): 0 = it may run now, else the
/// milliseconds to wait. Refused while the lock of lockout_remaining runs;
/// while failures + in_flight ≥ max_failures (busy_wait); and after a lock has
/// run out, while another attempt is in flight (one probe at a time).
millis attempt_wait(const std::vector<millis>& failures, size_t in_flight, millis now, const throttle_policy& p);

/// Drops failures that are outside the window; keeps at most 64 entries.
void prune_failures(std::vector<millis>& failures, millis now, const throttle_policy& p);

/// The 429 rate_limited error with Retry-After (whole seconds, at least 1).
/// One message for every throttle, so that a refusal tells nothing about which
/// limit (address, login, account) was reached or whether the login exists.
error throttled_error(millis wait);

/// One key's attempts in flight: reservation id → time reserved. Plain data,
/// not thread-safe.
class pending_attempts {
 public:
  /// A new reservation; its id is unique within this object's life. `now`
  /// seeds the ids, so a lost object's ids are not reused by its successor.
  uint64_t add(millis now);
  /// Drops reservation `id`; false if it is unknown (resolved or expired).
  bool resolve(uint64_t id);
  /// Drops the oldest reservation, if any.
  void resolve_oldest();
  /// Drops the expired reservations; returns how many are live.
  size_t live(millis now, millis ttl);
  bool empty() const { return items_.empty(); }

 private:
  std::vector<std::pair<uint64_t, millis>> items_;
  uint64_t next_ = 0;
};

/// The password-check throttle of one account: its checks in flight, judged
/// with attempt_wait against the account's recent failures, which live in the
/// user record (user_record::failed_logins) and are passed in, so that the
/// caller persists them with the record. Plain data, not thread-safe: the
/// user actor holds one per live user. Memory only: a guard lost with its
/// actor only lifts a limit early.
///
///   begin ──▶ (check the hash) ──▶ failed   (wrong password: now a failure)
///                              └─▶ finish   (right password, or no check ran)
class login_guard {
 public:
  /// Reserves a password check: its reservation id, or throttled_error()
  /// while attempt_wait refuses (nothing reserved then).
  result<uint64_t> begin(const std::vector<millis>& failures, millis now, const throttle_policy& p);
  /// Check `reservation` failed: it ends, and `now` joins `failures` (pruned
  /// to the window first, prune_failures). The caller stores the record.
  void failed(uint64_t reservation, std::vector<millis>& failures, millis now, const throttle_policy& p);
  /// Check `reservation` ended without a failure. Unknown or expired ids are
  /// ignored. Clearing the failures after a proven password is the caller's.
  void finish(uint64_t reservation) { pending_.resolve(reservation); }

 private:
  pending_attempts pending_;
};

/// attempt_wait per key (a client address, a normalised login). Thread-safe
/// (one mutex); memory bounded by pruning.
class attempt_throttle {
 public:
  explicit attempt_throttle(throttle_policy p) : policy_(p) {}
  /// 0: the attempt may run and is now counted as in flight; it must be
  /// followed by fail() or succeed(). Else: ms to wait, nothing reserved.
  millis reserve(const std::string& key, millis now);
  /// The attempt failed: its reservation becomes a failure at `now`.
  void fail(const std::string& key, millis now);
  /// The attempt succeeded or did not run: its reservation is dropped;
  /// `forget_failures` also clears the key's failures (a proven password).
  void succeed(const std::string& key, bool forget_failures = false);

 private:
  struct entry {
    std::vector<millis> failures;
    pending_attempts pending;
  };
  void prune_all(millis now);

  throttle_policy policy_;
  // State below is protected by mutex_.
  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
};

/// A fixed-window request counter per key (e.g. client IP): at most `limit`
/// units per `window` (limit 0: no limit). Thread-safe; memory bounded (old
/// windows are dropped).
class rate_window {
 public:
  rate_window(int64_t limit, millis window) : limit_(limit), window_(window) {}
  /// 0 if `units` more are allowed (and counted), else ms until the window
  /// ends. A call asking more than `limit` units counts as `limit` (it needs a
  /// fresh window to itself).
  millis acquire(const std::string& key, millis now, int64_t units = 1);

 private:
  int64_t limit_;
  millis window_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::pair<millis, int64_t>> counts_;  // key → (window start, count)
};

/// The per-address request budgets of the `[limits]` config section (SPEC §2
/// "429 rate_limited"), one fixed minute window each, keyed by client IP.
struct address_limits {
  rate_window registrations;     // POST /v1/accounts
  rate_window device_logins;     // POST /v1/sessions/device
  rate_window anonymous_logins;  // POST /v1/sessions/anonymous
  rate_window username_lookups;  // GET /v1/usernames/{name}: 1; GET /v1/users?usernames=: one per name; GET /v1/users/search: 1
  rate_window code_sends{10, 60'000};  // code requests from one address: sends and checks (email-code, recovery)
};

} // namespace roster
