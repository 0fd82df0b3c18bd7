#include "domain/crypto.h"
#include "domain/request.h"
#include "http/context.h"

namespace roster::http {

result<nlohmann::json> context::body() const {
  if (req.body.empty()) return nlohmann::json::object();
  auto ct = req.get_header_value("Content-Type");
  if (!ct.empty() && ct.rfind("application/json", 0) != 0)
    return make_error(errc::unsupported_media_type, "Content-Type must be application/json");
  return parse_json_object(req.body);
}

result<bearer> context::auth() const {
  std::string header = req.get_header_value("Authorization");  // owns what `token` views
  auto token = bearer_token(header);
  if (!token) return make_error(errc::unauthorized, "missing or malformed Authorization: Bearer header");
  auto uid16 = user_id_of_token(*token);
  if (!uid16) return make_error(errc::unauthorized, "invalid session");
  return bearer{*uid16, sha256(*token)};
}

bool context::is_admin() const {
  auto given = req.get_header_value("X-Admin-Key");
  if (given.empty()) return false;
  bool match = false;
  for (auto& k : svc.config.admin.keys) match |= constant_time_equal(given, k);
  return match;
}

std::optional<std::string> context::query(const std::string& name) const {
  if (!req.has_param(name.c_str())) return std::nullopt;
  return req.get_param_value(name.c_str());
}

result<int> context::int_query(const char* name, int fallback, int lo, int hi) const {
  auto v = query(name);
  if (!v) return fallback;
  try {
    size_t pos = 0;
    int n = std::stoi(*v, &pos);
    if (pos == v->size() && n >= lo && n <= hi) return n;
  } catch (const std::exception&) {
  }
  error e = make_error(errc::invalid_request, "invalid query");
  e.fields[name] = "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  return e;
}

std::optional<std::string> string_field(const nlohmann::json& body, const char* name, error& e, bool required) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) e.fields[name] = "is required";
    return std::nullopt;
  }
  if (!it->is_string()) {
    e.fields[name] = "must be a string";
    return std::nullopt;
  }
  return it->get<std::string>();
}

} // namespace roster::http
