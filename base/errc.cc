#include "base/errc.h"

namespace roster {

std::string_view errc_name(errc e) {
  switch (e) {
    case errc::ok: return "ok";
    case errc::invalid_request: return "invalid_request";
    case errc::invalid_json: return "invalid_json";
    case errc::unauthorized: return "unauthorized";
    case errc::invalid_credentials: return "invalid_credentials";
    case errc::session_expired: return "session_expired";
    case errc::mfa_required: return "mfa_required";
    case errc::forbidden: return "forbidden";
    case errc::account_blocked: return "account_blocked";
    case errc::account_banned: return "account_banned";
    case errc::pending_activation: return "pending_activation";
    case errc::reauthentication_required: return "reauthentication_required";
    case errc::not_found: return "not_found";
    case errc::method_not_allowed: return "method_not_allowed";
    case errc::email_taken: return "email_taken";
    case errc::username_taken: return "username_taken";
    case errc::identity_taken: return "identity_taken";
    case errc::last_login_method: return "last_login_method";
    case errc::already_exists: return "already_exists";
    case errc::payload_too_large: return "payload_too_large";
    case errc::unsupported_media_type: return "unsupported_media_type";
    case errc::length_required: return "length_required";
    case errc::rate_limited: return "rate_limited";
    case errc::partition_unavailable:
    case errc::partition_moving: return "partition_unavailable";
    case errc::internal: return "internal";
    case errc::email_not_verified: return "email_not_verified";
    case errc::provider_unavailable: return "provider_unavailable";
    case errc::limit_reached: return "limit_reached";
  }
  return "internal";
}

} // namespace roster
