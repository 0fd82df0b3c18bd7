#include <algorithm>

#include "base/clock.h"
#include "base/crypto.h"
#include "domain/request.h"
#include "http/context.h"
#include "http/edge.h"

namespace roster::http {

bool is_json_media_type(std::string_view content_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  constexpr std::string_view json = "application/json";
  return type.size() == json.size() && std::equal(type.begin(), type.end(), json.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

result<nlohmann::json> context::body() const {
  if (req.body.empty()) return nlohmann::json::object();
  if (!is_json_media_type(req.get_header_value("Content-Type")))
    return make_error(errc::unsupported_media_type, "Content-Type must be application/json");
  return parse_json_object(req.body);
}

result<bearer> context::auth() const {
  auto lifted = lifted_authorization();
  std::string header = lifted ? std::string() : req.get_header_value("Authorization");  // owns what `token` views
  auto token = bearer_token(lifted ? *lifted : std::string_view(header));
  if (!token) return make_error(errc::unauthorized, "missing or malformed Authorization: Bearer header");
  if (token->find('.') != std::string_view::npos) {
    if (req.method != "GET" && req.method != "HEAD")
      return make_error(errc::unauthorized, "a JWT is accepted by read (GET) endpoints only; use the session token");
    auto id = svc.jwt.verify(*token, now_ms());
    if (!id) return id.err();
    return bearer{std::move(id->uid16), std::move(id->session_key)};
  }
  auto uid16 = user_id_of_token(*token);
  if (!uid16) return make_error(errc::unauthorized, "invalid session");
  return bearer{*uid16, sha256(*token)};
}

bool context::has_authorization() const {
  return lifted_authorization().has_value() || req.has_header("Authorization");
}

std::optional<std::string> context::admin_name() const {
  auto given = req.get_header_value("X-Admin-Key");
  if (given.empty()) return std::nullopt;
  // No early exit: the time taken does not say which key (if any) matched.
  std::optional<admin_key> match;
  size_t position = 0;
  for (auto& entry : svc.config.admin.keys) {
    auto k = parse_admin_key(entry, ++position);
    if (constant_time_equal(given, k.key) && !match) match = std::move(k);
  }
  if (!match) return std::nullopt;
  return std::move(match->name);
}

std::optional<std::string> admin_caller(context& c) {
  auto name = c.admin_name();
  if (!name) write_error(c.res, errc::unauthorized, "missing or wrong X-Admin-Key");
  return name;
}

std::optional<std::string> context::query(const std::string& name) const {
  if (!req.has_param(name.c_str())) return std::nullopt;
  return req.get_param_value(name.c_str());
}

result<int> context::int_query(const char* name, int fallback, int lo, int hi) const {
  auto v = query(name);
  if (!v) return fallback;
  // Plain decimal digits only (std::stoi alone would take " 7", "+7" or "7\n"
  // prefixes), at most 9 of them so the value fits an int.
  bool digits = !v->empty() && v->size() <= 9 &&
                std::all_of(v->begin(), v->end(), [](char ch) { return ch >= '0' && ch <= '9'; });
  if (digits) {
    int n = std::stoi(*v);
    if (n >= lo && n <= hi) return n;
  }
  error e = make_error(errc::invalid_request, "invalid query");
  e.fields[name] = "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  return e;
}

result<std::string> context::cursor() const {
  auto v = query("cursor");
  if (!v || v->empty()) return std::string();
  bool ok = v->size() <= 128 && std::all_of(v->begin(), v->end(), [](char ch) {
              return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
                     ch == '_';
            });
  if (ok) return *v;
  error e = make_error(errc::invalid_request, "invalid query");
  e.fields["cursor"] = "is not a cursor this server handed out";
  return e;
}

std::optional<std::string> context::uuid_param(const std::string& name) const {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return uuid_from_string(it->second);
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
