#include "config/config.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <utility>
#include <toml++/toml.h>

#include "base/crypto.h"
#include "domain/events.h"

extern char** environ;

namespace roster {

namespace {

enum class kind { string, integer, boolean, duration, string_list };

struct key_def {
  std::string name;
  kind type;
  // value: std::string / int64_t / bool / millis / vector. False if the value
  // does not fit the field (an int64_t for an int field).
  std::function<bool(node_config&, const void*)> set;
};

#define ROSTER_KEY(NAME, KIND, TYPE, FIELD)                             \
  key_def{NAME, kind::KIND, [](node_config& c, const void* v) {          \
            const TYPE& x = *static_cast<const TYPE*>(v);                \
            c.FIELD = static_cast<decltype(c.FIELD)>(x);                 \
            return static_cast<TYPE>(c.FIELD) == x;                      \
          }}

using str = std::string;
using strs = std::vector<std::string>;

/// `table` plus templates.<kind>.{subject,text,html} for every message kind.
std::vector<key_def> with_template_keys(std::vector<key_def> table) {
  for (auto& message : message_kinds())
    for (auto [field, member] : {std::pair{"subject", &message_template::subject},
                                 std::pair{"text", &message_template::text}, std::pair{"html", &message_template::html}})
      table.push_back(key_def{"templates." + message + "." + field, kind::string,
                              [message = message, member = member](node_config& c, const void* v) {
                                c.templates[message].*member = *static_cast<const std::string*>(v);
                                return true;
                              }});
  return table;
}

const std::vector<key_def>& key_table() {
  static const std::vector<key_def> table = with_template_keys({
    ROSTER_KEY("node_name", string, str, node_name),
    ROSTER_KEY("log_level", string, str, log_level),
    ROSTER_KEY("http.listen", string, str, http.listen),
    ROSTER_KEY("http.threads", integer, int64_t, http.threads),
    ROSTER_KEY("http.max_body_bytes", integer, int64_t, http.max_body_bytes),
    ROSTER_KEY("http.tls_cert", string, str, http.tls_cert),
    ROSTER_KEY("http.tls_key", string, str, http.tls_key),
    ROSTER_KEY("http.cors_origins", string_list, strs, http.cors_origins),
    ROSTER_KEY("http.head_timeout", duration, millis, http.head_timeout),
    ROSTER_KEY("http.max_connections", integer, int64_t, http.max_connections),
    ROSTER_KEY("http.max_connections_per_address", integer, int64_t, http.max_connections_per_address),
    ROSTER_KEY("store.data_dir", string, str, store.data_dir),
    ROSTER_KEY("store.sync_writes", boolean, bool, store.sync_writes),
    ROSTER_KEY("admin.keys", string_list, strs, admin.keys),
    ROSTER_KEY("admin.backup_root", string, str, admin.backup_root),
    ROSTER_KEY("auth.link_base_url", string, str, auth.link_base_url),
    ROSTER_KEY("auth.redirect_allowlist", string_list, strs, auth.redirect_allowlist),
    ROSTER_KEY("auth.code_send_per_minute", integer, int64_t, auth.code_send_per_minute),
    ROSTER_KEY("auth.code_send_per_hour", integer, int64_t, auth.code_send_per_hour),
    ROSTER_KEY("auth.code_ttl", duration, millis, auth.code_ttl),
    ROSTER_KEY("auth.device_auth", boolean, bool, auth.device_auth),
    ROSTER_KEY("auth.require_activation", boolean, bool, auth.require_activation),
    ROSTER_KEY("auth.require_verified_email", boolean, bool, auth.require_verified_email),
    ROSTER_KEY("auth.session_ttl", duration, millis, auth.session_ttl),
    ROSTER_KEY("auth.session_idle_ttl", duration, millis, auth.session_idle_ttl),
    ROSTER_KEY("auth.sudo_window", duration, millis, auth.sudo_window),
    ROSTER_KEY("auth.max_failed_logins", integer, int64_t, auth.max_failed_logins),
    ROSTER_KEY("auth.failed_login_window", duration, millis, auth.failed_login_window),
    ROSTER_KEY("auth.argon2_memory_kib", integer, int64_t, auth.argon2_memory_kib),
    ROSTER_KEY("auth.argon2_iterations", integer, int64_t, auth.argon2_iterations),
    ROSTER_KEY("auth.argon2_parallelism", integer, int64_t, auth.argon2_parallelism),
    ROSTER_KEY("auth.mfa_challenge_ttl", duration, millis, auth.mfa_challenge_ttl),
    ROSTER_KEY("auth.mfa_issuer", string, str, auth.mfa_issuer),
    ROSTER_KEY("jwt.ttl", duration, millis, jwt.ttl),
    ROSTER_KEY("jwt.key_file", string, str, jwt.key_file),
    ROSTER_KEY("providers.google.client_ids", string_list, strs, providers.google.client_ids),
    ROSTER_KEY("providers.google.issuer", string, str, providers.google.issuer),
    ROSTER_KEY("providers.google.jwks_url", string, str, providers.google.jwks_url),
    ROSTER_KEY("providers.apple.client_ids", string_list, strs, providers.apple.client_ids),
    ROSTER_KEY("providers.apple.issuer", string, str, providers.apple.issuer),
    ROSTER_KEY("providers.apple.jwks_url", string, str, providers.apple.jwks_url),
    ROSTER_KEY("providers.steam.app_id", string, str, providers.steam_app_id),
    ROSTER_KEY("providers.steam.web_api_key", string, str, providers.steam_web_api_key),
    ROSTER_KEY("providers.steam.api_url", string, str, providers.steam_api_url),
    ROSTER_KEY("providers.discord.api_url", string, str, providers.discord_api_url),
    ROSTER_KEY("providers.discord.client_id", string, str, providers.discord_client_id),
    ROSTER_KEY("providers.facebook.app_id", string, str, providers.facebook_app_id),
    ROSTER_KEY("providers.facebook.app_secret", string, str, providers.facebook_app_secret),
    ROSTER_KEY("providers.facebook.graph_url", string, str, providers.facebook_graph_url),
    ROSTER_KEY("providers.jwks_refetch_interval", duration, millis, providers.jwks_refetch_interval),
    ROSTER_KEY("mail.sender", string, str, mail.sender),
    ROSTER_KEY("mail.smtp_url", string, str, mail.smtp_url),
    ROSTER_KEY("mail.smtp_user", string, str, mail.smtp_user),
    ROSTER_KEY("mail.smtp_password", string, str, mail.smtp_password),
    ROSTER_KEY("mail.from", string, str, mail.from),
    ROSTER_KEY("mail.smtp_ca_file", string, str, mail.smtp_ca_file),
    ROSTER_KEY("outbox.max_attempts", integer, int64_t, outbox.max_attempts),
    ROSTER_KEY("outbox.backoff_initial", duration, millis, outbox.backoff_initial),
    ROSTER_KEY("outbox.backoff_max", duration, millis, outbox.backoff_max),
    ROSTER_KEY("outbox.in_flight", integer, int64_t, outbox.in_flight),
    ROSTER_KEY("notifications.keep_per_user", integer, int64_t, notifications.keep_per_user),
    ROSTER_KEY("sms.sender", string, str, sms.sender),
    ROSTER_KEY("sms.webhook_url", string, str, sms.webhook_url),
    ROSTER_KEY("webhooks.urls", string_list, strs, webhooks.urls),
    ROSTER_KEY("webhooks.secret", string, str, webhooks.secret),
    ROSTER_KEY("webhooks.events", string_list, strs, webhooks.events),
    ROSTER_KEY("moderation.flag_distinct_reporters", integer, int64_t, moderation.flag_distinct_reporters),
    ROSTER_KEY("moderation.flag_window", duration, millis, moderation.flag_window),
    ROSTER_KEY("moderation.reports_per_minute", integer, int64_t, moderation.reports_per_minute),
    ROSTER_KEY("social.max_friends", integer, int64_t, social.max_friends),
    ROSTER_KEY("limits.registrations_per_minute", integer, int64_t, limits.registrations_per_minute),
    ROSTER_KEY("limits.code_sends_per_minute", integer, int64_t, limits.code_sends_per_minute),
    ROSTER_KEY("limits.device_logins_per_minute", integer, int64_t, limits.device_logins_per_minute),
    ROSTER_KEY("limits.anonymous_logins_per_minute", integer, int64_t, limits.anonymous_logins_per_minute),
    ROSTER_KEY("limits.username_lookups_per_minute", integer, int64_t, limits.username_lookups_per_minute),
    ROSTER_KEY("actors.idle_passivation", duration, millis, actors.idle_passivation),
    ROSTER_KEY("cluster.listen", string, str, cluster.listen),
    ROSTER_KEY("cluster.seeds", string_list, strs, cluster.seeds),
    ROSTER_KEY("cluster.partitions", integer, int64_t, cluster.partitions),
    ROSTER_KEY("cluster.secret", string, str, cluster.secret),
    ROSTER_KEY("cluster.tls_cert", string, str, cluster.tls_cert),
    ROSTER_KEY("cluster.tls_key", string, str, cluster.tls_key),
    ROSTER_KEY("cluster.tls_ca", string, str, cluster.tls_ca),
    ROSTER_KEY("cluster.insecure", boolean, bool, cluster.insecure),
    ROSTER_KEY("cluster.max_connections", integer, int64_t, cluster.max_connections),
    ROSTER_KEY("cluster.handshake_timeout", duration, millis, cluster.handshake_timeout),
  });
  return table;
}
#undef ROSTER_KEY

const key_def* find_key(const std::string& name) {
  for (auto& k : key_table())
    if (k.name == name) return &k;
  return nullptr;
}

std::string env_name(const std::string& key) {
  std::string out = "ROSTER_";
  for (char c : key) out.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

/// Applies a textual value (environment or flag).
status apply_text(node_config& c, const key_def& k, const std::string& text, const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_request, origin + ": bad value for " + k.name + ": " + why);
  };
  switch (k.type) {
    case kind::string: k.set(c, &text); return {};
    case kind::integer: {
      try {
        size_t pos = 0;
        int64_t v = std::stoll(text, &pos);
        if (pos != text.size()) return bad("not an integer");
        if (!k.set(c, &v)) return bad("out of range");
        return {};
      } catch (...) {
        return bad("not an integer");
      }
    }
    case kind::boolean: {
      bool v;
      if (text == "true" || text == "1" || text == "yes") v = true;
      else if (text == "false" || text == "0" || text == "no") v = false;
      else return bad("not a boolean (true/false)");
      k.set(c, &v);
      return {};
    }
    case kind::duration: {
      auto d = parse_duration(text);
      if (!d) return bad("not a duration (e.g. 30d, 20m, 90s)");
      k.set(c, &*d);
      return {};
    }
    case kind::string_list: {
      std::vector<std::string> v;
      size_t start = 0;
      while (start <= text.size() && !text.empty()) {
        auto comma = text.find(',', start);
        auto item = trim(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!item.empty()) v.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      k.set(c, &v);
      return {};
    }
  }
  return {};
}

status apply_toml(node_config& c, const key_def& k, const toml::node& n, const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return make_error(errc::invalid_request, origin + ": bad value for " + k.name + ": " + why);
  };
  switch (k.type) {
    case kind::string:
      if (auto v = n.value_exact<std::string>()) { k.set(c, &*v); return {}; }
      return bad("expected a string");
    case kind::integer:
      if (auto v = n.value_exact<int64_t>()) {
        if (!k.set(c, &*v)) return bad("out of range");
        return {};
      }
      return bad("expected an integer");
    case kind::boolean:
      if (auto v = n.value_exact<bool>()) { k.set(c, &*v); return {}; }
      return bad("expected true or false");
    case kind::duration:
      if (auto v = n.value_exact<std::string>()) return apply_text(c, k, *v, origin);
      return bad("expected a duration string such as \"20m\"");
    case kind::string_list: {
      auto arr = n.as_array();
      if (!arr) return bad("expected an array of strings");
      std::vector<std::string> v;
      for (auto& item : *arr) {
        auto s = item.value_exact<std::string>();
        if (!s) return bad("expected an array of strings");
        v.push_back(*s);
      }
      k.set(c, &v);
      return {};
    }
  }
  return {};
}

status walk_table(node_config& c, const toml::table& t, const std::string& prefix, const std::string& origin) {
  for (auto& [key, node] : t) {
    std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (auto sub = node.as_table()) {
      auto st = walk_table(c, *sub, name, origin);
      if (!st) return st;
      continue;
    }
    auto def = find_key(name);
    if (!def) return make_error(errc::invalid_request, origin + ": unknown key " + name);
    auto st = apply_toml(c, *def, node, origin);
    if (!st) return st;
  }
  return {};
}

status validate(const node_config& c) {
  auto bad = [](const std::string& key, const std::string& why) {
    return make_error(errc::invalid_request, "bad value for " + key + ": " + why);
  };
  if (c.http.threads < 2 || c.http.threads > 10000) return bad("http.threads", "must be 2..10000");
  if (c.http.max_body_bytes < 1024 || c.http.max_body_bytes > (64LL << 20))
    return bad("http.max_body_bytes", "must be 1024..67108864");
  if (c.http.listen.find(':') == std::string::npos) return bad("http.listen", "must be host:port");
  if (c.http.tls_cert.empty() != c.http.tls_key.empty())
    return bad("http.tls_cert", "http.tls_cert and http.tls_key must be set together");
  if (c.store.data_dir.empty()) return bad("store.data_dir", "must not be empty");
  if (c.admin.keys.empty()) return bad("admin.keys", "at least one admin key is required (or --admin-key)");
  std::vector<admin_key> admin_keys;
  for (auto& entry : c.admin.keys) {
    auto k = parse_admin_key(entry, admin_keys.size() + 1);
    if (k.key.size() < 16) return bad("admin.keys", "each key must be at least 16 characters");
    for (auto& other : admin_keys)
      if (other.name == k.name || other.key == k.key)
        return bad("admin.keys", "two entries share the name " + k.name + " or a key; names and keys must be unique");
    admin_keys.push_back(std::move(k));
  }
  if (!c.admin.backup_root.empty() && c.admin.backup_root.front() != '/')
    return bad("admin.backup_root", "must be an absolute path (or empty to refuse online backups)");
  if (c.auth.max_failed_logins < 1) return bad("auth.max_failed_logins", "must be at least 1");
  if (c.auth.argon2_memory_kib < 8 || c.auth.argon2_memory_kib > (4 << 20))
    return bad("auth.argon2_memory_kib", "must be 8..4194304");
  if (c.auth.argon2_iterations < 1 || c.auth.argon2_iterations > 64)
    return bad("auth.argon2_iterations", "must be 1..64");
  if (c.auth.argon2_parallelism < 1 || c.auth.argon2_parallelism > 64)
    return bad("auth.argon2_parallelism", "must be 1..64");
  if (c.auth.session_ttl <= 0) return bad("auth.session_ttl", "must be positive");
  if (c.auth.code_ttl < 1000) return bad("auth.code_ttl", "must be at least 1s");
  if (c.auth.mfa_challenge_ttl < 1000) return bad("auth.mfa_challenge_ttl", "must be at least 1s");
  if (c.auth.mfa_issuer.empty() || c.auth.mfa_issuer.size() > 64 || c.auth.mfa_issuer.find(':') != std::string::npos)
    return bad("auth.mfa_issuer", "must be 1 to 64 bytes without ':'");
  if (c.auth.code_send_per_minute < 1 || c.auth.code_send_per_hour < 1)
    return bad(c.auth.code_send_per_minute < 1 ? "auth.code_send_per_minute" : "auth.code_send_per_hour", "must be at least 1");
  if (c.auth.link_base_url.rfind("http://", 0) != 0 && c.auth.link_base_url.rfind("https://", 0) != 0)
    return bad("auth.link_base_url", "must be an http:// or https:// URL");
  if (c.auth.session_idle_ttl <= 0) return bad("auth.session_idle_ttl", "must be positive");
  for (auto [key, v] : {std::pair{"limits.registrations_per_minute", c.limits.registrations_per_minute},
                        std::pair{"limits.code_sends_per_minute", c.limits.code_sends_per_minute},
                        std::pair{"limits.device_logins_per_minute", c.limits.device_logins_per_minute},
                        std::pair{"limits.anonymous_logins_per_minute", c.limits.anonymous_logins_per_minute},
                        std::pair{"limits.username_lookups_per_minute", c.limits.username_lookups_per_minute}})
    if (v < 0 || v > 1'000'000'000) return bad(key, "must be 0 (no limit) to 1000000000");
  if (c.actors.idle_passivation < 100) return bad("actors.idle_passivation", "must be at least 100ms");
  if (c.cluster.partitions < 1 || c.cluster.partitions > 4096)
    return bad("cluster.partitions", "must be 1..4096");
  if (c.cluster.max_connections < 4 || c.cluster.max_connections > 65536)
    return bad("cluster.max_connections", "must be 4..65536");
  if (c.cluster.handshake_timeout < 1000) return bad("cluster.handshake_timeout", "must be at least 1s");
  if (c.http.head_timeout < 100 || c.http.head_timeout > 600'000) return bad("http.head_timeout", "must be 100ms..10m");
  if (c.http.max_connections < 16 || c.http.max_connections > 1'000'000)
    return bad("http.max_connections", "must be 16..1000000");
  if (c.http.max_connections_per_address < 1 || c.http.max_connections_per_address > c.http.max_connections)
    return bad("http.max_connections_per_address", "must be 1..http.max_connections");
  if (!c.cluster.listen.empty()) {
    bool some_tls = !c.cluster.tls_cert.empty() || !c.cluster.tls_key.empty() || !c.cluster.tls_ca.empty();
    if (some_tls && (c.cluster.tls_cert.empty() || c.cluster.tls_key.empty() || c.cluster.tls_ca.empty()))
      return bad("cluster.tls_cert", "cluster.tls_cert, cluster.tls_key and cluster.tls_ca must be set together");
    if (!some_tls && !c.cluster.insecure)
      return bad("cluster.listen",
                 "node links need mutual TLS: set cluster.tls_cert, cluster.tls_key and cluster.tls_ca (make them "
                 "with `roster cert create-ca` and `roster cert create-node NAME`), or start a loopback-only test "
                 "cluster with --insecure");
    if (!some_tls && !is_loopback_address(c.cluster.listen))
      return bad("cluster.insecure", "--insecure is refused unless cluster.listen is a loopback address (127.0.0.0/8 "
                                     "or [::1]): without TLS anyone who reaches the port could join the link");
  }
  if (c.log_level != "trace" && c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error" && c.log_level != "off")
    return bad("log_level", "must be trace, debug, info, warn, error or off");
  if (c.mail.sender != "log" && c.mail.sender != "smtp") return bad("mail.sender", "must be log or smtp");
  if (c.sms.sender != "log" && c.sms.sender != "webhook") return bad("sms.sender", "must be log or webhook");
  if (c.mail.sender == "smtp" && c.mail.smtp_url.rfind("smtp://", 0) != 0 && c.mail.smtp_url.rfind("smtps://", 0) != 0)
    return bad("mail.smtp_url", "must be smtp://host:port (STARTTLS) or smtps://host:port with mail.sender = smtp");
  if (c.sms.sender == "webhook" && c.sms.webhook_url.rfind("http://", 0) != 0 && c.sms.webhook_url.rfind("https://", 0) != 0)
    return bad("sms.webhook_url", "must be an http:// or https:// URL with sms.sender = webhook");
  for (auto& u : c.webhooks.urls)
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) return bad("webhooks.urls", "each must be an http:// or https:// URL");
  for (auto& e : c.webhooks.events)
    if (std::find(event_types().begin(), event_types().end(), e) == event_types().end())
      return bad("webhooks.events", "unknown event type " + e + " (docs/operations.md lists them)");
  if (c.mail.smtp_user.empty() != c.mail.smtp_password.empty())
    return bad("mail.smtp_user", "mail.smtp_user and mail.smtp_password must be set together");
  if ((!c.webhooks.urls.empty() || c.sms.sender == "webhook") && c.webhooks.secret.size() < 16)
    return bad("webhooks.secret", "at least 16 characters are needed to sign webhook calls (webhooks.urls, sms.sender = webhook)");
  if (c.outbox.max_attempts < 1 || c.outbox.max_attempts > 100) return bad("outbox.max_attempts", "must be 1..100");
  if (c.outbox.backoff_initial < 10) return bad("outbox.backoff_initial", "must be at least 10ms");
  if (c.outbox.backoff_max < c.outbox.backoff_initial)
    return bad("outbox.backoff_max", "must be at least outbox.backoff_initial");
  if (c.outbox.in_flight < 1 || c.outbox.in_flight > 1024) return bad("outbox.in_flight", "must be 1..1024");
  if (c.notifications.keep_per_user < 1 || c.notifications.keep_per_user > 100'000)
    return bad("notifications.keep_per_user", "must be 1..100000");
  return {};
}

} // namespace

admin_key parse_admin_key(std::string_view entry, size_t position) {
  auto colon = entry.find(':');
  auto name = entry.substr(0, colon == std::string_view::npos ? 0 : colon);
  bool named = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-';
  });
  if (named) return {std::string(name), std::string(entry.substr(colon + 1))};
  std::string plain_name = "key-";
  plain_name += std::to_string(position);
  return {std::move(plain_name), std::string(entry)};
}

bool is_loopback_address(const std::string& host_port) {
  auto host = host_port.substr(0, host_port.rfind(':'));
  if (host == "localhost" || host == "[::1]" || host == "::1") return true;
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  return std::sscanf(host.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 &&
         d < 256;
}

std::vector<std::string> config_keys() {
  std::vector<std::string> out;
  for (auto& k : key_table()) out.push_back(k.name);
  return out;
}

std::map<std::string, std::string> roster_environment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    if (kv.rfind("ROSTER_", 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

namespace {
/// Everything after the file is parsed: the table (if any), the environment,
/// the flags, validation. Shared by load_config and load_config_text.
result<node_config> load_from(const toml::table* t, const std::string& origin,
                              const std::map<std::string, std::string>& env,
                              const std::map<std::string, std::string>& flags,
                              std::vector<std::string>* warnings) {
  node_config c;
  if (t) {
    auto st = walk_table(c, *t, "", origin);
    if (!st) return st.err();
  }
  for (auto& [name, value] : env) {
    const key_def* def = nullptr;
    for (auto& k : key_table())
      if (env_name(k.name) == name) def = &k;
    if (!def) {
      // SPEC §8: an unknown key stops the start, from the environment as
      // from the file. ROSTER_TEST_* are the test harness's own variables
      // (ROSTER_TEST_EXCHANGES, ROSTER_TEST_CHROMIUM), which a node it starts
      // inherits; no key's variable begins so (tests/config/config_test.cc).
      if (name.rfind(test_harness_env_prefix, 0) == 0) {
        if (warnings)
          warnings->push_back("ignoring " + name + ": " + std::string(test_harness_env_prefix) +
                              "* variables belong to the test harness");
        continue;
      }
      return make_error(errc::invalid_request,
                        "environment " + name + ": unknown key (ROSTER_<SECTION>_<KEY> of a setting in docs/operations.md)");
    }
    auto st = apply_text(c, *def, value, "environment " + name);
    if (!st) return st.err();
  }
  for (auto& [name, value] : flags) {
    auto def = find_key(name);
    if (!def) return make_error(errc::invalid_request, "unknown key " + name);
    auto st = apply_text(c, *def, value, "flag for " + name);
    if (!st) return st.err();
  }
  auto st = validate(c);
  if (!st) return st.err();
  return c;
}
} // namespace

result<node_config> load_config(const std::string& file, const std::map<std::string, std::string>& env,
                                const std::map<std::string, std::string>& flags,
                                std::vector<std::string>* warnings) {
  if (file.empty()) return load_from(nullptr, file, env, flags, warnings);
  toml::table t;
  try {
    t = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return make_error(errc::invalid_request, file + ": " + std::string(e.description()));
  }
  return load_from(&t, file, env, flags, warnings);
}

result<node_config> load_config_text(std::string_view toml_text, const std::string& origin,
                                     const std::map<std::string, std::string>& env,
                                     const std::map<std::string, std::string>& flags,
                                     std::vector<std::string>* warnings) {
  toml::table t;
  try {
    t = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    return make_error(errc::invalid_request, origin + ": " + std::string(e.description()));
  }
  return load_from(&t, origin, env, flags, warnings);
}

} // namespace roster
