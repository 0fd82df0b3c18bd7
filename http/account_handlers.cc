// Handlers for accounts, sessions and player profiles (SPEC §3, §4):
// validate the input, call the router or an account workflow, write the reply.
#include <algorithm>

#include "base/crypto.h"
#include "domain/codes.h"
#include "domain/mfa.h"
#include "domain/notifications.h"
#include "domain/throttle.h"
#include "domain/user_search.h"
#include "domain/validation.h"
#include "http/edge.h"
#include "http/errors.h"
#include "http/event_streams.h"
#include "http/routes.h"

namespace roster::http::handlers {

namespace {

/// `min` to `max` characters, each printable ASCII other than space: device
/// ids, custom ids and provider tokens, which are keys and credentials.
bool printable_ascii(std::string_view v, size_t min, size_t max) {
  return v.size() >= min && v.size() <= max &&
         std::all_of(v.begin(), v.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
}

using nlohmann::json;

bool only_fields(context& c, const json& body, std::initializer_list<const char*> allowed, error& e) {
  for (auto& item : body.items()) {
    // Not a structured binding: clang 14 cannot capture one in the lambda.
    const std::string& k = item.key();
    if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }))
      e.fields[k] = "unknown field";
  }
  (void)c;
  return e.fields.empty();
}

bool finish_validation(context& c, const error& e) {
  if (e.fields.empty()) return true;
  write_error(c.res, e);
  return false;
}

/// Runs a token operation for the caller and writes its reply: a view, or
/// 204 (no body) for the operations that answer with none.
template <class Op>
void with_user(context& c, Op op, int ok_status = 200) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto r = c.svc.route.call_user(who->uid16, std::move(op), who->token_hash, c.client);
  if constexpr (std::is_same_v<reply_of_t<Op>, view>) write_view(c.res, r, ok_status);
  else write_result(c.res, r, ok_status, [](auto&) { return std::string(); });
}

/// Counts `units` against the caller's address budget `w`; false (and a 429
/// with Retry-After written) when it is spent.
bool within(context& c, rate_window& w, int64_t units = 1) {
  auto wait = w.acquire(c.client.ip, now_ms(), units);
  if (wait == 0) return true;
  error e = make_error(errc::rate_limited, "too many requests from this address; slow down");
  e.retry_after = std::max<int64_t>(1, (wait + 999) / 1000);
  write_error(c.res, e);
  return false;
}

std::optional<std::string> optional_display_name(const json& body, error& e) {
  auto v = string_field(body, "display_name", e);
  if (v) {
    if (auto p = check_display_name(*v); !p.empty()) e.fields["display_name"] = p;
  }
  return v;
}

/// The caller's list with ?limit= and ?cursor=, both checked here so that no
/// malformed value reaches the actor (400 with `fields`).
template <class Op>
void paged_list(context& c) {
  auto limit = c.limit();
  if (!take(c, limit)) return;
  auto cursor = c.cursor();
  if (!take(c, cursor)) return;
  with_user(c, Op{static_cast<uint32_t>(*limit), *cursor});
}

/// A session id from the path: `current` or a UUID; anything else names no
/// session, so it is 404 like an unknown one (after the 401 for a missing
/// session) and goes no further.
std::optional<std::string> session_id(context& c) {
  if (auto who = c.auth(); !take(c, who)) return std::nullopt;
  if (c.params["id"] == "current") return std::string("current");
  auto raw = c.uuid_param("id");
  if (!raw) {
    write_error(c.res, errc::not_found, "session not found");
    return std::nullopt;
  }
  return uuid_to_string(*raw);
}

} // namespace

void register_account(context& c) {
  if (!within(c, c.svc.limits.registrations)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"email", "username", "password", "display_name", "metadata"}, e);
  registration in;
  in.email = string_field(*body, "email", e);
  in.username = string_field(*body, "username", e);
  auto password = string_field(*body, "password", e);
  in.display_name = optional_display_name(*body, e);
  if (in.email)
    if (auto p = check_email(*in.email); !p.empty()) e.fields["email"] = p;
  if (in.username)
    if (auto p = check_username(*in.username); !p.empty()) e.fields["username"] = p;
  if (password)
    if (auto p = check_password(*password); !p.empty()) e.fields["password"] = p;
  if (!in.email && !in.username && !e.fields.count("email") && !e.fields.count("username"))
    e.fields["email"] = "an email or a username is required";
  // Without a password the account is reached through its email (codes,
  // links): a username alone would be an account nobody can log into again.
  if (!password && !in.email && !e.fields.count("password")) e.fields["password"] = "required without an email";
  if (auto it = body->find("metadata"); it != body->end() && !it->is_null()) {
    if (auto p = check_metadata(*it); !p.empty()) e.fields["metadata"] = p;
    else in.metadata = *it;
  }
  if (!finish_validation(c, e)) return;
  in.password = password.value_or("");
  write_signed_in(c.res, c.svc.account.register_account(in, c.client), 201);
}

void login_password(context& c) {
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"login", "password"}, e);
  auto login = string_field(*body, "login", e, true);
  auto password = string_field(*body, "password", e, true);
  if (login && (login->empty() || login->size() > 254)) e.fields["login"] = "must be 1 to 254 characters";
  if (password && (password->empty() || password->size() > 256)) e.fields["password"] = "must be 1 to 256 bytes";
  if (!finish_validation(c, e)) return;
  write_signed_in(c.res, c.svc.account.password_login(*login, *password, c.client), 201);
}

void login_device(context& c) {
  if (!c.svc.config.auth.device_auth) {
    write_error(c.res, errc::forbidden, "device login is disabled on this server");
    return;
  }
  if (!within(c, c.svc.limits.device_logins)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"device_id", "display_name"}, e);
  auto device_id = string_field(*body, "device_id", e, true);
  auto display_name = optional_display_name(*body, e);
  if (device_id && !printable_ascii(*device_id, 8, 128))
    e.fields["device_id"] = "must be 8 to 128 printable ASCII characters";
  if (!finish_validation(c, e)) return;
  auto r = c.svc.account.device_login(*device_id, display_name, c.client);
  if (!r) return write_error(c.res, r.err());
  write_signed_in(c.res, r->in, 201, r->created);
}

namespace {

/// The start every code and link endpoint shares: the address's budget
/// (sends and checks alike), the caller's session when `signed_in`, the JSON
/// body with only `fields` in it. nullopt after answering 429/401/400.
struct code_call {
  std::optional<bearer> who;
  json body;
  error e = make_error(errc::invalid_request, "invalid fields");
};
std::optional<code_call> begin_code_call(context& c, std::initializer_list<const char*> fields, bool signed_in = false) {
  if (!within(c, c.svc.limits.code_sends)) return std::nullopt;
  code_call call;
  if (signed_in) {
    auto who = c.auth();
    if (!take(c, who)) return std::nullopt;
    call.who = std::move(*who);
  }
  auto body = c.body();
  if (!take(c, body)) return std::nullopt;
  call.body = std::move(*body);
  only_fields(c, call.body, fields, call.e);
  return call;
}

/// A checked field of a code request: `check` names the problem, if any.
template <class Check>
std::optional<std::string> checked(code_call& call, const char* name, Check check) {
  auto v = string_field(call.body, name, call.e, true);
  if (v)
    if (auto p = check(*v); !p.empty()) call.e.fields[name] = p;
  return v;
}
std::optional<std::string> email_of(code_call& call) {
  return checked(call, "email", [](const std::string& v) { return check_email(v); });
}
std::optional<std::string> phone_of(code_call& call) {
  return checked(call, "phone", [](const std::string& v) { return check_phone(v); });
}
std::optional<std::string> code_of_body(code_call& call) {
  return checked(call, "code", [](const std::string& v) {
    bool six = v.size() == 6 && std::all_of(v.begin(), v.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    return six ? std::string() : std::string("must be 6 digits");
  });
}
/// An optional `password` (proof for a sensitive change).
std::optional<std::string> password_of(code_call& call) {
  auto password = string_field(call.body, "password", call.e);
  if (password && (password->empty() || password->size() > 256)) call.e.fields["password"] = "must be 1 to 256 bytes";
  return password;
}

void write_code_login(context& c, const result<device_signed_in>& r) {
  if (!r) return write_error(c.res, r.err());
  write_signed_in(c.res, r->in, 201, r->created);
}

} // namespace

void send_email_code(context& c) {
  auto call = begin_code_call(c, {"email"});
  if (!call) return;
  auto email = email_of(*call);
  if (!finish_validation(c, call->e)) return;
  write_status(c.res, c.svc.account.send_login_code(*email), 202);
}

void login_email_code(context& c) {
  auto call = begin_code_call(c, {"email", "code"});
  if (!call) return;
  auto email = email_of(*call);
  auto code = code_of_body(*call);
  if (!finish_validation(c, call->e)) return;
  write_code_login(c, c.svc.account.email_code_login(*email, *code, c.client));
}

void send_phone_code(context& c) {
  auto call = begin_code_call(c, {"phone"});
  if (!call) return;
  auto phone = phone_of(*call);
  if (!finish_validation(c, call->e)) return;
  write_status(c.res, c.svc.account.send_phone_code(*phone), 202);
}

void login_phone_code(context& c) {
  auto call = begin_code_call(c, {"phone", "code"});
  if (!call) return;
  auto phone = phone_of(*call);
  auto code = code_of_body(*call);
  if (!finish_validation(c, call->e)) return;
  write_code_login(c, c.svc.account.phone_code_login(*phone, *code, c.client));
}

void send_magic_link(context& c) {
  auto call = begin_code_call(c, {"email", "redirect_url"});
  if (!call) return;
  auto email = email_of(*call);
  auto redirect = string_field(call->body, "redirect_url", call->e);
  if (redirect && !redirect_allowed(*redirect, c.svc.config.auth.redirect_allowlist))
    call->e.fields["redirect_url"] = "is not in auth.redirect_allowlist";
  if (!finish_validation(c, call->e)) return;
  auto query = redirect ? "&redirect_url=" + httplib::detail::encode_query_param(*redirect) : std::string();
  write_status(c.res, c.svc.account.send_magic_link(*email, query), 202);
}

void login_magic_link(context& c) {
  auto call = begin_code_call(c, {"token"});
  if (!call) return;
  auto token = checked(*call, "token", [](const std::string& v) {
    return v.size() == 43 && base64url_decode(v) ? std::string() : std::string("must be the link's 43-character token");
  });
  if (!finish_validation(c, call->e)) return;
  write_code_login(c, c.svc.account.magic_link_login(*token, c.client));
}

void send_verification(context& c) {
  if (!within(c, c.svc.limits.code_sends)) return;
  auto who = c.auth();
  if (!take(c, who)) return;
  write_status(c.res, c.svc.account.send_email_verification(who->uid16, who->token_hash, c.client), 202);
}

void confirm_verification(context& c) {
  auto call = begin_code_call(c, {"code"}, true);
  if (!call) return;
  auto code = code_of_body(*call);
  if (!finish_validation(c, call->e)) return;
  auto& who = *call->who;
  write_view(c.res, c.svc.account.confirm_email_verification(who.uid16, who.token_hash, *code, c.client));
}

void send_phone_verification(context& c) {
  auto call = begin_code_call(c, {"phone", "password"}, true);
  if (!call) return;
  auto phone = phone_of(*call);
  auto password = password_of(*call);
  if (!finish_validation(c, call->e)) return;
  auto& who = *call->who;
  write_status(c.res, c.svc.account.send_phone_verification(who.uid16, who.token_hash, *phone, password, c.client),
               202);
}

void confirm_phone_verification(context& c) {
  auto call = begin_code_call(c, {"phone", "code"}, true);
  if (!call) return;
  auto phone = phone_of(*call);
  auto code = code_of_body(*call);
  if (!finish_validation(c, call->e)) return;
  auto& who = *call->who;
  write_view(c.res, c.svc.account.confirm_phone_verification(who.uid16, who.token_hash, *phone, *code, c.client));
}

void request_email_change(context& c) {
  auto call = begin_code_call(c, {"email", "password"}, true);
  if (!call) return;
  auto email = email_of(*call);
  auto password = password_of(*call);
  if (!finish_validation(c, call->e)) return;
  auto& who = *call->who;
  write_status(c.res, c.svc.account.request_email_change(who.uid16, who.token_hash, *email, password, c.client), 202);
}

void confirm_email_change(context& c) {
  auto call = begin_code_call(c, {"email", "code"}, true);
  if (!call) return;
  auto email = email_of(*call);
  auto code = code_of_body(*call);
  if (!finish_validation(c, call->e)) return;
  auto& who = *call->who;
  write_view(c.res, c.svc.account.confirm_email_change(who.uid16, who.token_hash, *email, *code, c.client));
}

void send_recovery(context& c) {
  auto call = begin_code_call(c, {"email"});
  if (!call) return;
  auto email = email_of(*call);
  if (!finish_validation(c, call->e)) return;
  write_status(c.res, c.svc.account.send_recovery_code(*email), 202);
}

void confirm_recovery(context& c) {
  auto call = begin_code_call(c, {"email", "code", "new_password"});
  if (!call) return;
  auto email = email_of(*call);
  auto code = code_of_body(*call);
  auto password = checked(*call, "new_password", [](const std::string& v) { return check_password(v); });
  if (!finish_validation(c, call->e)) return;
  write_result(c.res, c.svc.account.recover(*email, *code, *password), 200,
               [](const revoked& r) { return json{{"sessions_revoked", r.count}}.dump(); });
}

void login_anonymous(context& c) {
  if (!within(c, c.svc.limits.anonymous_logins)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"display_name"}, e);
  auto display_name = optional_display_name(*body, e);
  if (!finish_validation(c, e)) return;
  write_signed_in(c.res, c.svc.account.anonymous_login(display_name, c.client), 201);
}

void get_account(context& c) { with_user(c, authenticate{}); }

void patch_account(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  auto patch = parse_profile_patch(*body, false);
  if (!take(c, patch)) return;
  write_view(c.res, c.svc.account.update_profile(who->uid16, who->token_hash, *patch, c.client));
}

void change_password(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"current_password", "new_password"}, e);
  auto current = string_field(*body, "current_password", e);
  auto next = string_field(*body, "new_password", e, true);
  if (next)
    if (auto p = check_password(*next); !p.empty()) e.fields["new_password"] = p;
  if (current && current->size() > 256) e.fields["current_password"] = "must be at most 256 bytes";
  if (!finish_validation(c, e)) return;
  write_result(c.res, c.svc.account.change_password(who->uid16, who->token_hash, current.value_or(""), *next, c.client),
               200, [](const revoked& r) { return json{{"sessions_revoked", r.count}}.dump(); });
}

void delete_account(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"password"}, e);
  auto password = string_field(*body, "password", e);
  if (password && password->size() > 256) e.fields["password"] = "must be at most 256 bytes";
  if (!finish_validation(c, e)) return;
  write_status(c.res, c.svc.account.delete_account(who->uid16, who->token_hash, password, c.client));
}

void list_sessions(context& c) { paged_list<roster::list_sessions>(c); }

void get_session(context& c) {
  auto id = session_id(c);
  if (!id) return;
  with_user(c, roster::get_session{*id});
}
void extend_session(context& c) { with_user(c, roster::extend_session{}); }
void delete_current_session(context& c) { with_user(c, revoke_session{"current"}, 204); }
void delete_session(context& c) {
  auto id = session_id(c);
  if (!id) return;
  with_user(c, revoke_session{*id}, 204);
}
void delete_all_sessions(context& c) { with_user(c, revoke_all_sessions{}, 204); }

// JWTs for game servers (service/jwt_service.h). Minting takes the session
// token (a JWT cannot mint another: auth() takes JWTs on GET only); the
// session and account are checked by the user actor (authenticate), whose
// answer names the session the token will carry as `sid`.
void mint_jwt(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto r = c.svc.route.call_user(who->uid16, authenticate{}, who->token_hash, c.client);
  if (!take(c, r)) return;
  // own_with_session ends the view with "session_id":"<uuid>",…
  constexpr std::string_view field = "\"session_id\":\"";
  auto at = r->json.rfind(field);
  if (at == std::string::npos || at + field.size() + 36 > r->json.size()) {
    write_error(c.res, errc::internal, "internal error");
    return;
  }
  auto sid = r->json.substr(at + field.size(), 36);
  auto m = c.svc.jwt.mint(uuid_to_string(who->uid16), sid, now_ms());
  if (!take(c, m)) return;
  c.res.set_header("Cache-Control", "no-store");
  write_json(c.res, 201, json{{"token", m->token}, {"expires_at", format_time(m->expires_at)}}.dump());
}

void jwks(context& c) {
  auto r = c.svc.jwt.jwks(now_ms());
  if (!take(c, r)) return;
  c.res.set_header("Cache-Control", "public, max-age=60");
  write_json(c.res, 200, *r);
}

void account_logs(context& c) { paged_list<get_logs>(c); }

void get_user(context& c) {
  auto uid16 = c.uuid_param("id");
  if (!uid16) {
    write_error(c.res, errc::not_found, "user not found");
    return;
  }
  write_view(c.res, c.svc.route.call_user(*uid16, get_public{}, {}, c.client));
}

void get_users(context& c) {
  auto ids = c.query("ids");
  auto names = c.query("usernames");
  if (!ids == !names) {
    error e = make_error(errc::invalid_request, "give exactly one of ?ids= or ?usernames=");
    e.fields[ids ? "usernames" : "ids"] = ids ? "cannot be combined with ids" : "ids or usernames is required";
    write_error(c.res, e);
    return;
  }
  std::vector<std::string> values;
  std::string_view list = ids ? *ids : *names;
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    if (!item.empty()) values.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  if (values.empty() || values.size() > 100) {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields[ids ? "ids" : "usernames"] = "must list 1 to 100 values";
    write_error(c.res, e);
    return;
  }
  // Looking names up is what GET /v1/usernames/{name} does: the same budget,
  // one unit per name (ids are random: nothing to enumerate).
  if (names && !within(c, c.svc.limits.username_lookups, static_cast<int64_t>(values.size()))) return;
  json items = json::array();
  for (auto& v : values) {
    std::optional<std::string> uid16;
    if (ids) {
      uid16 = uuid_from_string(v);
    } else if (check_username(v).empty()) {
      auto found = c.svc.route.call_index(lookup_key{username_key(v)});
      if (found) uid16 = uuid_from_string(found->user_id);
    }
    if (!uid16) continue;  // unknown users are omitted, not errors
    auto r = c.svc.route.call_user(*uid16, get_public{}, {}, c.client);
    if (r) items.push_back(json::parse(r->json));
  }
  write_json(c.res, 200, json{{"items", items}, {"next_cursor", nullptr}}.dump());
}

void search_players(context& c) {
  // Each search spends one unit of the username lookup budget: it reveals
  // names as GET /v1/usernames/{name} does, a page at a time.
  if (!within(c, c.svc.limits.username_lookups)) return;
  std::string problem;
  auto prefix = search_prefix(c.query("q").value_or(""), problem);
  if (!problem.empty()) {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields["q"] = problem;
    return write_error(c.res, e);
  }
  auto limit = c.limit();
  if (!take(c, limit)) return;
  auto cursor = c.cursor();
  if (!take(c, cursor)) return;
  // The cursor is the last tag of the previous page, base64url.
  std::string after;
  if (!cursor->empty()) {
    auto tag = base64url_decode(*cursor);
    std::string not_a_tag;
    // A tag this search can have handed out: folded, of the query's prefix.
    if (!tag || tag->rfind(prefix, 0) != 0 || search_prefix(*tag, not_a_tag) != *tag || !not_a_tag.empty()) {
      error e = make_error(errc::invalid_request, "invalid query");
      e.fields["cursor"] = "not a cursor of this search";
      return write_error(c.res, e);
    }
    after = *tag;
  }
  std::vector<std::string> missing;
  std::vector<username_hit> hits;
  auto want = static_cast<uint32_t>(*limit) + 1;
  for (auto& part : c.svc.route.scatter(search_usernames{prefix, after, want}, &missing))
    for (auto& item : part.items) {
      auto j = json::parse(item, nullptr, false);
      if (j.is_array() && j.size() == 2) hits.push_back({j[0].get<std::string>(), j[1].get<std::string>()});
    }
  auto page = merge_username_hits(std::move(hits), static_cast<size_t>(*limit));
  json items = json::array();
  for (auto& h : page.hits) {
    auto uid16 = uuid_from_string(h.user_id);
    if (!uid16) continue;
    // The public view only: never an email or another private field. A user
    // deleted since its entry was read is left out.
    auto r = c.svc.route.call_user(*uid16, get_public{}, {}, c.client);
    if (r) items.push_back(json::parse(r->json));
  }
  json out = {{"items", items},
              {"next_cursor", page.more ? json(base64url_encode(page.hits.back().tag)) : json(nullptr)},
              {"partial", !missing.empty()}};
  write_json(c.res, 200, out.dump());
}

void username_available(context& c) {
  if (!within(c, c.svc.limits.username_lookups)) return;
  auto name = c.params["name"];
  if (auto p = check_username(name); !p.empty()) {
    error e = make_error(errc::invalid_request, "invalid username");
    e.fields["name"] = p;
    write_error(c.res, e);
    return;
  }
  auto found = c.svc.route.call_index(lookup_key{username_key(name)});
  if (!found && found.err().code != errc::not_found) return write_error(c.res, found.err());
  write_json(c.res, 200, json{{"username", name}, {"available", !found}}.dump());
}

} // namespace roster::http::handlers

// -- notifications and live events (SPEC §4) ---------------------------------------

namespace roster::http::handlers {

namespace {

/// A notification id from the path or a body: its sequence number.
std::optional<uint64_t> notification_id(std::string_view s) {
  auto v = parse_last_event_id(s);
  if (!v || *v == 0) return std::nullopt;
  return v;
}

} // namespace

void list_notifications(context& c) { paged_list<roster::list_notifications>(c); }

void read_notifications(context& c) {
  if (auto who = c.auth(); !take(c, who)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid request");
  if (!only_fields(c, *body, {"ids", "all"}, e)) return finish_validation(c, e), void();
  roster::read_notifications op;
  auto all = body->find("all");
  auto ids = body->find("ids");
  if (all != body->end() && !all->is_boolean()) e.fields["all"] = "must be a boolean";
  else if (all != body->end()) op.all = all->get<bool>();
  if (ids != body->end()) {
    if (!ids->is_array() || ids->size() > 1000) e.fields["ids"] = "must be an array of at most 1000 notification ids";
    else
      for (auto& id : *ids) {
        auto v = id.is_string() ? notification_id(id.get<std::string>()) : std::nullopt;
        if (!v) {
          e.fields["ids"] = "must hold notification ids (strings of digits)";
          break;
        }
        op.ids.push_back(*v);
      }
  }
  if (e.fields.empty() && op.all == (ids != body->end() && !ids->empty()))
    e.fields[op.all ? "ids" : "all"] = "give either ids or all: true";
  if (!finish_validation(c, e)) return;
  with_user(c, std::move(op));
}

void delete_notification(context& c) {
  if (auto who = c.auth(); !take(c, who)) return;
  auto id = notification_id(c.params["id"]);
  if (!id) return write_error(c.res, errc::not_found, "notification not found");
  with_user(c, roster::delete_notification{*id}, 204);
}

void events_ticket(context& c) { with_user(c, roster::events_ticket{}, 201); }

// GET /v1/events: authenticated by the token or a ticket, subscribed at the
// user's actor, then the socket goes to the node's event streams
// (http/event_streams.h) and this worker is free.
void events(context& c) {
  std::string uid16, token_hash, ticket_hash;
  if (auto ticket = c.query("ticket")) {
    auto uid = user_id_of_token(*ticket);
    if (!uid) return write_error(c.res, errc::unauthorized, "invalid or expired ticket");
    uid16 = *uid;
    ticket_hash = sha256(*ticket);
  } else {
    auto who = c.auth();
    if (!take(c, who)) return;
    uid16 = who->uid16;
    token_hash = who->token_hash;
  }
  // The HTTPS front end keeps httplib's connection loop: no hand-over, so
  // refuse before anything is spent (a ticket is single use).
  if (!can_take_connection())
    return write_error(c.res, errc::invalid_request,
                       "event streams are served on the node's plain HTTP listener; terminate TLS in front of it");
  uint64_t last = no_last_event;
  auto resume = c.req.get_header_value("Last-Event-ID");
  if (resume.empty()) resume = c.query("last_event_id").value_or("");
  if (!resume.empty()) {
    auto v = parse_last_event_id(resume);
    if (!v) {
      error e = make_error(errc::invalid_request, "invalid Last-Event-ID");
      e.fields["last_event_id"] = "must be the id of an event this server sent";
      return write_error(c.res, e);
    }
    last = *v;
  }
  auto& hub = c.svc.streams;
  auto id = hub.reserve(uid16, c.client.ip);
  if (id == 0) {
    error e = make_error(errc::rate_limited, "this node serves as many event streams as it may; try again later");
    e.retry_after = 5;
    return write_error(c.res, e);
  }
  auto sub = c.svc.route.call_user(uid16, subscribe{hub.relay(), id, last, ticket_hash, {}}, token_hash, c.client);
  if (!sub) {
    hub.cancel(id);
    return write_error(c.res, sub.err());
  }
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-store\r\n"
                     "Connection: keep-alive\r\nX-Accel-Buffering: no\r\n";
  for (auto& [k, v] : c.res.headers) head += k + ": " + v + "\r\n";  // X-Request-Id, CORS
  head += "\r\nretry: 2000\n: connected\n\n" + sub->replay;
  auto* streams = &hub;
  take_connection([streams, id, head = std::move(head), session = sub->session_id, at = sub->last_seq,
                   source = sub->source](int fd) mutable {
    streams->attach(id, fd, std::move(head), std::move(session), at, std::move(source));
  });
  c.res.status = 200;
}

// -- linked identities and prefs (issue "Every way in, part 2") ---------------

namespace {

/// A provider token from the body: 1 to 8192 printable ASCII characters.
std::optional<std::string> provider_token(code_call& call) {
  return checked(call, "token", [](const std::string& v) {
    return printable_ascii(v, 1, 8192) ? std::string() : std::string("must be 1 to 8192 printable ASCII characters");
  });
}

/// The {provider} path parameter, or nullopt after a 404.
std::optional<std::string> provider_param(context& c) {
  auto p = c.params["provider"];
  if (known_provider(p)) return p;
  write_error(c.res, errc::not_found, "no such provider");
  return std::nullopt;
}

} // namespace

void login_provider(context& c) {
  auto provider = provider_param(c);
  if (!provider) return;
  if (!within(c, c.svc.limits.device_logins)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  code_call call{std::nullopt, std::move(*body)};
  only_fields(c, call.body, {"token"}, call.e);
  auto token = provider_token(call);
  if (!finish_validation(c, call.e)) return;
  auto id = c.svc.identity.verify(*provider, *token);
  if (!id) return write_error(c.res, id.err());
  write_code_login(c, c.svc.account.provider_login(*id, c.client));
}

void login_custom(context& c) {
  if (!c.is_admin()) return write_error(c.res, errc::unauthorized, "missing or wrong X-Admin-Key");
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"custom_id", "display_name"}, e);
  auto custom_id = string_field(*body, "custom_id", e, true);
  if (custom_id && !printable_ascii(*custom_id, 1, 128))
    e.fields["custom_id"] = "must be 1 to 128 printable ASCII characters";
  auto display_name = optional_display_name(*body, e);
  if (!finish_validation(c, e)) return;
  write_code_login(c, c.svc.account.custom_login(*custom_id, display_name, c.client));
}

void list_identities(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto me = c.svc.route.call_user(who->uid16, authenticate{}, who->token_hash, c.client);
  if (!me) return write_error(c.res, me.err());
  auto j = json::parse(me->json, nullptr, false);
  json identities = j.is_object() && j.contains("identities") ? j["identities"] : json::array();
  write_json(c.res, 200, json{{"identities", identities}}.dump());
}

void link_identity(context& c) {
  auto kind = c.params["kind"];
  if (kind == "email") return request_email_change(c);
  if (kind == "phone") return send_phone_verification(c);
  bool provider = known_provider(kind);
  if (kind != "device" && !provider) {
    if (kind == "custom") return write_error(c.res, errc::invalid_request, "custom ids are linked by POST /v1/sessions/custom");
    return write_error(c.res, errc::not_found, "no such identity kind");
  }
  auto who = c.auth();
  if (!take(c, who)) return;
  if (!within(c, c.svc.limits.device_logins)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  code_call call{std::nullopt, std::move(*body)};
  std::string key;
  auto password = password_of(call);
  if (provider) {
    only_fields(c, call.body, {"token", "password"}, call.e);
    auto token = provider_token(call);
    if (!finish_validation(c, call.e)) return;
    auto id = c.svc.identity.verify(kind, *token);
    if (!id) return write_error(c.res, id.err());
    key = provider_key(id->provider, id->subject);
  } else {
    only_fields(c, call.body, {"device_id", "password"}, call.e);
    auto device_id = checked(call, "device_id", [](const std::string& v) {
      return printable_ascii(v, 8, 128) ? std::string() : std::string("must be 8 to 128 printable ASCII characters");
    });
    if (!finish_validation(c, call.e)) return;
    key = device_key(*device_id);
  }
  write_view(c.res, c.svc.account.link_identity(who->uid16, who->token_hash, key, password, c.client));
}

void unlink_identity(context& c) {
  auto kind = c.params["kind"];
  if (kind != "email" && kind != "phone" && kind != "device" && kind != "custom" && !known_provider(kind))
    return write_error(c.res, errc::not_found, "no such identity kind");
  auto who = c.auth();
  if (!take(c, who)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"password", "device_id"}, e);
  auto password = string_field(*body, "password", e);
  if (password && (password->empty() || password->size() > 256)) e.fields["password"] = "must be 1 to 256 bytes";
  auto device_id = string_field(*body, "device_id", e, kind == "device");
  if (device_id && kind != "device") e.fields["device_id"] = "only for kind device";
  if (!finish_validation(c, e)) return;
  write_view(c.res, c.svc.account.unlink_identity(who->uid16, who->token_hash, kind, device_id.value_or(""), password,
                                                  c.client));
}

void get_prefs(context& c) { with_user(c, roster::get_prefs{}); }

void put_prefs(context& c) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto body = c.body();
  if (!take(c, body)) return;
  if (auto p = check_prefs(*body); !p.empty()) {
    error e = make_error(errc::invalid_request, "invalid prefs");
    e.fields["prefs"] = p;
    return write_error(c.res, e);
  }
  write_view(c.res, c.svc.route.call_user(who->uid16, roster::put_prefs{body->dump()}, who->token_hash, c.client));
}

// -- MFA --------------------------------------------------------------------------------

namespace {

/// The start of an MFA enrolment call: the caller's session and a body
/// with only `fields` (an optional `password` among them: the proof of the
/// sudo rule). nullopt after answering 401/400.
struct mfa_call {
  bearer who;
  json body;
  std::optional<std::string> password;
  error e = make_error(errc::invalid_request, "invalid fields");
};
std::optional<mfa_call> begin_mfa_call(context& c, std::initializer_list<const char*> fields) {
  auto who = c.auth();
  if (!take(c, who)) return std::nullopt;
  mfa_call call;
  call.who = std::move(*who);
  if (!c.req.body.empty()) {
    auto body = c.body();
    if (!take(c, body)) return std::nullopt;
    call.body = std::move(*body);
  } else {
    call.body = json::object();
  }
  only_fields(c, call.body, fields, call.e);
  call.password = string_field(call.body, "password", call.e);
  if (call.password && (call.password->empty() || call.password->size() > 256))
    call.e.fields["password"] = "must be 1 to 256 bytes";
  return call;
}

std::string recovery_codes_json(const std::vector<std::string>& codes) {
  return json{{"recovery_codes", codes}}.dump();
}

} // namespace

void mfa_enroll(context& c) {
  auto call = begin_mfa_call(c, {"password"});
  if (!call || !finish_validation(c, call->e)) return;
  write_view(c.res, c.svc.account.mfa_enroll(call->who.uid16, call->who.token_hash, call->password, c.client), 201);
}

void mfa_confirm(context& c) {
  auto call = begin_mfa_call(c, {"code", "password"});
  if (!call) return;
  auto code = string_field(call->body, "code", call->e, true);
  if (code && !mfa::well_formed_totp(*code)) call->e.fields["code"] = "must be 6 digits";
  if (!finish_validation(c, call->e)) return;
  write_result(c.res, c.svc.account.mfa_confirm(call->who.uid16, call->who.token_hash, *code, call->password, c.client),
               200, recovery_codes_json);
}

void mfa_disable(context& c) {
  auto call = begin_mfa_call(c, {"password"});
  if (!call || !finish_validation(c, call->e)) return;
  write_status(c.res, c.svc.account.mfa_disable(call->who.uid16, call->who.token_hash, call->password, c.client));
}

void mfa_recovery_codes(context& c) {
  auto call = begin_mfa_call(c, {"password"});
  if (!call || !finish_validation(c, call->e)) return;
  write_result(c.res, c.svc.account.mfa_regenerate(call->who.uid16, call->who.token_hash, call->password, c.client),
               200, recovery_codes_json);
}

void login_mfa(context& c) {
  auto body = c.body();
  if (!take(c, body)) return;
  error e = make_error(errc::invalid_request, "invalid fields");
  only_fields(c, *body, {"challenge_id", "code", "recovery_code"}, e);
  auto challenge = string_field(*body, "challenge_id", e, true);
  auto code = string_field(*body, "code", e);
  auto recovery = string_field(*body, "recovery_code", e);
  if (challenge && (challenge->empty() || challenge->size() > 128)) e.fields["challenge_id"] = "is not a challenge id";
  if (code && recovery) e.fields["recovery_code"] = "send either code or recovery_code";
  else if (!code && !recovery && !e.fields.count("code") && !e.fields.count("recovery_code"))
    e.fields["code"] = "code or recovery_code is required";
  if (code && !mfa::well_formed_totp(*code)) e.fields["code"] = "must be 6 digits";
  if (recovery && (recovery->empty() || recovery->size() > 64)) e.fields["recovery_code"] = "must be 1 to 64 bytes";
  if (!finish_validation(c, e)) return;
  write_signed_in(c.res, c.svc.account.mfa_login(*challenge, code, recovery, c.client), 201);
}

} // namespace roster::http::handlers
