// The senders against real counterparts, all on 127.0.0.1:
// - webhooks and SMS-by-webhook: an in-process httplib server that records
//   each request; the signature is recomputed here with OpenSSL's HMAC()
//   (not roster's webhook_signature);
// - the log sender: files under messages_dir;
// - SMTP: a real SMTP server (tests/support/smtp_server.py, Debian's
//   python3-aiosmtpd) that requires STARTTLS with a throwaway CA made here by
//   the openssl CLI; Python's email package parses what arrived;
// - sender_pool: 200 sends on 8 threads, and stop() during hanging sends.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "delivery/deliverer.h"
#include "delivery/sender_pool.h"
#include "domain/outbox.h"
#include "tests/support/smtp_fixture.h"

extern char** environ;

#ifndef ROSTER_TEST_PYTHON
#define ROSTER_TEST_PYTHON "/usr/bin/python3"
#endif

namespace roster {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace smtp_fixture;
using clock_type = std::chrono::steady_clock;

const std::string kSecret = "whsec-test-0123456789abcdef";

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}


outbox_entry entry(outbox_kind kind, std::string to, std::string text, std::string purpose) {
  static std::atomic<uint16_t> partition{0};
  outbox_entry e;
  e.id = new_outbox_id(now_ms(), partition++);
  e.kind = kind;
  e.user_id = "0b1e5f2c-7d4a-4c3e-9f00-112233445566";
  e.to = std::move(to);
  e.text = std::move(text);
  e.purpose = std::move(purpose);
  return e;
}

// ---- the webhook signature, recomputed independently ------------------------

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return hex(mac, len);
}

/// Checks "t=<unix seconds>,v1=<64 hex>" against `body`: the MAC and the age of t.
void expect_valid_signature(const std::string& header, const std::string& body) {
  SCOPED_TRACE("X-Roster-Signature: " + header);
  auto comma = header.find(",v1=");
  ASSERT_EQ(header.rfind("t=", 0), 0u);
  ASSERT_NE(comma, std::string::npos);
  auto t = header.substr(2, comma - 2);
  auto mac = header.substr(comma + 4);
  ASSERT_FALSE(t.empty());
  ASSERT_EQ(t.find_first_not_of("0123456789"), std::string::npos);
  ASSERT_EQ(mac.size(), 64u);
  EXPECT_EQ(mac, hmac_hex(kSecret, t + "." + body));
  EXPECT_NE(mac, hmac_hex("another-secret", t + "." + body));  // the check can fail
  EXPECT_LE(std::llabs(std::stoll(t) - static_cast<long long>(std::time(nullptr))), 5);
}

// ---- an HTTP receiver -------------------------------------------------------

struct recorded_request {
  std::string path, body;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  size_t count(const std::string& name) const { return headers.count(name); }
};

/// An httplib server on a free 127.0.0.1 port that records every POST and
/// answers `status` — or, with `hang`, holds the request until release()
/// (at most 30 s).
class receiver {
 public:
  explicit receiver(int status = 200, bool hang = false) : status_(status), hang_(hang) {
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.Post(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        requests_.push_back({req.path, req.body, req.headers});
        changed_.notify_all();
        if (hang_) changed_.wait_for(lock, std::chrono::seconds(30), [&] { return released_; });
      }
      res.status = status_;
      res.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("receiver cannot bind");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // (stop() before the accept loop runs would not stop it)
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~receiver() {
    release();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<recorded_request> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  /// Waits until at least `n` requests have arrived.
  bool wait_for(size_t n, std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [&] { return requests_.size() >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  httplib::Server server_;
  int status_;
  bool hang_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<recorded_request> requests_;
  bool released_ = false;
};

delivery_config base_config() {
  delivery_config c;
  c.webhook_secret = kSecret;
  c.connect_timeout = 2'000;
  c.timeout = 10'000;
  return c;
}

// ---- webhooks ---------------------------------------------------------------

TEST(DelivererWebhook, PostsTheBodySignedWithTheDeliveryIdAndEvent) {
  receiver r;
  auto cfg = base_config();
  deliverer d(cfg);
  auto e = entry(outbox_kind::webhook, r.url(),
                 R"({"type":"user.registered","user_id":"0b1e5f2c-7d4a-4c3e-9f00-112233445566","seq":1,"name":"Zoë"})",
                 "user.registered");
  auto out = d.deliver(e);
  EXPECT_TRUE(out.ok) << out.error;
  auto reqs = r.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0];
  EXPECT_EQ(q.path, "/hook");
  EXPECT_EQ(q.body, e.text);
  EXPECT_EQ(q.header("Content-Type"), "application/json");
  EXPECT_EQ(q.header("X-Roster-Delivery-Id"), outbox_id_text(e.id));
  EXPECT_EQ(q.header("X-Roster-Delivery-Id").size(), 32u);
  EXPECT_EQ(q.header("X-Roster-Event"), "user.registered");
  EXPECT_EQ(q.count("X-Roster-Signature"), 1u);
  expect_valid_signature(q.header("X-Roster-Signature"), q.body);

  // The same deliverer again (its connection kept alive): a second, distinct call.
  auto e2 = entry(outbox_kind::webhook, r.url(), R"({"type":"session.revoked","seq":2})", "session.revoked");
  EXPECT_TRUE(d.deliver(e2).ok);
  reqs = r.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].body, e2.text);
  EXPECT_EQ(reqs[1].header("X-Roster-Delivery-Id"), outbox_id_text(e2.id));
  EXPECT_EQ(reqs[1].header("X-Roster-Event"), "session.revoked");
  expect_valid_signature(reqs[1].header("X-Roster-Signature"), reqs[1].body);
}

TEST(DelivererWebhook, AReceiverErrorFailsWithoutTellingTheSecretOrTheBody) {
  receiver r(500);
  auto cfg = base_config();
  deliverer d(cfg);
  auto e = entry(outbox_kind::webhook, r.url("/hook?token=url-credential-42"),
                 R"({"type":"user.email_changed","code":"body-secret-918273"})", "user.email_changed");
  auto out = d.deliver(e);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("500"), std::string::npos) << out.error;
  EXPECT_EQ(out.error.find(kSecret), std::string::npos) << out.error;
  EXPECT_EQ(out.error.find("body-secret-918273"), std::string::npos) << out.error;
  EXPECT_EQ(out.error.find("url-credential-42"), std::string::npos) << out.error;
  EXPECT_EQ(r.requests().size(), 1u);  // it did arrive: the failure is the answer
}

TEST(DelivererWebhook, AClosedPortFailsQuickly) {
  int port = free_port();  // nothing listens there now
  auto cfg = base_config();
  cfg.connect_timeout = 5'000;
  deliverer d(cfg);
  auto e = entry(outbox_kind::webhook, "http://127.0.0.1:" + std::to_string(port) + "/hook", R"({"type":"x"})", "x");
  auto t0 = clock_type::now();
  auto out = d.deliver(e);
  EXPECT_FALSE(out.ok);
  EXPECT_FALSE(out.error.empty());
  EXPECT_EQ(out.error.find(kSecret), std::string::npos) << out.error;
  EXPECT_LT(seconds_since(t0), 6.0);
}

// ---- SMS by webhook ---------------------------------------------------------

TEST(DelivererSms, WebhookSenderPostsSignedJsonWithRecipientTextPurposeAndId) {
  receiver r;
  auto cfg = base_config();
  cfg.sms.sender = "webhook";
  cfg.sms.webhook_url = r.url("/sms");
  deliverer d(cfg);
  auto e = entry(outbox_kind::sms, "+15551234567", "Your code is 123456.\n\"Ünïcode\" \\ ok", "phone_code");
  auto out = d.deliver(e);
  EXPECT_TRUE(out.ok) << out.error;
  auto reqs = r.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const auto& q = reqs[0];
  EXPECT_EQ(q.path, "/sms");
  auto body = json::parse(q.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << q.body;
  EXPECT_EQ(body.size(), 4u) << q.body;
  EXPECT_EQ(body.value("to", ""), "+15551234567");
  EXPECT_EQ(body.value("text", ""), e.text);
  EXPECT_EQ(body.value("purpose", ""), "phone_code");
  EXPECT_EQ(body.value("delivery_id", ""), outbox_id_text(e.id));
  EXPECT_EQ(q.header("X-Roster-Delivery-Id"), outbox_id_text(e.id));
  EXPECT_EQ(q.header("X-Roster-Event"), "phone_code");
  expect_valid_signature(q.header("X-Roster-Signature"), q.body);
}

// ---- the log sender ---------------------------------------------------------

TEST(DelivererLog, EmailAndSmsEachWriteOneOwnerOnlyFile) {
  temp_dir tmp;
  auto cfg = base_config();
  cfg.messages_dir = tmp / "messages";  // not there yet: created on first use
  cfg.mail.sender = "log";
  cfg.sms.sender = "log";
  deliverer d(cfg);

  auto files = [&] {
    std::vector<fs::path> v;
    if (fs::exists(cfg.messages_dir))
      for (auto& f : fs::directory_iterator(cfg.messages_dir)) v.push_back(f.path());
    return v;
  };
  auto mode = [](const fs::path& p) {
    struct stat st{};
    EXPECT_EQ(::stat(p.c_str(), &st), 0);
    return st.st_mode & 07777;
  };

  auto mail = entry(outbox_kind::email, "ann@example.com", "Your code is 424242. It expires in 10 minutes.", "email_code");
  mail.subject = "Your code";
  mail.html = "<p>Your code is <strong>424242</strong>.</p>";
  auto out = d.deliver(mail);
  ASSERT_TRUE(out.ok) << out.error;
  auto after_mail = files();
  ASSERT_EQ(after_mail.size(), 1u);
  EXPECT_EQ(mode(cfg.messages_dir), 0700u);
  auto text = read_file(after_mail[0].string());
  EXPECT_NE(text.find("To: ann@example.com\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Subject: Your code\n"), std::string::npos) << text;
  EXPECT_NE(text.find(mail.text), std::string::npos) << text;
  EXPECT_NE(text.find(outbox_id_text(mail.id)), std::string::npos) << text;
  EXPECT_EQ(mode(after_mail[0]), 0600u);

  auto sms = entry(outbox_kind::sms, "+15550001111", "Your code is 777001.", "phone_code");
  out = d.deliver(sms);
  ASSERT_TRUE(out.ok) << out.error;
  auto after_sms = files();
  ASSERT_EQ(after_sms.size(), 2u);
  fs::path sms_file;
  for (auto& f : after_sms)
    if (f != after_mail[0]) sms_file = f;
  ASSERT_FALSE(sms_file.empty());
  auto sms_text = read_file(sms_file.string());
  EXPECT_NE(sms_text.find("To: +15550001111\n"), std::string::npos) << sms_text;
  EXPECT_NE(sms_text.find("Your code is 777001."), std::string::npos) << sms_text;
  EXPECT_EQ(sms_text.find("Subject:"), std::string::npos) << sms_text;
  EXPECT_EQ(mode(sms_file), 0600u);
  // The mail's file is still the mail's.
  EXPECT_NE(read_file(after_mail[0].string()).find("424242"), std::string::npos);
}

// ---- SMTP against a real server ---------------------------------------------

class DelivererSmtp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pki_ = new test_pki(); }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(pki_->ok) << "openssl failed:\n" << read_file(pki_->log);
  }

  static std::unique_ptr<smtp_server> start(smtp_server::options o) {
    if (o.cert.empty() && !o.plain) {
      o.cert = pki_->server_cert;
      o.key = pki_->server_key;
    }
    auto s = std::make_unique<smtp_server>(o);
    EXPECT_TRUE(s->ready()) << "the SMTP fixture did not start (" ROSTER_TEST_PYTHON
                               " needs python3-aiosmtpd: scripts/deps):\n"
                            << s->stderr_text();
    return s;
  }

  static delivery_config smtp_config(const smtp_server& s) {
    auto c = base_config();
    c.mail.sender = "smtp";
    c.mail.smtp_url = s.url();
    c.mail.smtp_ca_file = pki_->ca;
    c.mail.from = "Roster Test <no-reply@roster.test>";
    return c;
  }

  static outbox_entry mail(std::string to, std::string subject, std::string text, std::string html) {
    auto e = entry(outbox_kind::email, std::move(to), std::move(text), "email_code");
    e.subject = std::move(subject);
    e.html = std::move(html);
    return e;
  }

  static test_pki* pki_;
};
test_pki* DelivererSmtp::pki_ = nullptr;

TEST_F(DelivererSmtp, StartTlsDeliversAMessageThatParsesBackToWhatWasSent) {
  auto server = start({});
  ASSERT_TRUE(server->ready());
  auto cfg = smtp_config(*server);
  deliverer d(cfg);

  auto first = mail("ann@example.com", "Your code", "Your code is 424242.\nIt expires in 10 minutes.",
                    "<p>Your code is <strong>424242</strong>. Grüße!</p>");
  auto out = d.deliver(first);
  ASSERT_TRUE(out.ok) << out.error << "\n" << server->stderr_text();
  // Through the same deliverer: a non-ASCII subject (one long RFC 2047 word), text only.
  auto second = mail("bob@example.org",
                     "Bestätigen Sie Ihre neue E-Mail-Adresse für Ihr Konto — 確認してください — danke schön",
                     "Ihr Code: 918273 ✓", "");
  out = d.deliver(second);
  ASSERT_TRUE(out.ok) << out.error << "\n" << server->stderr_text();

  auto got = server->messages();
  ASSERT_EQ(got.size(), 2u);
  const auto& m1 = got[0];
  SCOPED_TRACE(m1.dump(2));
  EXPECT_EQ(m1["tls"], true);
  EXPECT_EQ(m1["mail_from"], "no-reply@roster.test");
  EXPECT_EQ(m1["rcpt_tos"], json::array({"ann@example.com"}));
  EXPECT_EQ(m1["message_id"], "<" + outbox_id_text(first.id) + "@roster>");
  EXPECT_EQ(m1["from"], "Roster Test <no-reply@roster.test>");
  EXPECT_EQ(m1["to"], "ann@example.com");
  EXPECT_EQ(m1["subject"], "Your code");
  EXPECT_EQ(m1["content_type"], "multipart/alternative");
  EXPECT_EQ(m1["text"], first.text);
  EXPECT_EQ(m1["html"], first.html);
  EXPECT_TRUE(m1["date"].is_string());
  EXPECT_EQ(m1["defects"], json::array());
  EXPECT_FALSE(m1.contains("parse_error"));
  // Lines end in CRLF on the wire; no bare LF.
  auto raw = server->raw(1);
  for (size_t i = raw.find('\n'); i != std::string::npos; i = raw.find('\n', i + 1)) {
    ASSERT_GT(i, 0u);
    ASSERT_EQ(raw[i - 1], '\r') << "bare LF at byte " << i;
  }

  const auto& m2 = got[1];
  SCOPED_TRACE(m2.dump(2));
  EXPECT_EQ(m2["tls"], true);
  EXPECT_EQ(m2["rcpt_tos"], json::array({"bob@example.org"}));
  EXPECT_EQ(m2["message_id"], "<" + outbox_id_text(second.id) + "@roster>");
  EXPECT_EQ(m2["subject"], second.subject);  // RFC 2047, decoded by Python
  EXPECT_EQ(m2["content_type"], "text/plain");
  EXPECT_EQ(m2["text"], second.text);
  EXPECT_TRUE(m2["html"].is_null());
  EXPECT_EQ(m2["defects"], json::array());
}

TEST_F(DelivererSmtp, AuthenticatesOverTlsAndAWrongPasswordFails) {
  auto server = start({.user = "mailer", .password = "s3cret-pass-word"});
  ASSERT_TRUE(server->ready());
  auto cfg = smtp_config(*server);
  cfg.mail.smtp_user = "mailer";
  cfg.mail.smtp_password = "s3cret-pass-word";
  {
    deliverer d(cfg);
    auto out = d.deliver(mail("ann@example.com", "Hello", "Authenticated mail", ""));
    ASSERT_TRUE(out.ok) << out.error << "\n" << server->stderr_text();
  }
  auto got = server->messages();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]["login"], "mailer");
  EXPECT_EQ(got[0]["text"], "Authenticated mail");

  auto wrong = cfg;
  wrong.mail.smtp_password = "not-the-pass-word";
  deliverer d(wrong);
  auto t0 = clock_type::now();
  auto out = d.deliver(mail("ann@example.com", "Hello", "Must not arrive", ""));
  EXPECT_FALSE(out.ok);
  EXPECT_LT(seconds_since(t0), 5.0);  // refused, not timed out
  EXPECT_EQ(out.error.find("not-the-pass-word"), std::string::npos) << out.error;
  EXPECT_EQ(out.error.find("Must not arrive"), std::string::npos) << out.error;

  auto nouser = cfg;  // the server requires AUTH: no credentials, no mail
  nouser.mail.smtp_user.clear();
  nouser.mail.smtp_password.clear();
  deliverer d2(nouser);
  EXPECT_FALSE(d2.deliver(mail("ann@example.com", "Hello", "Must not arrive either", "")).ok);
  EXPECT_EQ(server->messages().size(), 1u);
}

TEST_F(DelivererSmtp, TheServerCertificateIsVerified) {
  auto server = start({});
  ASSERT_TRUE(server->ready());
  auto cfg = smtp_config(*server);

  auto system_cas = cfg;  // no CA file: the system's, which do not know the test CA
  system_cas.mail.smtp_ca_file.clear();
  auto unrelated = cfg;
  unrelated.mail.smtp_ca_file = pki_->unrelated_ca;
  for (auto* c : {&system_cas, &unrelated}) {
    deliverer d(*c);
    auto out = d.deliver(mail("ann@example.com", "Hi", "Must not arrive", ""));
    EXPECT_FALSE(out.ok) << "CA file: '" << c->mail.smtp_ca_file << "'";
    EXPECT_NE(out.error.find("certificate"), std::string::npos) << out.error;
  }
  EXPECT_EQ(server->messages().size(), 0u);

  // The right CA, but a certificate for another name: the host name is checked too.
  auto elsewhere = start({.cert = pki_->other_name_cert, .key = pki_->other_name_key});
  ASSERT_TRUE(elsewhere->ready());
  auto wrong_name = smtp_config(*elsewhere);
  {
    deliverer d(wrong_name);
    auto out = d.deliver(mail("ann@example.com", "Hi", "Must not arrive", ""));
    EXPECT_FALSE(out.ok);
  }
  EXPECT_EQ(elsewhere->messages().size(), 0u);

  // And the right CA with the right name does work (the failures above are the certificate's).
  deliverer d(cfg);
  auto out = d.deliver(mail("ann@example.com", "Hi", "Arrives", ""));
  EXPECT_TRUE(out.ok) << out.error;
  EXPECT_EQ(server->messages().size(), 1u);
}

TEST_F(DelivererSmtp, AServerWithoutStartTlsGetsNothing) {
  auto server = start({.plain = true});
  ASSERT_TRUE(server->ready());
  auto cfg = smtp_config(*server);
  deliverer d(cfg);
  auto out = d.deliver(mail("ann@example.com", "Hi", "Must not go in clear text", ""));
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(server->messages().size(), 0u);
}

// ---- sender_pool ------------------------------------------------------------

TEST(SenderPool, DeliversEveryEntryExactlyOnceAcrossItsThreads) {
  receiver r;
  constexpr size_t n = 200;
  std::mutex mutex;
  std::condition_variable all_done;
  std::map<std::string, int> done_ids;
  size_t done_calls = 0, failures = 0;
  std::set<std::string> submitted;
  {
    sender_pool pool(base_config(), 8);
    for (size_t i = 0; i < n; ++i) {
      auto e = entry(outbox_kind::webhook, r.url(), R"({"type":"user.login","seq":)" + std::to_string(i) + "}",
                     "user.login");
      submitted.insert(outbox_id_text(e.id));
      pool.submit(std::move(e), [&](const outbox_entry& sent, const delivery_outcome& out) {
        std::lock_guard<std::mutex> lock(mutex);
        ++done_ids[outbox_id_text(sent.id)];
        ++done_calls;
        if (!out.ok) ++failures;
        all_done.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(all_done.wait_for(lock, std::chrono::seconds(20), [&] { return done_calls >= n; }))
        << done_calls << " of " << n << " done";
  }  // the pool stops here: no done callback after this
  ASSERT_EQ(submitted.size(), n);
  EXPECT_EQ(done_calls, n);
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(done_ids.size(), n);
  for (auto& [id, count] : done_ids) {
    EXPECT_EQ(count, 1) << id;
    EXPECT_TRUE(submitted.count(id)) << id;
  }
  std::map<std::string, int> seen;
  for (auto& q : r.requests()) {
    ++seen[q.header("X-Roster-Delivery-Id")];
    expect_valid_signature(q.header("X-Roster-Signature"), q.body);
  }
  EXPECT_EQ(seen.size(), n);
  for (auto& [id, count] : seen) {
    EXPECT_EQ(count, 1) << id;
    EXPECT_TRUE(submitted.count(id)) << id;
  }
}

TEST(SenderPool, StopAbortsSendsThatHangAndDropsQueuedOnes) {
  receiver r(200, /*hang=*/true);
  std::atomic<int> done_calls{0};
  auto cfg = base_config();
  cfg.timeout = 20'000;  // far longer than stop() may take: only the abort ends the sends
  sender_pool pool(cfg, 2);
  for (int i = 0; i < 5; ++i)
    pool.submit(entry(outbox_kind::webhook, r.url(), R"({"type":"x"})", "x"),
                [&](const outbox_entry&, const delivery_outcome&) { ++done_calls; });
  ASSERT_TRUE(r.wait_for(2, std::chrono::seconds(5)));  // both threads are inside a send
  auto t0 = clock_type::now();
  pool.stop();
  EXPECT_LT(seconds_since(t0), 3.0);
  EXPECT_EQ(done_calls.load(), 0);  // aborted and queued entries stay pending in the store
  EXPECT_EQ(r.requests().size(), 2u);
  pool.submit(entry(outbox_kind::webhook, r.url(), R"({"type":"x"})", "x"),
              [&](const outbox_entry&, const delivery_outcome&) { ++done_calls; });
  pool.stop();  // idempotent
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(done_calls.load(), 0);
  EXPECT_EQ(r.requests().size(), 2u);
}

} // namespace
} // namespace roster
