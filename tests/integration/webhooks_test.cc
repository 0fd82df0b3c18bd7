// Webhook events through the outbox and the notification sender, against a
// real HTTP receiver (tests/support/webhook_receiver.h) that checks every
// signature with OpenSSL: what is sent, that nothing is lost while the
// receiver is down or the node is killed, dead letters and their retry.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "tests/support/roster_server.h"
#include "tests/support/webhook_receiver.h"

using namespace roster::testing;

namespace {

const std::string secret = "whsec-test-0123456789abcdef";

env webhook_env(const webhook_receiver& r, env extra = {}) {
  extra["ROSTER_WEBHOOKS_URLS"] = r.url();
  extra["ROSTER_WEBHOOKS_SECRET"] = secret;
  if (!extra.count("ROSTER_OUTBOX_BACKOFF_INITIAL")) extra["ROSTER_OUTBOX_BACKOFF_INITIAL"] = "100ms";
  if (!extra.count("ROSTER_OUTBOX_BACKOFF_MAX")) extra["ROSTER_OUTBOX_BACKOFF_MAX"] = "500ms";
  return extra;
}

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

std::vector<json> events_of(const std::vector<delivery>& ds, const std::string& user_id) {
  std::vector<json> out;
  for (auto& d : ds) {
    auto j = json::parse(d.body, nullptr, false);
    if (j.is_object() && j.value("user_id", "") == user_id) out.push_back(j);
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) { return a["seq"] < b["seq"]; });
  return out;
}

TEST(Webhooks, EveryChangeBecomesASignedEventWithAPerUserSequence) {
  webhook_receiver hook(free_port(), secret);
  hook.start();
  roster_server s(webhook_env(hook));
  auto reg = s.register_user("ann@example.com", "ann_hooks");
  ASSERT_EQ(reg.status, 201) << reg.raw;
  auto uid = reg.body["user"]["id"].get<std::string>();
  auto token = token_of(reg);
  ASSERT_EQ(s.login("ann@example.com", "wrong-horse-9").status, 401);
  auto second = s.login("ann_hooks");
  ASSERT_EQ(second.status, 201);
  ASSERT_EQ(s.as(token, "PATCH", "/v1/account", {{"display_name", "Ann"}}).status, 200);
  ASSERT_EQ(s.as(token, "DELETE", "/v1/sessions/" + second.body["session"]["id"].get<std::string>()).status, 204);
  ASSERT_EQ(s.as(token, "PUT", "/v1/account/password",
                 {{"current_password", "correct-horse-9"}, {"new_password", "battery-staple-77"}}).status, 200);
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + uid + "/block").status, 200);
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/users/" + uid).status, 204);

  std::vector<std::string> expected = {"user.registered", "user.login_failed", "user.login", "user.profile_updated",
                                       "session.revoked", "user.password_changed", "user.status_changed", "user.deleted"};
  ASSERT_TRUE(hook.wait_for([&](auto& ds) { return events_of(ds, uid).size() >= expected.size(); }))
      << hook.deliveries().size() << " deliveries\n" << s.log();
  auto events = events_of(hook.accepted(), uid);
  ASSERT_EQ(events.size(), expected.size());
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i]["type"], expected[i]) << i;
    EXPECT_EQ(events[i]["seq"], i + 1);  // one sequence per user, no gap
    EXPECT_EQ(events[i]["id"], uid + ":" + std::to_string(i + 1));
    EXPECT_EQ(events[i]["user_id"], uid);
  }
  EXPECT_EQ(events[3]["data"]["fields"], json::array({"display_name"}));
  EXPECT_EQ(events[6]["data"]["to"], "blocked");
  for (auto& d : hook.deliveries()) {
    EXPECT_TRUE(d.signature_ok) << d.body;
    EXPECT_EQ(d.id.size(), 32u);
    EXPECT_EQ(json::parse(d.body)["type"], d.event);
    // Never a secret in an event.
    EXPECT_EQ(d.body.find("correct-horse-9"), std::string::npos);
    EXPECT_EQ(d.body.find("battery-staple-77"), std::string::npos);
    EXPECT_EQ(d.body.find(token), std::string::npos);
    EXPECT_EQ(d.body.find("argon2"), std::string::npos);
  }
  // The figure follows the sender's reading of the last answer, just after the receiver saw it.
  EXPECT_TRUE(hook.wait_for([&](auto&) { return s.admin("GET", "/debug/actors").body["outbox_depth"] == 0; }))
      << s.admin("GET", "/debug/actors").raw;
}

TEST(Webhooks, TheEventsFilterSendsOnlyTheTypesNamed) {
  webhook_receiver hook(free_port(), secret);
  hook.start();
  roster_server s(webhook_env(hook, {{"ROSTER_WEBHOOKS_EVENTS", "user.login"}}));
  auto reg = s.register_user("bo@example.com", "bo_hooks");
  ASSERT_EQ(reg.status, 201);
  ASSERT_EQ(s.login("bo_hooks").status, 201);
  ASSERT_TRUE(hook.wait_for([](auto& ds) { return !ds.empty(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto all = hook.accepted();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].event, "user.login");
}

// The receiver is down for a while, then up: every event arrives after
// backoff, none lost; an id arrives twice only if it was not acknowledged.
TEST(Webhooks, AReceiverThatComesBackGetsEverythingItMissed) {
  webhook_receiver hook(free_port(), secret);
  roster_server s(webhook_env(hook, {{"ROSTER_OUTBOX_MAX_ATTEMPTS", "100"}}));  // none dies before the receiver is up
  auto reg = s.register_user("cy@example.com", "cy_hooks");
  ASSERT_EQ(reg.status, 201);
  auto uid = reg.body["user"]["id"].get<std::string>();
  auto token = token_of(reg);
  for (int i = 0; i < 19; ++i)
    ASSERT_EQ(s.as(token, "PATCH", "/v1/account", {{"display_name", "Cy " + std::to_string(i)}}).status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // several failed attempts each
  auto pending = s.admin("GET", "/v1/admin/outbox?state=pending&limit=200");
  ASSERT_EQ(pending.status, 200);
  EXPECT_EQ(pending.body["items"].size(), 20u);
  EXPECT_GT(pending.body["items"][0]["attempts"].get<int>(), 0);
  EXPECT_NE(pending.body["items"][0]["last_error"], "");
  EXPECT_EQ(s.admin("GET", "/debug/actors").body["outbox_depth"], 20);
  hook.start();
  ASSERT_TRUE(hook.wait_for([&](auto& ds) { return events_of(ds, uid).size() == 20; }))
      << hook.accepted().size() << s.admin("GET", "/v1/admin/outbox?state=pending").raw
      << s.admin("GET", "/v1/admin/outbox?state=dead").raw << s.admin("GET", "/debug/actors").raw;
  auto events = events_of(hook.accepted(), uid);
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i]["seq"], i + 1);
  // Each delivery id the receiver saw more than once was answered 200 at most once before.
  std::map<std::string, int> ok_count;
  for (auto& d : hook.deliveries()) ok_count[d.id] += d.answered == 200;
  for (auto& [id, n] : ok_count) EXPECT_EQ(n, 1) << id;
  ASSERT_TRUE(hook.wait_for([&](auto&) { return s.admin("GET", "/debug/actors").body["outbox_depth"] == 0; }));
}

// A receiver that always fails: dead letters after outbox.max_attempts,
// listed for the operator; a retry once it is fixed delivers them.
TEST(Webhooks, DeadLettersAreListedAndRetried) {
  webhook_receiver hook(free_port(), secret);
  hook.status = 500;
  hook.start();
  roster_server s(webhook_env(hook, {{"ROSTER_OUTBOX_MAX_ATTEMPTS", "3"}, {"ROSTER_OUTBOX_BACKOFF_INITIAL", "50ms"}}));
  auto reg = s.register_user("di@example.com", "di_hooks");
  ASSERT_EQ(reg.status, 201);
  auto token = token_of(reg);
  ASSERT_EQ(s.as(token, "PATCH", "/v1/account", {{"display_name", "Di"}}).status, 200);
  json dead;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < until) {
    dead = s.admin("GET", "/v1/admin/outbox?state=dead").body;
    if (dead["items"].size() == 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(dead["items"].size(), 2u) << dead.dump();
  EXPECT_EQ(dead["items"][0]["attempts"], 3);
  EXPECT_EQ(dead["items"][0]["state"], "dead");
  EXPECT_EQ(dead["items"][0]["purpose"], "user.registered");
  EXPECT_NE(dead["items"][0]["last_error"].get<std::string>().find("500"), std::string::npos);
  EXPECT_TRUE(dead["items"][0]["next_attempt_at"].is_null());
  EXPECT_FALSE(dead["items"][0].contains("text"));
  EXPECT_EQ(hook.deliveries().size(), 6u);  // 2 entries × 3 attempts, then no more
  // The figures are published just after the store write the listing reads.
  EXPECT_TRUE(hook.wait_for([&](auto&) { return s.admin("GET", "/debug/actors").body["outbox_dead_letters"] == 2; }))
      << s.admin("GET", "/debug/actors").raw;
  EXPECT_NE(s.call("GET", "/metrics").raw.find("roster_outbox{figure=\"dead_letters\"} 2"), std::string::npos);
  // Pages: one at a time, in order.
  auto first = s.admin("GET", "/v1/admin/outbox?state=dead&limit=1");
  ASSERT_EQ(first.body["items"].size(), 1u);
  auto next = s.admin("GET", "/v1/admin/outbox?state=dead&limit=1&cursor=" + first.body["next_cursor"].get<std::string>());
  ASSERT_EQ(next.body["items"].size(), 1u);
  EXPECT_EQ(next.body["items"][0]["id"], dead["items"][1]["id"]);
  EXPECT_TRUE(next.body["next_cursor"].is_null());

  hook.status = 200;
  auto id = dead["items"][0]["id"].get<std::string>();
  auto retried = s.admin("POST", "/v1/admin/outbox/" + id + "/retry");
  ASSERT_EQ(retried.status, 200) << retried.raw;
  EXPECT_EQ(retried.body["state"], "pending");
  EXPECT_EQ(retried.body["attempts"], 0);
  ASSERT_TRUE(hook.wait_for([&](auto& ds) { return ds.size() == 1; }));
  EXPECT_EQ(hook.accepted()[0].id, id);  // the same delivery id as the failed attempts
  ASSERT_TRUE(hook.wait_for([&](auto&) { return s.admin("GET", "/v1/admin/outbox?state=dead").body["items"].size() == 1; }));
  EXPECT_EQ(s.admin("GET", "/debug/actors").body["outbox_dead_letters"], 1);

  EXPECT_EQ(s.admin("POST", "/v1/admin/outbox/" + std::string(32, '0') + "/retry").status, 404);
  EXPECT_EQ(s.admin("POST", "/v1/admin/outbox/not-an-id/retry").status, 404);
  EXPECT_EQ(s.call("POST", "/v1/admin/outbox/" + id + "/retry").status, 401);
  EXPECT_EQ(s.call("GET", "/v1/admin/outbox").status, 401);
  EXPECT_EQ(s.admin("GET", "/v1/admin/outbox?state=sent").status, 400);
  EXPECT_EQ(s.admin("GET", "/v1/admin/outbox?cursor=zzzz").status, 400);
}

// kill -9 with 1,000 messages pending: after the restart every one arrives.
TEST(Webhooks, PendingMessagesSurviveKillNine) {
  webhook_receiver hook(free_port(), secret);
  roster_server s(webhook_env(hook, {{"ROSTER_OUTBOX_BACKOFF_INITIAL", "5s"}, {"ROSTER_OUTBOX_BACKOFF_MAX", "5s"}}));
  auto reg = s.register_user("ed@example.com", "ed_hooks");
  ASSERT_EQ(reg.status, 201);
  auto uid = reg.body["user"]["id"].get<std::string>();
  auto token = token_of(reg);
  auto cli = s.client();
  for (int i = 0; i < 999; ++i) {
    auto r = cli.Patch("/v1/account", {{"Authorization", "Bearer " + token}},
                       json{{"display_name", "Ed " + std::to_string(i)}}.dump(), "application/json");
    ASSERT_TRUE(r && r->status == 200) << i;
  }
  s.kill9();
  hook.start();
  s.start();
  ASSERT_TRUE(hook.wait_for([&](auto& ds) { return events_of(ds, uid).size() == 1000; }, std::chrono::seconds(30)))
      << events_of(hook.accepted(), uid).size();
  auto events = events_of(hook.accepted(), uid);
  for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i]["seq"], i + 1);
}

} // namespace
