#pragma once
// The byte-level parts of reading a request, kept pure so that they can be
// tested and fuzzed without an HTTP server: the JSON object body and the
// bearer token of an Authorization header. http/json_body.cc calls these.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/errc.h"
#include "domain/validation.h"

namespace roster {

/// Who is calling, as the HTTP edge saw it: recorded in sessions and the
/// security log, and the key of per-address throttles.
struct client_info {
  std::string ip;
  std::string user_agent;
};

/// A request body as a JSON object: an error (invalid_request for bad UTF-8 or
/// a non-object, invalid_json for bad JSON or nesting deeper than
/// l.json_max_depth) otherwise. An empty body is `{}`. Never throws.
result<nlohmann::json> parse_json_object(std::string_view body, const limits& l = {});

/// The token of an `Authorization: Bearer <token>` header value, or nullopt if
/// the header is not of that form. Says nothing about the token itself.
std::optional<std::string_view> bearer_token(std::string_view authorization);

} // namespace roster
