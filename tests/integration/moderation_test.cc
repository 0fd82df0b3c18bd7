// Reports and the moderation queue over HTTP on one node (issue 12 item 4,
// SPEC §4): POST /v1/reports (with and without the block), the flag rule,
// GET /v1/admin/moderation/queue, resolving with ban / warn / clean, the
// relations view, the queue figures on /debug/actors and /metrics, a
// restart that rebuilds the queue from the store, and the webhook events.
// The cluster cases are in cluster_test.cc.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/support/roster_server.h"
#include "tests/support/webhook_receiver.h"

using namespace roster::testing;

namespace {

struct player {
  std::string id, token;
};

player guest(const roster_server& s) {
  auto r = s.call("POST", "/v1/sessions/anonymous");
  EXPECT_EQ(r.status, 201) << r.raw;
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

player named(const roster_server& s, const std::string& name) {
  auto r = s.register_user(name + "@example.com", name);
  EXPECT_EQ(r.status, 201) << r.raw;
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

response report(const roster_server& s, const player& by, const player& about, const std::string& category = "cheating",
                bool block = false) {
  return s.as(by.token, "POST", "/v1/reports",
              {{"user_id", about.id}, {"category", category}, {"reason", "aimbot in ranked"}, {"block", block}});
}

json queue(const roster_server& s, const std::string& query = "") {
  auto r = s.admin("GET", "/v1/admin/moderation/queue" + query);
  EXPECT_EQ(r.status, 200) << r.raw;
  return r.body;
}

json item_of(const json& q, const std::string& user_id) {
  for (auto& i : q["items"])
    if (i["user_id"] == user_id) return i;
  return nullptr;
}

std::string code_of(const response& r) { return r.body.is_object() ? r.body["error"].value("code", "") : ""; }

TEST(Moderation, FiveDistinctReportersFlagAUserAtTheTopAndOneReporterFiveTimesDoesNot) {
  roster_server s;
  auto target = named(s, "flag_me"), spammed = named(s, "spammed");
  std::vector<player> reporters;
  for (int i = 0; i < 5; ++i) reporters.push_back(guest(s));
  // One reporter, five reports about `spammed`: more reports, one reporter.
  for (int i = 0; i < 5; ++i) {
    auto r = report(s, reporters[0], spammed, "spam");
    ASSERT_EQ(r.status, 202) << r.raw;
    EXPECT_EQ(r.body["user_id"], spammed.id);
    EXPECT_EQ(r.body["category"], "spam");
    EXPECT_TRUE(r.body["id"].is_string());
  }
  for (int i = 0; i < 4; ++i) ASSERT_EQ(report(s, reporters[i], target).status, 202);
  auto q = queue(s);
  EXPECT_EQ(q["total"], 2);
  EXPECT_EQ(q["partial"], false);
  ASSERT_EQ(q["items"].size(), 2u) << q;
  // Not flagged yet: `spammed` has more reports and comes first.
  EXPECT_EQ(q["items"][0]["user_id"], spammed.id);
  EXPECT_EQ(q["items"][0]["total"], 5);
  EXPECT_EQ(q["items"][0]["distinct_reporters"], 1);
  EXPECT_EQ(q["items"][0]["flagged"], false);
  EXPECT_EQ(q["items"][0]["categories"]["spam"], 5);
  EXPECT_EQ(q["items"][1]["flagged"], false);
  // The fifth distinct reporter flags `target`: now at the top with fewer reports.
  ASSERT_EQ(report(s, reporters[4], target).status, 202);
  q = queue(s);
  ASSERT_EQ(q["items"].size(), 2u) << q;
  EXPECT_EQ(q["items"][0]["user_id"], target.id);
  EXPECT_EQ(q["items"][0]["flagged"], true);
  EXPECT_EQ(q["items"][0]["username"], "flag_me");
  EXPECT_EQ(q["items"][0]["distinct_reporters"], 5);
  EXPECT_EQ(q["items"][0]["status"], "pending");
  EXPECT_EQ(q["items"][1]["flagged"], false);
  // Pages of one.
  auto p2 = queue(s, "?page=2&page_size=1");
  ASSERT_EQ(p2["items"].size(), 1u);
  EXPECT_EQ(p2["items"][0]["user_id"], spammed.id);
  EXPECT_EQ(p2["total"], 2);
  // The operator figures, sampled by the queue actor every 500 ms.
  response actors;
  for (int i = 0; i < 40; ++i) {
    actors = s.admin("GET", "/debug/actors");
    if (actors.body.value("moderation_flagged", 0) == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(actors.body["moderation_queue_depth"], 2) << actors.raw;
  EXPECT_EQ(actors.body["moderation_flagged"], 1) << actors.raw;
  EXPECT_EQ(actors.body["nodes"][0]["moderation_queue"]["pending_reports"], 10) << actors.raw;
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text = s.call("GET", "/metrics").raw;
    if (text.find("roster_moderation_queue{figure=\"flagged\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(text.find("roster_moderation_queue{figure=\"depth\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("roster_moderation_queue{figure=\"flagged\"} 1"), std::string::npos);
  EXPECT_NE(text.find("roster_moderation_queue{figure=\"pending_reports\"} 10"), std::string::npos);
}

TEST(Moderation, AReportBlocksUnlessToldNotTo) {
  roster_server s;
  auto a = guest(s), b = guest(s), c = guest(s);
  ASSERT_EQ(s.as(a.token, "POST", "/v1/friends/" + b.id).status, 200);
  ASSERT_EQ(s.as(b.token, "POST", "/v1/friends/" + a.id).status, 200);
  auto r = s.as(a.token, "POST", "/v1/reports", {{"user_id", b.id}, {"category", "harassment"}, {"reason", "insults"}});
  ASSERT_EQ(r.status, 202) << r.raw;
  auto blocks = s.as(a.token, "GET", "/v1/blocks");
  ASSERT_EQ(blocks.body["items"].size(), 1u) << blocks.raw;
  EXPECT_EQ(blocks.body["items"][0]["user"]["id"], b.id);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/friends?state=friend").body["items"].size(), 0u);  // the block ended it
  ASSERT_EQ(report(s, a, c, "spam", false).status, 202);
  EXPECT_EQ(s.as(a.token, "GET", "/v1/blocks").body["items"].size(), 1u);  // c is not blocked
}

TEST(Moderation, BadReportsGetTheirErrors) {
  roster_server s;
  auto a = guest(s), b = guest(s);
  EXPECT_EQ(s.call("POST", "/v1/reports", {{"user_id", b.id}, {"category", "spam"}}).status, 401);
  auto self = s.as(a.token, "POST", "/v1/reports", {{"user_id", a.id}, {"category", "spam"}});
  EXPECT_EQ(self.status, 400) << self.raw;
  EXPECT_TRUE(self.body["error"]["fields"].contains("user_id"));
  auto bad = s.as(a.token, "POST", "/v1/reports", {{"user_id", "nope"}, {"category", "Not A Word"}, {"colour", 1}});
  EXPECT_EQ(bad.status, 400) << bad.raw;
  for (auto f : {"user_id", "category", "colour"}) EXPECT_TRUE(bad.body["error"]["fields"].contains(f)) << f;
  auto unknown = "00000000-0000-4000-8000-000000000001";
  for (bool block : {true, false}) {
    auto r = s.as(a.token, "POST", "/v1/reports", {{"user_id", unknown}, {"category", "spam"}, {"block", block}});
    EXPECT_EQ(r.status, 404) << r.raw;
  }
  EXPECT_EQ(queue(s)["total"], 0);
  EXPECT_EQ(s.raw("POST", "/v1/reports", "{", "application/json", {{"Authorization", "Bearer " + a.token}}).status, 400);
}

TEST(Moderation, AReporterFilesAtMostReportsPerMinute) {
  roster_server s(env{{"ROSTER_MODERATION_REPORTS_PER_MINUTE", "3"}});
  auto by = guest(s), other = guest(s);
  std::vector<player> targets;
  for (int i = 0; i < 4; ++i) targets.push_back(guest(s));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(report(s, by, targets[i]).status, 202);
  auto over = report(s, by, targets[3]);
  EXPECT_EQ(over.status, 429) << over.raw;
  EXPECT_EQ(code_of(over), "rate_limited");
  EXPECT_GE(std::stoi(over.header("Retry-After")), 1);
  EXPECT_EQ(queue(s)["total"], 3);
  EXPECT_EQ(report(s, other, targets[3]).status, 202);  // another reporter is not held back
}

TEST(Moderation, ResolvingBanWarnAndCleanRecordsWhoDecided) {
  roster_server s(env{{"ROSTER_ADMIN_KEYS", "test-admin-key-0123456789,mod-kim:kim-admin-key-0123456789"}});
  auto cheat = named(s, "cheater"), rude = named(s, "rude_one"), fine = named(s, "fine_one"), r1 = guest(s), r2 = guest(s);
  for (auto* who : {&cheat, &rude, &fine}) {
    ASSERT_EQ(report(s, r1, *who).status, 202);
    ASSERT_EQ(report(s, r2, *who).status, 202);
  }
  auto as_kim = [&](const std::string& path, const json& body) {
    return s.call("POST", path, body, {{"X-Admin-Key", "kim-admin-key-0123456789"}});
  };
  auto base = "/v1/admin/moderation/queue/";
  // Errors first: no key, bad input, nothing to resolve.
  EXPECT_EQ(s.call("POST", base + cheat.id + "/resolve", {{"action", "clean"}}).status, 401);
  auto bad = as_kim(base + cheat.id + "/resolve", {{"action", "nuke"}});
  EXPECT_EQ(bad.status, 400) << bad.raw;
  EXPECT_EQ(as_kim(base + r1.id + "/resolve", {{"action", "clean"}}).status, 404);  // never reported
  EXPECT_EQ(as_kim(std::string(base) + "not-a-uuid/resolve", {{"action", "clean"}}).status, 404);

  auto ban = as_kim(base + cheat.id + "/resolve", {{"action", "ban"}, {"reason", "wallhack"}, {"duration", "1h"}});
  ASSERT_EQ(ban.status, 200) << ban.raw;
  EXPECT_EQ(ban.body["status"], "resolved");
  EXPECT_EQ(ban.body["total"], 0);
  EXPECT_EQ(ban.body["resolved"], 2);
  EXPECT_EQ(ban.body["last_decision"]["action"], "ban");
  EXPECT_EQ(ban.body["last_decision"]["by"], "mod-kim");
  EXPECT_EQ(ban.body["last_decision"]["reports"], 2);
  auto banned = s.as(cheat.token, "GET", "/v1/account");
  EXPECT_EQ(banned.status, 403);
  EXPECT_EQ(code_of(banned), "account_banned");
  auto shown = s.admin("GET", "/v1/admin/bans/" + cheat.id);
  EXPECT_EQ(shown.body["banned"], true);
  EXPECT_EQ(shown.body["by"], "mod-kim");
  EXPECT_TRUE(shown.body["expires_at"].is_string());
  EXPECT_EQ(as_kim(base + cheat.id + "/resolve", {{"action", "clean"}}).status, 404);  // resolved already

  auto warn = as_kim(base + rude.id + "/resolve", {{"action", "warn"}, {"reason", "keep it civil"}});
  ASSERT_EQ(warn.status, 200) << warn.raw;
  auto notes = s.as(rude.token, "GET", "/v1/notifications");
  ASSERT_EQ(notes.status, 200) << notes.raw;
  ASSERT_GE(notes.body["items"].size(), 1u) << notes.raw;
  EXPECT_EQ(notes.body["items"][0]["body"], "keep it civil");
  EXPECT_EQ(s.as(rude.token, "GET", "/v1/account").status, 200);  // a warning is no ban

  ASSERT_EQ(s.admin("POST", base + fine.id + "/resolve", {{"action", "clean"}}).status, 200);
  EXPECT_EQ(queue(s)["total"], 0);
  auto resolved = queue(s, "?status=resolved");
  EXPECT_EQ(resolved["total"], 3);
  EXPECT_EQ(item_of(resolved, fine.id)["last_decision"]["action"], "clean");
  EXPECT_EQ(s.admin("GET", "/v1/admin/moderation/queue?status=open").status, 400);
  EXPECT_EQ(s.call("GET", "/v1/admin/moderation/queue").status, 401);
  // A new report puts a resolved user back in the queue.
  ASSERT_EQ(report(s, r1, fine, "spam").status, 202);
  auto again = item_of(queue(s), fine.id);
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again["total"], 1);
  EXPECT_EQ(again["resolved"], 2);
}

TEST(Moderation, RelationsShowBlocksAndReportsBothWays) {
  roster_server s;
  auto ann = named(s, "ann_rel"), bob = named(s, "bob_rel"), cy = named(s, "cy_rel");
  ASSERT_EQ(s.as(ann.token, "POST", "/v1/blocks/" + bob.id).status, 200);
  ASSERT_EQ(report(s, cy, bob, "spam", false).status, 202);
  ASSERT_EQ(report(s, bob, ann, "cheating", false).status, 202);
  auto rel = s.admin("GET", "/v1/admin/users/" + bob.id + "/relations");
  ASSERT_EQ(rel.status, 200) << rel.raw;
  ASSERT_EQ(rel.body["blocked_by"].size(), 1u) << rel.raw;
  EXPECT_EQ(rel.body["blocked_by"][0]["user_id"], ann.id);
  EXPECT_EQ(rel.body["blocked_by"][0]["username"], "ann_rel");
  EXPECT_TRUE(rel.body["blocked_by"][0]["at"].is_string());
  ASSERT_EQ(rel.body["reported_by"].size(), 1u);
  EXPECT_EQ(rel.body["reported_by"][0]["user_id"], cy.id);
  EXPECT_EQ(rel.body["reported_by"][0]["username"], "cy_rel");
  ASSERT_EQ(rel.body["reports"].size(), 1u);
  EXPECT_EQ(rel.body["reports"][0]["user_id"], ann.id);
  EXPECT_EQ(rel.body["reports"][0]["username"], "ann_rel");
  EXPECT_EQ(rel.body["blocks"].size(), 0u);
  auto ann_rel = s.admin("GET", "/v1/admin/users/" + ann.id + "/relations");
  ASSERT_EQ(ann_rel.body["blocks"].size(), 1u) << ann_rel.raw;
  EXPECT_EQ(ann_rel.body["blocks"][0]["user_id"], bob.id);
  EXPECT_EQ(ann_rel.body["reported_by"][0]["user_id"], bob.id);
  EXPECT_EQ(s.admin("GET", "/v1/admin/users/00000000-0000-4000-8000-000000000001/relations").status, 404);
  EXPECT_EQ(s.call("GET", "/v1/admin/users/" + bob.id + "/relations").status, 401);
  // The reporter's own security log has the report; the reported user's does not.
  auto logs = s.as(cy.token, "GET", "/v1/account/logs");
  bool logged = false;
  for (auto& e : logs.body["items"]) logged = logged || e["event"] == "report";
  EXPECT_TRUE(logged) << logs.raw;
}

TEST(Moderation, TheQueueShowsAReportedUsersCurrentName) {
  roster_server s;
  auto v = named(s, "victim_two"), r = guest(s);
  ASSERT_EQ(report(s, r, v).status, 202);
  auto renamed = s.as(v.token, "PATCH", "/v1/account", {{"username", "renamed_two"}});
  ASSERT_EQ(renamed.status, 200) << renamed.raw;
  EXPECT_EQ(item_of(queue(s), v.id)["username"], "renamed_two");
}

TEST(Moderation, ARestartRebuildsTheQueueFromTheStore) {
  roster_server s;
  auto target = guest(s);
  std::vector<player> reporters;
  for (int i = 0; i < 5; ++i) {
    reporters.push_back(guest(s));
    ASSERT_EQ(report(s, reporters.back(), target).status, 202);
  }
  auto before = item_of(queue(s), target.id);
  ASSERT_EQ(before["flagged"], true);
  s.kill9();
  s.start();
  auto after = item_of(queue(s), target.id);
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after, before);
  // Deleting the user takes its entry with it.
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/users/" + target.id).status, 204);
  EXPECT_EQ(queue(s)["total"], 0);
}

TEST(Moderation, ReportsAndDecisionsBecomeWebhookEvents) {
  const std::string secret = "whsec-test-0123456789abcdef";
  webhook_receiver hook(free_port(), secret);
  hook.start();
  roster_server s(env{{"ROSTER_WEBHOOKS_URLS", hook.url()}, {"ROSTER_WEBHOOKS_SECRET", secret}});
  auto target = guest(s), by = guest(s);
  ASSERT_EQ(report(s, by, target, "spam").status, 202);
  ASSERT_EQ(s.admin("POST", "/v1/admin/moderation/queue/" + target.id + "/resolve", {{"action", "clean"}}).status, 200);
  auto has = [&](const std::string& type) {
    return hook.wait_for([&](const std::vector<delivery>& all) {
      for (auto& d : all)
        if (d.event == type && d.signature_ok) return true;
      return false;
    });
  };
  ASSERT_TRUE(has("report.filed"));
  ASSERT_TRUE(has("moderation.resolved"));
  for (auto& d : hook.accepted()) {
    auto j = json::parse(d.body);
    if (d.event == "report.filed") {  // the reporter's event
      EXPECT_EQ(j["user_id"], by.id);
      EXPECT_EQ(j["data"]["reported_user_id"], target.id);
      EXPECT_EQ(j["data"]["category"], "spam");
    }
    // Nothing in the reported user's sequence but the decision.
    if (j["user_id"] == target.id && d.event != "user.registered" && d.event != "user.login")
      EXPECT_EQ(d.event, "moderation.resolved") << d.body;
    if (d.event == "moderation.resolved") {
      EXPECT_EQ(j["data"]["action"], "clean");
      EXPECT_EQ(j["data"]["reports"], 1);
    }
  }
}

} // namespace
