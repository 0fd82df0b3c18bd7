// The outbox's pure rules: ids that sort by time, the stored form, the retry
// schedule, the webhook signature (checked against Python's hmac module), and
// message templates.
#include <gtest/gtest.h>

#include "domain/events.h"
#include "domain/message_text.h"
#include "domain/outbox.h"

namespace roster {
namespace {

TEST(Outbox, IdsSortByCreationTimeAndRoundTripAsText) {
  auto a = new_outbox_id(1'700'000'000'000, 300), b = new_outbox_id(1'700'000'000'001, 2);
  ASSERT_EQ(a.size(), 16u);
  EXPECT_LT(a, b);
  EXPECT_NE(new_outbox_id(5, 1), new_outbox_id(5, 1));
  EXPECT_EQ(outbox_partition(a), 300);
  EXPECT_EQ(outbox_partition(b), 2);
  EXPECT_EQ(outbox_time(a), 1'700'000'000'000);
  auto text = outbox_id_text(a);
  EXPECT_EQ(text.size(), 32u);
  EXPECT_EQ(outbox_id_from_text(text), a);
  EXPECT_FALSE(outbox_id_from_text(text.substr(1)));
  EXPECT_FALSE(outbox_id_from_text(std::string(32, 'g')));
  EXPECT_FALSE(outbox_id_from_text(std::string(32, 'A')));  // ids are lowercase
}

TEST(Outbox, EntriesRoundTripThroughTheirStoredForm) {
  outbox_entry e;
  e.id = new_outbox_id(42, 7);
  e.kind = outbox_kind::email;
  e.user_id = "0b1e5f2c-7d4a-4c3e-9f00-112233445566";
  e.to = "ann@example.com";
  e.subject = "Your code";
  e.text = "Your code is 123456";
  e.html = "<p>123456</p>";
  e.purpose = "email_code";
  e.state = outbox_state::dead;
  e.attempts = 12;
  e.created_at = 42;
  e.next_at = 99;
  e.last_error = "550 no such mailbox";
  auto back = decode_outbox(encode_outbox(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, e.id);
  EXPECT_EQ(back->kind, e.kind);
  EXPECT_EQ(back->to, e.to);
  EXPECT_EQ(back->html, e.html);
  EXPECT_EQ(back->state, outbox_state::dead);
  EXPECT_EQ(back->attempts, 12);
  EXPECT_EQ(back->next_at, 99);
  EXPECT_EQ(back->last_error, e.last_error);
  EXPECT_EQ(encode_outbox(*back), encode_outbox(e));
  auto shown = nlohmann::json::parse(outbox_admin_view(e));
  EXPECT_EQ(shown["id"], outbox_id_text(e.id));
  EXPECT_EQ(shown["state"], "dead");
  EXPECT_TRUE(shown["next_attempt_at"].is_null());
  EXPECT_FALSE(shown.contains("text"));  // the body may hold a code: never shown
  EXPECT_FALSE(shown.contains("html"));
  EXPECT_EQ(redact_url("https://user:pw@hooks.example.com:8443/T0/B1/secret?x=1"), "https://hooks.example.com:8443/…");
  EXPECT_EQ(redact_url("http://127.0.0.1:9"), "http://127.0.0.1:9");
  e.kind = outbox_kind::webhook;
  e.to = "https://hooks.example.com/services/secret-token";
  EXPECT_EQ(nlohmann::json::parse(outbox_admin_view(e))["to"], "https://hooks.example.com/…");
  // The stored form is binary; a cut or padded one is not an entry.
  auto stored = encode_outbox(e);
  EXPECT_EQ(stored.find("Your code is"), stored.rfind("Your code is"));  // the body once, unescaped
  EXPECT_FALSE(decode_outbox(stored.substr(0, stored.size() - 1)));
  EXPECT_FALSE(decode_outbox(stored + "x"));
  EXPECT_FALSE(decode_outbox(""));
  auto wrong_kind = stored;
  wrong_kind[1] = 9;
  EXPECT_FALSE(decode_outbox(wrong_kind));
  // Entries stored as JSON (before the binary form) are still read.
  auto legacy = decode_outbox(R"({"id":"000000000000000000000000000000aa","kind":"webhook","state":"pending",)"
                              R"("to":"http://127.0.0.1:9/h","text":"{\"a\":1}","attempts":2,"next_at":7})");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->kind, outbox_kind::webhook);
  EXPECT_EQ(legacy->text, R"({"a":1})");
  EXPECT_EQ(legacy->attempts, 2);
  EXPECT_EQ(legacy->next_at, 7);
  EXPECT_FALSE(decode_outbox("[]"));
  EXPECT_FALSE(decode_outbox(R"({"id":"00","kind":"email","state":"pending"})"));
  EXPECT_FALSE(decode_outbox(R"({"id":"000000000000000000000000000000aa","kind":"fax","state":"pending"})"));
  EXPECT_FALSE(decode_outbox(R"({"id":"000000000000000000000000000000aa","kind":"sms","state":"pending","attempts":"3"})"));
}

TEST(Outbox, RetriesBackOffExponentiallyWithJitterThenGiveUp) {
  retry_policy p{5, 2'000, 10'000};
  outbox_entry e;
  auto delay = [&](int64_t attempts, double jitter) {
    e.attempts = attempts;
    auto at = next_attempt(e, 1'000'000, p, jitter);
    return at ? *at - 1'000'000 : -1;
  };
  EXPECT_EQ(delay(1, 1.0), 2'000);
  EXPECT_EQ(delay(1, 0.0), 1'000);  // jitter scales into [0.5, 1.0] of the step
  EXPECT_EQ(delay(2, 1.0), 4'000);
  EXPECT_EQ(delay(3, 1.0), 8'000);
  EXPECT_EQ(delay(4, 1.0), 10'000);  // capped at backoff_max
  EXPECT_EQ(delay(4, 0.5), 7'500);
  EXPECT_EQ(delay(5, 1.0), -1);  // max_attempts reached: a dead letter
  p.max_attempts = 1'000;
  EXPECT_EQ(delay(900, 1.0), 10'000);  // no overflow for large counts
}

TEST(Outbox, WebhookSignatureIsHmacSha256OfTimestampDotBody) {
  // python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec_test",
  //   b"1700000000.{\"type\":\"user.registered\"}", hashlib.sha256).hexdigest())'
  EXPECT_EQ(webhook_signature("whsec_test", 1'700'000'000, R"({"type":"user.registered"})"),
            "t=1700000000,v1=c9a7e486ce0fec71da4ac6573ff7a653d91a394d2ab292cb205cd323afdf36d1");
}

TEST(MessageText, PlaceholdersAreFilledAndEscapedInHtml) {
  message_template t{"Hi {{ name }}\r\nBcc: x@evil", "Code {{code}} for {{name}}{{unknown}}.",
                     "<p>{{name}} {{code}}</p>"};
  auto m = render(t, {{"name", "<Ann & \"Bo\">"}, {"code", "123456"}});
  EXPECT_EQ(m.subject, "Hi <Ann & \"Bo\">  Bcc: x@evil");  // no header can start in a subject
  EXPECT_EQ(m.text, "Code 123456 for <Ann & \"Bo\">.");
  EXPECT_EQ(m.html, "<p>&lt;Ann &amp; &quot;Bo&quot;&gt; 123456</p>");
  EXPECT_EQ(render({"", "{{unclosed", ""}, {}).text, "{{unclosed");
}

TEST(MessageText, EveryKindHasADefaultThatUsesItsValues) {
  for (auto& kind : message_kinds()) {
    auto t = default_template(kind);
    EXPECT_FALSE(t.text.empty()) << kind;
    auto m = render(t, {{"code", "123456"}, {"link", "https://x/verify?t=abc"}, {"minutes", "10"},
                        {"email", "new@example.com"}});
    EXPECT_EQ(m.text.find("{{"), std::string::npos) << kind;
    bool carries = m.text.find("123456") != std::string::npos || m.text.find("https://x/verify") != std::string::npos ||
                   m.text.find("new@example.com") != std::string::npos;
    EXPECT_TRUE(carries) << kind;
  }
  EXPECT_TRUE(default_template("no_such_kind").text.empty());
}

} // namespace
} // namespace roster

namespace roster {
namespace {

TEST(Events, AnEventIsItsUserSequenceTypeTimeAndData) {
  auto text = event_json(event_type::login, "0b1e5f2c-7d4a-4c3e-9f00-112233445566", 7, 1'700'000'000'000,
                         {{"method", "device"}});
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["id"], "0b1e5f2c-7d4a-4c3e-9f00-112233445566:7");
  EXPECT_EQ(j["seq"], 7);
  EXPECT_EQ(j["type"], "user.login");
  EXPECT_EQ(j["at"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(j["data"]["method"], "device");
  EXPECT_TRUE(nlohmann::json::parse(event_json(event_type::deleted, "u", 1, 0, nullptr))["data"].is_object());
}

TEST(Events, EachWebhookThatWantsTheTypeGetsItsOwnEntry) {
  std::vector<std::string> urls = {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"};
  auto all = webhook_entries(event_type::registered, "u", 3, "{}", urls, {}, 5);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].to, urls[0]);
  EXPECT_EQ(all[1].to, urls[1]);
  EXPECT_NE(all[0].id, all[1].id);  // separate deliveries, each retried on its own
  EXPECT_EQ(all[0].kind, outbox_kind::webhook);
  EXPECT_EQ(all[0].purpose, "user.registered");
  EXPECT_EQ(all[0].next_at, 5);
  EXPECT_TRUE(webhook_entries(event_type::login, "u", 3, "{}", urls, {"user.registered"}, 5).empty());
  EXPECT_EQ(webhook_entries(event_type::login, "u", 3, "{}", urls, {"user.login"}, 5).size(), 2u);
  EXPECT_TRUE(webhook_entries(event_type::login, "u", 3, "{}", {}, {}, 5).empty());
}

} // namespace
} // namespace roster
