#pragma once
// What a handler gets: the parsed request, its path parameters, the services
// it may call (router, account workflows, operator views, membership and
// online backup: handlers never touch the store), and helpers for the SPEC §2
// conventions.
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cluster/backup.h"
#include "cluster/membership.h"
#include "cluster/operator_views.h"
#include "cluster/router.h"
#include "service/accounts.h"
#include "service/jwt_service.h"
#include "config/config.h"
#include "base/errc.h"
#include "domain/throttle.h"
#include "service/providers.h"
#include "http/errors.h"

namespace roster::http {

class metrics;
class event_streams;

struct services {
  router& route;
  accounts& account;
  operator_views& views;    // /debug, /metrics, /readyz
  membership& members;      // cluster leave
  online_backup& backup;    // POST /v1/admin/backup
  const node_config& config;
  metrics& stats;
  address_limits& limits;  // per client IP request budgets ([limits])
  event_streams& streams;  // GET /v1/events
  providers& identity;     // login providers (POST /v1/sessions/provider/{p}, identity links)
  jwt_service& jwt;        // POST /v1/sessions/jwt, /.well-known/jwks.json, Bearer JWTs
};

/// The caller's session: the user id carried by the token and the token's hash
/// (for a JWT: jwt_session_key of its session, domain/session_book.h).
struct bearer {
  std::string uid16;
  std::string token_hash;
};

/// True for "application/json", in any case, with or without parameters
/// ("; charset=utf-8"): the only media type of a request body (else 415).
bool is_json_media_type(std::string_view content_type);

struct context {
  const httplib::Request& req;
  httplib::Response& res;
  services& svc;
  std::map<std::string, std::string> params;  // path parameters ({id} → value)
  client_info client;

  /// The JSON object body; an error (invalid_json, invalid_request,
  /// unsupported_media_type) if it is not one. An empty body is `{}`.
  result<nlohmann::json> body() const;
  /// The bearer token of the Authorization header, or unauthorized. A JWT
  /// (a token with dots) is accepted on GET requests only (401 otherwise),
  /// after its signature, alg, kid and exp are checked (service/jwt_service.h);
  /// its session and account are then checked by the user actor like a
  /// session token's.
  result<bearer> auth() const;
  /// True if the request carries an Authorization header at all (whatever
  /// its form): reads open to anyone are anonymous only without one.
  bool has_authorization() const;
  /// True if X-Admin-Key matches a configured key (constant-time).
  bool is_admin() const { return admin_name().has_value(); }
  /// The name of the admin key X-Admin-Key matches (config/config.h
  /// parse_admin_key: "name" of a "name:key" entry, "key-<position>" of a
  /// plain one), or nullopt. Every key is compared, in constant time each,
  /// whichever matches. What a handler records as "who acted"; the key
  /// itself never leaves this function.
  std::optional<std::string> admin_name() const;
  /// A query parameter, if present.
  std::optional<std::string> query(const std::string& name) const;
  /// An integer query parameter in [lo, hi] (`fallback` when absent), or an
  /// invalid_request error naming it.
  result<int> int_query(const char* name, int fallback, int lo, int hi) const;
  /// ?limit= (default 50, 1..200) or an error.
  result<int> limit() const { return int_query("limit", 50, 1, 200); }
  /// ?cursor=: empty when absent; otherwise 1..128 base64url characters (the
  /// form of every cursor we hand out), or an invalid_request error naming it.
  result<std::string> cursor() const;
  /// The path parameter `name` as a lowercase UUID's 16 raw bytes, or nullopt
  /// (anything else: a wrong form, invalid UTF-8, NUL bytes names nothing → 404).
  std::optional<std::string> uuid_param(const std::string& name) const;
};

using handler = void (*)(context&);

/// Reads a string field: absent → nullopt; wrong type → records a field error.
std::optional<std::string> string_field(const nlohmann::json& body, const char* name, error& e, bool required = false);

/// The name of the admin key the request carries (what a change records as
/// who made it), or nullopt after answering 401.
std::optional<std::string> admin_caller(context& c);
/// True for a request with an admin key; else answers 401.
inline bool admin_only(context& c) { return admin_caller(c).has_value(); }

/// Unwraps a result, or writes its error and returns false.
template <class T>
bool take(context& c, result<T>& r) {
  if (r) return true;
  write_error(c.res, r.err());
  return false;
}

} // namespace roster::http
