#include "http/errors.h"

#include <nlohmann/json.hpp>

namespace roster::http {

int status_of(errc e) {
  switch (e) {
    case errc::ok: return 200;
    case errc::invalid_request:
    case errc::invalid_json: return 400;
    case errc::unauthorized:
    case errc::invalid_credentials:
    case errc::session_expired:
    case errc::mfa_required: return 401;
    case errc::forbidden:
    case errc::account_blocked:
    case errc::account_banned:
    case errc::pending_activation:
    case errc::email_not_verified:
    case errc::reauthentication_required: return 403;
    case errc::not_found: return 404;
    case errc::method_not_allowed: return 405;
    case errc::email_taken:
    case errc::username_taken:
    case errc::identity_taken:
    case errc::last_login_method:
    case errc::already_exists: return 409;
    case errc::length_required: return 411;
    case errc::payload_too_large: return 413;
    case errc::unsupported_media_type: return 415;
    case errc::rate_limited: return 429;
    case errc::partition_unavailable:
    case errc::partition_moving:
    case errc::provider_unavailable: return 503;
    case errc::limit_reached: return 409;
    case errc::internal: return 500;
  }
  return 500;
}

void write_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  if (status == 204) {
    res.body.clear();
    return;
  }
  res.set_content(body, "application/json");
}

void write_error(httplib::Response& res, const error& e) {
  nlohmann::json err = {{"code", errc_name(e.code)},
                        {"message", e.code == errc::internal ? std::string("internal error") : e.message}};
  if (!e.fields.empty()) err["fields"] = e.fields;
  if (!e.details.empty() && e.code != errc::internal) {
    auto details = nlohmann::json::parse(e.details, nullptr, false);
    if (details.is_object()) err["details"] = std::move(details);
  }
  if (e.code == errc::rate_limited || e.code == errc::partition_unavailable || e.code == errc::partition_moving)
    res.set_header("Retry-After", std::to_string(e.retry_after > 0 ? e.retry_after : 1));
  write_json(res, status_of(e.code), nlohmann::json{{"error", err}}.dump());
}

void write_error(httplib::Response& res, errc code, const std::string& message) {
  write_error(res, make_error(code, message));
}

void write_view(httplib::Response& res, const result<view>& r, int ok_status) {
  if (!r) return write_error(res, r.err());
  write_json(res, ok_status, r->json);
}

void write_status(httplib::Response& res, const status& s, int ok_status, const std::string& body) {
  if (!s) return write_error(res, s.err());
  write_json(res, ok_status, body);
}

void write_signed_in(httplib::Response& res, const result<signed_in>& r, int ok_status, std::optional<bool> created) {
  if (!r) return write_error(res, r.err());
  // MFA is on: no session yet; POST /v1/sessions/mfa completes the login.
  if (!r->mfa_challenge.empty())
    return write_json(res, 200, nlohmann::json{{"challenge_id", r->mfa_challenge}, {"mfa_required", true}}.dump());
  // The views are JSON already: joined, not parsed again (keys in the order
  // nlohmann::json would sort them).
  std::string body = "{";
  if (created) body += std::string("\"created\":") + (*created ? "true" : "false") + ",";
  body += "\"session\":" + (r->session.empty() ? std::string("null") : r->session);
  body += ",\"user\":" + r->user + "}";
  write_json(res, ok_status, body);
}

} // namespace roster::http
