#include "cluster/node_protocol.h"

#include <nlohmann/json.hpp>

namespace roster {

reply ok_reply(std::string body) { return reply{static_cast<uint8_t>(errc::ok), std::move(body), 0}; }

reply error_reply(const error& e) {
  nlohmann::json j = {{"message", e.message}};
  if (!e.fields.empty()) j["fields"] = e.fields;
  return reply{static_cast<uint8_t>(e.code), j.dump(), e.retry_after};
}

reply error_reply(errc code, std::string message) { return error_reply(make_error(code, std::move(message))); }

error error_of(const reply& r) {
  error e;
  e.code = r.error_code();
  e.retry_after = r.retry_after;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object()) {
    if (j.contains("message") && j["message"].is_string()) e.message = j["message"];
    if (j.contains("fields") && j["fields"].is_object())
      for (auto& [k, v] : j["fields"].items())
        if (v.is_string()) e.fields[k] = v.get<std::string>();
  }
  return e;
}

} // namespace roster
