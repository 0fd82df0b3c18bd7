#pragma once
// The one error vocabulary of Roster. Every layer returns these as values;
// http/errors.cc is the single place that maps them to HTTP statuses.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace roster {

/// One byte on the wire: CAF carries these as error codes (actors/wire.h).
enum class errc : uint8_t {
  ok = 0,
  invalid_request,
  invalid_json,
  unauthorized,
  invalid_credentials,
  session_expired,
  mfa_required,
  forbidden,
  account_blocked,
  account_banned,
  pending_activation,
  reauthentication_required,
  not_found,
  method_not_allowed,
  email_taken,
  username_taken,
  identity_taken,
  last_login_method,
  already_exists,
  payload_too_large,
  unsupported_media_type,
  length_required,
  rate_limited,
  partition_unavailable,
  /// The partition is between owners (a handoff is sealing or just moved it):
  /// the request was NOT run, so the router sends it again to the new owner.
  /// Reaches a client as 503 partition_unavailable only when that retry's
  /// budget is spent.
  partition_moving,
  internal,
  email_not_verified,  // appended: the codes travel between nodes as numbers
  provider_unavailable,  // a login provider (Google's JWKS, Discord's API, ...) could not be asked
  limit_reached,  // a per-user count is at its configured limit (social.max_friends)
};

/// snake_case name of a code, as it appears in `{"error": {"code": ...}}`.
std::string_view errc_name(errc e);

/// An expected failure: a code, a human message (never containing secrets),
/// optional per-field problems, a Retry-After hint in seconds (0 = none),
/// and optional details: a JSON object's text the client may act on (an
/// account_banned error's reason and expiry), shown as the error's
/// "details"; empty for none. Like the message, never a secret.
struct error {
  errc code = errc::internal;
  std::string message;
  std::map<std::string, std::string> fields;
  int64_t retry_after = 0;
  std::string details;
};

inline error make_error(errc code, std::string message) {
  return error{code, std::move(message), {}, 0, {}};
}

/// A value or an error (the shape of redpanda's result<T>).
template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const { return std::get<1>(v_); }

 private:
  std::variant<T, error> v_;
};

/// "Done, or why not".
class status {
 public:
  status() = default;
  status(error e) : err_(std::move(e)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const error& err() const { return err_; }

 private:
  error err_;
  bool ok_ = true;
};

} // namespace roster
