#include "config/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <fstream>

namespace roster {
namespace {

const std::map<std::string, std::string> key_flag = {{"admin.keys", "flag-admin-key-123456"}};

std::string write_file(const std::string& text) {
  char tmpl[] = "/tmp/roster-config-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ::close(fd);
  std::ofstream(tmpl) << text;
  return tmpl;
}

TEST(Config, DefaultsFollowTheSpec) {
  auto c = load_config("", {}, key_flag);
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->http.listen, "127.0.0.1:8080");
  EXPECT_EQ(c->http.max_body_bytes, 65536);
  EXPECT_EQ(c->cluster.partitions, 256);
  EXPECT_EQ(c->auth.session_ttl, 30LL * 86'400'000);
  EXPECT_EQ(c->auth.sudo_window, 20 * 60'000);
  EXPECT_EQ(c->auth.argon2_memory_kib, 19456);
  EXPECT_EQ(c->actors.idle_passivation, 5 * 60'000);
  EXPECT_EQ(c->auth.max_failed_logins, 5);
  EXPECT_EQ(c->limits.registrations_per_minute, 20);
  EXPECT_EQ(c->limits.device_logins_per_minute, 60);
  EXPECT_EQ(c->limits.anonymous_logins_per_minute, 20);
  EXPECT_EQ(c->limits.username_lookups_per_minute, 120);
}

TEST(Config, LimitsSectionFromFileAndEnvironment) {
  auto file = write_file("[limits]\nregistrations_per_minute = 3\nusername_lookups_per_minute = 0\n");
  auto c = load_config(file, {{"ROSTER_LIMITS_DEVICE_LOGINS_PER_MINUTE", "7"}}, key_flag);
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->limits.registrations_per_minute, 3);
  EXPECT_EQ(c->limits.username_lookups_per_minute, 0);  // 0 = no limit
  EXPECT_EQ(c->limits.device_logins_per_minute, 7);
  EXPECT_EQ(c->limits.anonymous_logins_per_minute, 20);
  ::unlink(file.c_str());
  auto negative = load_config("", {{"ROSTER_LIMITS_ANONYMOUS_LOGINS_PER_MINUTE", "-1"}}, key_flag);
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.err().message.find("limits.anonymous_logins_per_minute"), std::string::npos);
}

TEST(Config, TextLoadsLikeAFile) {
  auto c = load_config_text("node_name = \"n2\"\n[admin]\nkeys = [\"file-admin-key-123456\"]\n", "inline.toml");
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->node_name, "n2");
  auto bad = load_config_text("[http\n", "inline.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.err().message.rfind("inline.toml: ", 0), 0u) << bad.err().message;
}

TEST(Config, IntegersThatDoNotFitTheirFieldAreRejected) {
  // Found by fuzz/config_fuzzer.cc: 4294967300 used to wrap to 4 threads and pass validation.
  auto c = load_config_text("[http]\nthreads = 4294967300\n", "inline.toml", {}, key_flag);
  ASSERT_FALSE(c);
  EXPECT_NE(c.err().message.find("http.threads: out of range"), std::string::npos) << c.err().message;
  EXPECT_FALSE(load_config("", {}, {{"admin.keys", "flag-admin-key-123456"}, {"auth.max_failed_logins", "4294967301"}}));
  EXPECT_TRUE(load_config_text("[http]\nthreads = 4000\n", "inline.toml", {}, key_flag));
}

TEST(Config, FlagsBeatEnvironmentBeatsFile) {
  auto file = write_file(
    "node_name = \"from-file\"\n[http]\nlisten = \"127.0.0.1:1000\"\nthreads = 8\n[auth]\nsudo_window = \"5m\"\n"
    "[admin]\nkeys = [\"file-admin-key-123456\"]\n");
  auto c = load_config(file, {{"ROSTER_HTTP_LISTEN", "127.0.0.1:2000"}, {"ROSTER_NODE_NAME", "from-env"}},
                       {{"http.listen", "127.0.0.1:3000"}});
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->http.listen, "127.0.0.1:3000");
  EXPECT_EQ(c->node_name, "from-env");
  EXPECT_EQ(c->http.threads, 8);
  EXPECT_EQ(c->auth.sudo_window, 5 * 60'000);
  EXPECT_EQ(c->admin.keys, std::vector<std::string>{"file-admin-key-123456"});
  ::unlink(file.c_str());
}

TEST(Config, EnvironmentListsAndNestedSections) {
  auto c = load_config("", {{"ROSTER_ADMIN_KEYS", "key-one-0123456789, key-two-0123456789"},
                            {"ROSTER_PROVIDERS_GOOGLE_CLIENT_IDS", "a,b"},
                            {"ROSTER_STORE_SYNC_WRITES", "true"}},
                       {});
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->admin.keys.size(), 2u);
  EXPECT_EQ(c->admin.keys[1], "key-two-0123456789");
  EXPECT_EQ(c->providers.google.client_ids.size(), 2u);
  EXPECT_TRUE(c->store.sync_writes);
}

TEST(Config, AdminKeysMayBeNamed) {
  auto named = parse_admin_key("moderator-ana:ana-secret-0123456789", 1);
  EXPECT_EQ(named.name, "moderator-ana");
  EXPECT_EQ(named.key, "ana-secret-0123456789");
  // A plain key is named by its position, never by itself or a hash of it.
  auto plain = parse_admin_key("plain-admin-key-0123456789", 2);
  EXPECT_EQ(plain.key, "plain-admin-key-0123456789");
  EXPECT_EQ(plain.name, "key-2");
  // Text before ':' that is no name leaves the entry a plain key.
  EXPECT_EQ(parse_admin_key("not a name:0123456789abcdef", 1).key, "not a name:0123456789abcdef");
  EXPECT_EQ(parse_admin_key(":0123456789abcdefgh", 1).key, ":0123456789abcdefgh");

  auto ok = load_config("", {{"ROSTER_ADMIN_KEYS", "ana:ana-secret-0123456789,plain-admin-key-0123456789"}}, {});
  ASSERT_TRUE(ok) << ok.err().message;
  // The key part of a named entry must be long enough on its own.
  auto short_key = load_config("", {{"ROSTER_ADMIN_KEYS", "ana:short"}}, {});
  ASSERT_FALSE(short_key);
  EXPECT_NE(short_key.err().message.find("admin.keys"), std::string::npos);
  auto twice = load_config("", {{"ROSTER_ADMIN_KEYS", "ana:ana-secret-0123456789,ana:other-secret-0123456789"}}, {});
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.err().message.find("secret"), std::string::npos);  // never the key
}

TEST(Config, UnknownKeysAndBadValuesNameTheKey) {
  auto file = write_file("[http]\nlistn = \"x\"\n");
  auto unknown = load_config(file, {}, key_flag);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.err().message.find("http.listn"), std::string::npos);
  ::unlink(file.c_str());
  auto bad_type = write_file("[http]\nthreads = \"many\"\n");
  auto bt = load_config(bad_type, {}, key_flag);
  ASSERT_FALSE(bt);
  EXPECT_NE(bt.err().message.find("http.threads"), std::string::npos);
  ::unlink(bad_type.c_str());
  auto bad_env = load_config("", {{"ROSTER_AUTH_SESSION_TTL", "forever"}}, key_flag);
  ASSERT_FALSE(bad_env);
  EXPECT_NE(bad_env.err().message.find("auth.session_ttl"), std::string::npos);
  auto bad_range = load_config("", {}, {{"admin.keys", "flag-admin-key-123456"}, {"cluster.partitions", "0"}});
  ASSERT_FALSE(bad_range);
  EXPECT_NE(bad_range.err().message.find("cluster.partitions"), std::string::npos);
  auto no_key = load_config("", {}, {});
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.err().message.find("admin.keys"), std::string::npos);
  auto broken = write_file("[http\n");
  EXPECT_FALSE(load_config(broken, {}, key_flag));
  ::unlink(broken.c_str());
}

TEST(Config, UnknownEnvironmentVariablesStopTheStartExceptTheTestHarnessOnes) {
  // SPEC §8: unknown keys stop the start, from the environment as from the file.
  auto unknown = load_config("", {{"ROSTER_NOT_A_KEY", "1"}}, key_flag);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.err().message.find("ROSTER_NOT_A_KEY"), std::string::npos) << unknown.err().message;
  auto typo = load_config("", {{"ROSTER_AUTH_SESION_TTL", "1d"}}, key_flag);
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.err().message.find("ROSTER_AUTH_SESION_TTL"), std::string::npos);
  // What scripts/run takes its admin key from: not a key (ROSTER_ADMIN_KEYS is).
  EXPECT_FALSE(load_config("", {{"ROSTER_ADMIN_KEY", "env-admin-key-123456"}}, key_flag));
  // ROSTER_TEST_* are the test harness's (docs/operations.md): ignored, said in a warning.
  std::vector<std::string> warnings;
  auto harness = load_config("", {{"ROSTER_TEST_EXCHANGES", "/tmp/x.jsonl"}, {"ROSTER_HTTP_THREADS", "3"}}, key_flag,
                             &warnings);
  ASSERT_TRUE(harness) << harness.err().message;
  EXPECT_EQ(harness->http.threads, 3);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("ROSTER_TEST_EXCHANGES"), std::string::npos);
  // Every template key has its variable.
  EXPECT_TRUE(load_config("", {{"ROSTER_TEMPLATES_MAGIC_LINK_TEXT", "Open {{link}}"}}, key_flag));
  // No setting's variable falls under the harness's prefix.
  for (auto& k : config_keys()) {
    std::string var = "ROSTER_";
    for (char c : k) var.push_back(c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    EXPECT_NE(var.rfind(test_harness_env_prefix, 0), 0u) << k;
    auto r = load_config("", {{var, ""}}, key_flag);
    if (!r) EXPECT_EQ(r.err().message.find("unknown key"), std::string::npos) << var << ": " << r.err().message;
  }
}

TEST(Config, ClusterLinksAreSecureByDefault) {
  auto with = [](std::map<std::string, std::string> f) {
    f["admin.keys"] = "flag-admin-key-123456";
    f["cluster.secret"] = "s3cret";
    return load_config("", {}, f);
  };
  // No TLS files and no --insecure: refused, naming the way out.
  auto plain = with({{"cluster.listen", "127.0.0.1:7001"}});
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.err().message.find("roster cert create-ca"), std::string::npos);
  EXPECT_TRUE(with({{"cluster.listen", "127.0.0.1:7001"}, {"cluster.insecure", "true"}}));
  EXPECT_TRUE(with({{"cluster.listen", "127.9.8.7:7001"}, {"cluster.insecure", "true"}}));
  EXPECT_TRUE(with({{"cluster.listen", "[::1]:7001"}, {"cluster.insecure", "true"}}));
  for (auto addr : {"0.0.0.0:7001", "10.0.0.5:7001", "128.0.0.1:7001", "127.0.0.1.evil:7001", "host:7001"}) {
    auto r = with({{"cluster.listen", addr}, {"cluster.insecure", "true"}});
    ASSERT_FALSE(r) << addr;
    EXPECT_NE(r.err().message.find("cluster.insecure"), std::string::npos);
  }
  // TLS is all three files or none.
  EXPECT_FALSE(with({{"cluster.listen", "10.0.0.5:7001"}, {"cluster.tls_cert", "a.crt"}}));
  EXPECT_TRUE(with({{"cluster.listen", "10.0.0.5:7001"},
                    {"cluster.tls_cert", "a.crt"},
                    {"cluster.tls_key", "a.key"},
                    {"cluster.tls_ca", "ca.crt"}}));
  // A single node needs none of it.
  EXPECT_TRUE(with({}));
}

TEST(Config, BackupRoot) {
  auto c = load_config("", {}, key_flag);
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->admin.backup_root, "");  // default: online backups refused
  auto file = write_file("[admin]\nkeys = [\"file-admin-key-123456\"]\nbackup_root = \"/var/backups/roster\"\n");
  auto from_file = load_config(file, {}, {});
  ASSERT_TRUE(from_file) << from_file.err().message;
  EXPECT_EQ(from_file->admin.backup_root, "/var/backups/roster");
  ::unlink(file.c_str());
  auto from_env = load_config("", {{"ROSTER_ADMIN_BACKUP_ROOT", "/srv/b"}}, key_flag);
  ASSERT_TRUE(from_env) << from_env.err().message;
  EXPECT_EQ(from_env->admin.backup_root, "/srv/b");
  auto relative = load_config("", {{"ROSTER_ADMIN_BACKUP_ROOT", "backups"}}, key_flag);
  ASSERT_FALSE(relative);
  EXPECT_NE(relative.err().message.find("admin.backup_root"), std::string::npos);
  auto keys = config_keys();
  EXPECT_NE(std::find(keys.begin(), keys.end(), "admin.backup_root"), keys.end());
}

TEST(Config, OutboxWebhooksAndTemplates) {
  auto c = load_config_text(R"(
[outbox]
max_attempts = 3
backoff_initial = "500ms"
backoff_max = "1m"
in_flight = 4
[webhooks]
urls = ["http://127.0.0.1:9000/hook"]
secret = "a-webhook-secret-123"
events = ["user.registered"]
[templates.email_code]
subject = "Ton code"
[notifications]
keep_per_user = 50
)", "inline.toml", {{"ROSTER_TEMPLATES_MAGIC_LINK_TEXT", "Go: {{link}}"}}, key_flag);
  ASSERT_TRUE(c) << c.err().message;
  EXPECT_EQ(c->outbox.max_attempts, 3);
  EXPECT_EQ(c->outbox.backoff_initial, 500);
  EXPECT_EQ(c->outbox.backoff_max, 60'000);
  EXPECT_EQ(c->outbox.in_flight, 4);
  EXPECT_EQ(c->webhooks.events, std::vector<std::string>{"user.registered"});
  EXPECT_EQ(c->notifications.keep_per_user, 50);
  // A template is overridden field by field; the rest stays the default.
  EXPECT_EQ(c->templates.at("email_code").subject, "Ton code");
  EXPECT_EQ(c->templates.at("email_code").text, default_template("email_code").text);
  EXPECT_EQ(c->templates.at("magic_link").text, "Go: {{link}}");
  EXPECT_EQ(c->templates.size(), message_kinds().size());

  auto unknown_kind = load_config_text("[templates.fax]\ntext = \"x\"\n", "inline.toml", {}, key_flag);
  ASSERT_FALSE(unknown_kind);
  EXPECT_NE(unknown_kind.err().message.find("templates.fax.text"), std::string::npos);
  auto weak_secret = load_config_text("[webhooks]\nurls = [\"http://127.0.0.1:1/h\"]\nsecret = \"short\"\n",
                                      "inline.toml", {}, key_flag);
  ASSERT_FALSE(weak_secret);
  EXPECT_NE(weak_secret.err().message.find("webhooks.secret"), std::string::npos);
  auto backwards = load_config_text("[outbox]\nbackoff_initial = \"10m\"\nbackoff_max = \"1s\"\n", "inline.toml",
                                    {}, key_flag);
  ASSERT_FALSE(backwards);
  EXPECT_NE(backwards.err().message.find("outbox.backoff_max"), std::string::npos);
  auto typo = load_config_text("[webhooks]\nevents = [\"user.register\"]\n", "inline.toml", {}, key_flag);
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.err().message.find("user.register"), std::string::npos);
  auto half_auth = load_config_text("[mail]\nsmtp_user = \"roster\"\n", "inline.toml", {}, key_flag);
  ASSERT_FALSE(half_auth);
  EXPECT_NE(half_auth.err().message.find("mail.smtp_password"), std::string::npos);
}

TEST(Config, EverySpecKeyIsKnown) {
  auto keys = config_keys();
  for (const char* k : {"http.cors_origins", "store.sync_writes", "jwt.key_file", "providers.steam.api_url",
                        "mail.smtp_url", "sms.webhook_url", "webhooks.secret", "moderation.flag_window",
                        "social.max_friends", "cluster.tls_ca", "limits.registrations_per_minute",
                        "limits.device_logins_per_minute", "limits.anonymous_logins_per_minute",
                        "limits.username_lookups_per_minute", "outbox.max_attempts", "outbox.backoff_initial",
                        "outbox.backoff_max", "outbox.in_flight", "mail.smtp_user", "mail.smtp_password",
                        "webhooks.events", "notifications.keep_per_user", "templates.email_code.subject",
                        "templates.email_code.text", "templates.email_code.html"})
    EXPECT_NE(std::find(keys.begin(), keys.end(), k), keys.end()) << k;
}

} // namespace
} // namespace roster
