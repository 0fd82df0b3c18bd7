#include "domain/request.h"

namespace roster {

result<nlohmann::json> parse_json_object(std::string_view body, const limits& l) {
  if (body.empty()) return nlohmann::json::object();
  if (!valid_utf8(body)) return make_error(errc::invalid_request, "body is not valid UTF-8");
  // Checked before parsing: nlohmann's parser recurses once per level.
  if (json_depth(body) > l.json_max_depth)
    return make_error(errc::invalid_json, "JSON nested too deeply (limit " + std::to_string(l.json_max_depth) + ")");
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return make_error(errc::invalid_json, "body is not valid JSON");
  if (!j.is_object()) return make_error(errc::invalid_request, "body must be a JSON object");
  return j;
}

std::optional<std::string_view> bearer_token(std::string_view h) {
  constexpr std::string_view scheme = "Bearer ";
  if (h.size() <= scheme.size() || h.substr(0, scheme.size()) != scheme) return std::nullopt;
  return h.substr(scheme.size());
}

} // namespace roster
