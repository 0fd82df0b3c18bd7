#pragma once
// node_config: every setting of SPEC §8, with its default. Built once at start
// by load_config() from defaults ← TOML file ← ROSTER_* environment ← flags,
// then immutable; components take their sub-struct by value.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/errc.h"
#include "domain/message_text.h"

namespace roster {

struct http_config {
  std::string listen = "127.0.0.1:8080";
  int threads = 16;                 // worker threads kept ready; more start while all are busy (up to 2048)
  int64_t max_body_bytes = 65536;   // larger bodies get 413
  std::string tls_cert;             // PEM paths; both set = HTTPS
  std::string tls_key;
  std::vector<std::string> cors_origins;  // "*" allows any origin
  millis head_timeout = 10'000;           // to receive a whole request head (and its body)
  int64_t max_connections = 20'000;       // open connections at once; more are closed at accept
  int64_t max_connections_per_address = 256;  // open connections from one client address
};

struct store_config {
  std::string data_dir = "./data";
  bool sync_writes = false;  // true: fsync before acknowledging each write
};

struct admin_config {
  /// X-Admin-Key values, each "name:key" or a plain "key" (parse_admin_key);
  /// at least one required.
  std::vector<std::string> keys;
  std::string backup_root;        // POST /v1/admin/backup writes only under it; empty = online backups refused
};

struct auth_config {
  std::string link_base_url = "http://127.0.0.1:8080/verify";  // magic and verification links start here
  std::vector<std::string> redirect_allowlist;                 // redirect_url prefixes a link may carry
  int64_t code_send_per_minute = 1;  // per identity and purpose
  int64_t code_send_per_hour = 10;
  millis code_ttl = 10 * 60'000;     // codes and link tokens (not in SPEC §8: docs/operations.md)
  bool device_auth = true;
  bool require_activation = false;
  bool require_verified_email = false;
  millis session_ttl = 30LL * 86'400'000;
  millis session_idle_ttl = 7LL * 86'400'000;
  millis sudo_window = 20 * 60'000;
  int max_failed_logins = 5;
  millis failed_login_window = 15 * 60'000;
  int64_t argon2_memory_kib = 19456;
  int64_t argon2_iterations = 2;
  int64_t argon2_parallelism = 1;
  millis mfa_challenge_ttl = 5 * 60'000;  // a login's second step (not in SPEC §8: docs/operations.md)
  std::string mfa_issuer = "Roster";      // the issuer an authenticator app shows (not in SPEC §8)
};

struct jwt_config {
  millis ttl = 15 * 60'000;
  std::string key_file;
};

struct oidc_provider_config {
  std::vector<std::string> client_ids;
  std::string issuer;
  std::string jwks_url;
};

struct providers_config {
  oidc_provider_config google{{}, "https://accounts.google.com", "https://www.googleapis.com/oauth2/v3/certs"};
  oidc_provider_config apple{{}, "https://appleid.apple.com", "https://appleid.apple.com/auth/keys"};
  std::string steam_app_id, steam_web_api_key, steam_api_url = "https://partner.steam-api.com";
  std::string discord_api_url = "https://discord.com/api";
  std::string discord_client_id;  // the studio's Discord application: tokens of other apps are refused
  std::string facebook_app_id, facebook_app_secret, facebook_graph_url = "https://graph.facebook.com";
  millis jwks_refetch_interval = 60'000;  // an unknown kid fetches a JWKS again at most this often
};

struct mail_config {
  std::string sender = "log";
  std::string smtp_url;
  std::string smtp_user;
  std::string smtp_password;
  std::string from = "Roster <no-reply@localhost>";
  std::string smtp_ca_file;  // CA bundle that verifies the SMTP server; empty = the system's
};

/// The notification sender's outbox (SPEC §5).
struct outbox_config {
  int64_t max_attempts = 12;     // then the message is a dead letter
  millis backoff_initial = 2'000;  // doubling, with jitter
  millis backoff_max = 600'000;
  int64_t in_flight = 32;        // sends in progress per node
};

struct notifications_config {
  int64_t keep_per_user = 1000;
};

struct sms_config {
  std::string sender = "log";
  std::string webhook_url;
};

struct webhooks_config {
  std::vector<std::string> urls;
  std::string secret;
  std::vector<std::string> events;  // event types to send; empty = all
};

struct moderation_config {
  int64_t flag_distinct_reporters = 5;
  millis flag_window = 24 * 3'600'000;
  int64_t reports_per_minute = 30;  // per reporting user (its actor counts); 0 = no limit
};

struct social_config {
  int64_t max_friends = 1000;
};

/// Per client address request budgets (`[limits]`), each per minute; 0 = no
/// limit. Over budget: 429 rate_limited with Retry-After.
struct limits_config {
  int64_t registrations_per_minute = 20;      // POST /v1/accounts
  int64_t code_sends_per_minute = 10;         // POST /v1/auth/email-code, /v1/auth/recovery (per client IP)
  int64_t device_logins_per_minute = 60;      // POST /v1/sessions/device
  int64_t anonymous_logins_per_minute = 20;   // POST /v1/sessions/anonymous
  int64_t username_lookups_per_minute = 120;  // GET /v1/usernames/{name}; GET /v1/users?usernames= counts each name; GET /v1/users/search 1 per page
};

struct actors_config {
  millis idle_passivation = 5 * 60'000;
};

struct cluster_config {
  std::string listen;
  std::vector<std::string> seeds;
  int64_t partitions = 256;
  std::string secret;
  std::string tls_cert, tls_key, tls_ca;  // all three: mutual TLS between nodes (the default)
  bool insecure = false;                   // plaintext node links; only with a loopback cluster.listen
  int64_t max_connections = 256;           // open node-to-node connections accepted at once
  millis handshake_timeout = 10'000;       // an accepted connection silent this long is closed
};

struct node_config {
  std::string node_name = "node-1";
  std::string log_level = "info";
  http_config http;
  store_config store;
  admin_config admin;
  auth_config auth;
  jwt_config jwt;
  providers_config providers;
  mail_config mail;
  sms_config sms;
  webhooks_config webhooks;
  outbox_config outbox;
  notifications_config notifications;
  /// `[templates.<kind>]`: every kind of domain/message_text.h, its built-in
  /// default with the fields config sets replaced.
  std::map<std::string, message_template> templates = default_templates();
  moderation_config moderation;
  social_config social;
  limits_config limits;
  actors_config actors;
  cluster_config cluster;
};

/// Environment variables with this prefix belong to the test harness, not to
/// the node (ROSTER_TEST_EXCHANGES, ROSTER_TEST_CHROMIUM): a node ignores
/// them. No config key's variable begins so.
constexpr std::string_view test_harness_env_prefix = "ROSTER_TEST_";

/// Builds the config: defaults, then the TOML file at `file` (if non-empty),
/// then `env` (ROSTER_<SECTION>_<KEY>), then `flags` ("section.key" → text).
/// An unknown key in the file, the environment or the flags, or a bad value
/// anywhere, is an error naming the key or variable. ROSTER_TEST_* variables
/// are ignored, each named in `warnings`.
result<node_config> load_config(const std::string& file, const std::map<std::string, std::string>& env,
                                const std::map<std::string, std::string>& flags,
                                std::vector<std::string>* warnings = nullptr);

/// load_config with the TOML document given as text (`origin` names it in
/// errors, as the file name does): for tests and the config fuzzer.
result<node_config> load_config_text(std::string_view toml_text, const std::string& origin,
                                     const std::map<std::string, std::string>& env = {},
                                     const std::map<std::string, std::string>& flags = {},
                                     std::vector<std::string>* warnings = nullptr);

/// The process environment's ROSTER_* variables.
std::map<std::string, std::string> roster_environment();

/// True if host:port names a loopback host (127.0.0.0/8, [::1], localhost).
bool is_loopback_address(const std::string& host_port);

/// One entry of admin.keys: the key an X-Admin-Key header must carry, and
/// the name that stands for it wherever Roster records who acted (a ban's
/// `by`, security logs, events) — the key itself is never shown or logged.
struct admin_key {
  std::string name;
  std::string key;
};
/// Splits an admin.keys entry. "name:key" when the text before the first
/// ':' is a name of 1 to 64 characters of [A-Za-z0-9_.-]; otherwise the
/// whole entry is the key, named "key-<position>" (1-based, in admin.keys):
/// a handle that says nothing about the key (a hash of it, even cut short,
/// would let whoever sees the name test guesses of the key offline).
admin_key parse_admin_key(std::string_view entry, size_t position);

/// The names of all keys ("http.listen", ...), for docs and tests.
std::vector<std::string> config_keys();

} // namespace roster
