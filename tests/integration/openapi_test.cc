// A real node answers as docs/openapi.yaml says. The test calls every documented operation,
// its successes and the errors that are cheap to provoke, records each answer
// (roster_server::record_to) and has tests/support/openapi_check.py check them all: the status
// is documented for the operation, the media type and the body match the response's schema,
// an error's code is one the response lists. It fails too when an operation of the document
// was never called, so a new endpoint needs a call here.
#include <gtest/gtest.h>

#include <thread>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

std::string token_of(const response& r) { return r.body["session"]["token"].get<std::string>(); }

/// Runs the checker over the recorded answers; its exit code and report.
std::pair<int, std::string> check_answers(const std::string& exchanges) {
  return run_command(std::string(ROSTER_TEST_PYTHON) + " " ROSTER_SOURCE_DIR "/tests/support/openapi_check.py " +
                     ROSTER_SOURCE_DIR " " + exchanges + " --every-operation 2>&1");
}

TEST(OpenApi, EveryOperationAnswersAsDocumented) {
  char tmpl[] = "/tmp/roster-openapi-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string exchanges = dir + "/exchanges.jsonl", backup_root = dir + "/backups";
  std::filesystem::create_directory(backup_root);
  {
    // Webhooks to a port nobody listens on, one attempt each: dead letters to list.
    roster_server s(env{{"ROSTER_ADMIN_BACKUP_ROOT", backup_root},
                        {"ROSTER_WEBHOOKS_URLS", "http://127.0.0.1:" + std::to_string(free_port()) + "/hooks"},
                        {"ROSTER_WEBHOOKS_SECRET", "whsec-openapi-0123456789"},
                        {"ROSTER_OUTBOX_MAX_ATTEMPTS", "1"}});
    s.record_to(exchanges);
    auto bearer = [&](const std::string& t) { return httplib::Headers{{"Authorization", "Bearer " + t}}; };

    // registration and logins
    auto ann = s.call("POST", "/v1/accounts",
                      {{"email", "ann@example.com"}, {"username", "ann"}, {"password", "correct-horse-9"},
                       {"display_name", "Ann"}, {"metadata", {{"level", 1}}}});
    ASSERT_EQ(ann.status, 201) << ann.raw;
    std::string ann_id = ann.body["user"]["id"], t_reg = token_of(ann);
    EXPECT_EQ(s.register_user("ANN@example.com", "ann_again").status, 409);
    EXPECT_EQ(s.call("POST", "/v1/accounts", {{"password", "short"}, {"colour", "red"}}).status, 400);
    EXPECT_EQ(s.raw("POST", "/v1/accounts", "{\"email\":", "application/json").status, 400);
    EXPECT_EQ(s.raw("POST", "/v1/accounts", "email=a", "text/plain").status, 415);
    auto bob = s.register_user("", "bob");
    ASSERT_EQ(bob.status, 201) << bob.raw;
    std::string bob_id = bob.body["user"]["id"];
    auto login = s.login("ann");
    ASSERT_EQ(login.status, 201) << login.raw;
    std::string t = token_of(login);
    EXPECT_EQ(s.login("ann", "wrong-password-1").status, 401);
    auto dev = s.call("POST", "/v1/sessions/device", {{"device_id", "console-0001-abc"}});
    ASSERT_EQ(dev.status, 201) << dev.raw;
    EXPECT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "console-0001-abc"}}).body["created"], false);
    EXPECT_EQ(s.call("POST", "/v1/sessions/device", {{"device_id", "short"}}).status, 400);
    std::string dev_id = dev.body["user"]["id"], t_dev = token_of(dev);
    // One-time codes: the answers only (tests/integration/codes_test.cc reads the codes).
    EXPECT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "spec-code@example.com"}}).status, 202);
    EXPECT_EQ(s.call("POST", "/v1/auth/email-code", {{"email", "spec-code@example.com"}}).status, 429);
    EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "spec-code@example.com"}, {"code", "12"}}).status, 400);
    EXPECT_EQ(s.call("POST", "/v1/sessions/email-code", {{"email", "nobody@example.com"}, {"code", "123456"}}).status, 401);
    EXPECT_EQ(s.call("POST", "/v1/auth/recovery", {{"email", "spec-code@example.com"}}).status, 202);
    EXPECT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "spec-link@example.com"}}).status, 202);
    EXPECT_EQ(s.call("POST", "/v1/auth/magic-link", {{"email", "spec-link@example.com"}, {"redirect_url", "https://x/"}}).status, 400);
    EXPECT_EQ(s.call("POST", "/v1/sessions/magic-link", {{"token", std::string(43, 'A')}}).status, 401);
    EXPECT_EQ(s.call("POST", "/v1/auth/recovery/confirm",
                     {{"email", "nobody@example.com"}, {"code", "123456"}, {"new_password", "battery-staple-77"}}).status, 401);
    auto guest = s.call("POST", "/v1/sessions/anonymous");
    ASSERT_EQ(guest.status, 201) << guest.raw;
    EXPECT_EQ(s.as(t, "POST", "/v1/account/verification/email").status, 202);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/email", {{"email", "spec-new@example.com"}}).status, 202);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/email/confirm", {{"email", "spec-new@example.com"}, {"code", "123456"}}).status, 401);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/verification/email/confirm", {{"code", "123456"}}).status, 401);
    EXPECT_EQ(s.as(token_of(guest), "POST", "/v1/account/verification/email").status, 400);
    // Providers (no settings on this node: refused before any call), custom ids, identities, prefs.
    EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", "a.b.c"}}).status, 403);
    EXPECT_EQ(s.call("POST", "/v1/sessions/provider/google", {{"token", ""}}).status, 400);
    EXPECT_EQ(s.call("POST", "/v1/sessions/provider/myspace", {{"token", "x"}}).status, 404);
    EXPECT_EQ(s.call("POST", "/v1/sessions/custom", {{"custom_id", "srv-1"}}).status, 401);
    EXPECT_EQ(s.admin("POST", "/v1/sessions/custom", {{"custom_id", "srv-1"}}).status, 201);
    EXPECT_EQ(s.as(t_dev, "GET", "/v1/account/identities").status, 200);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/account/identities/device", {{"device_id", "console-0002-abc"}}).status, 200);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/account/identities/device", {{"device_id", "console-0002-abc"}}).status, 409);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/account/identities/google", {{"token", "a.b.c"}}).status, 403);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/account/identities/custom", {{"custom_id", "x"}}).status, 400);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/account/identities/myspace", {{"token", "x"}}).status, 404);
    EXPECT_EQ(s.as(t_dev, "DELETE", "/v1/account/identities/device", {{"device_id", "console-0002-abc"}}).status, 200);
    EXPECT_EQ(s.as(t_dev, "DELETE", "/v1/account/identities/device", {{"device_id", "console-0001-abc"}}).status, 409);
    EXPECT_EQ(s.as(t_dev, "DELETE", "/v1/account/identities/steam").status, 404);
    EXPECT_EQ(s.as(t_dev, "PUT", "/v1/account/prefs", {{"volume", 3}}).status, 200);
    EXPECT_EQ(s.as(t_dev, "PUT", "/v1/account/prefs", json::array()).status, 400);
    EXPECT_EQ(s.as(t_dev, "GET", "/v1/account/prefs").status, 200);
    EXPECT_EQ(s.call("GET", "/v1/account/prefs").status, 401);
    // Friends and blocks (ann and the device user).
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/friends/" + dev_id).status, 200);
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/friends/" + ann_id).status, 400);
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/friends/00000000-0000-4000-8000-000000000000").status, 404);
    EXPECT_EQ(s.as(t_dev, "GET", "/v1/friends?state=invite_received").status, 200);
    EXPECT_EQ(s.as(t_dev, "GET", "/v1/friends?state=enemy").status, 400);
    EXPECT_EQ(s.call("GET", "/v1/friends").status, 401);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/friends/" + ann_id).status, 200);
    EXPECT_EQ(s.as(t_reg, "DELETE", "/v1/friends/" + dev_id).status, 204);
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/blocks/" + dev_id).status, 200);
    EXPECT_EQ(s.as(t_dev, "POST", "/v1/friends/" + ann_id).status, 403);
    EXPECT_EQ(s.as(t_reg, "GET", "/v1/blocks").status, 200);
    EXPECT_EQ(s.as(t_reg, "DELETE", "/v1/blocks/" + dev_id).status, 204);
    EXPECT_EQ(s.as(t_reg, "DELETE", "/v1/blocks/" + ann_id).status, 400);
    // Reports and moderation: ann reports the device user (no block), the guest reports it too
    // (with the block); the queue, the relations, a warning and a ban resolve them.
    auto filed = s.as(t_reg, "POST", "/v1/reports",
                      {{"user_id", dev_id}, {"category", "cheating"}, {"reason", "aimbot"}, {"block", false}});
    EXPECT_EQ(filed.status, 202) << filed.raw;
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/reports", {{"user_id", ann_id}, {"category", "spam"}}).status, 400);
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/reports", {{"user_id", dev_id}, {"category", "Not A Word"}, {"colour", 1}}).status, 400);
    EXPECT_EQ(s.as(t_reg, "POST", "/v1/reports", {{"user_id", "00000000-0000-4000-8000-000000000000"}, {"category", "spam"}}).status,
              404);
    EXPECT_EQ(s.call("POST", "/v1/reports", {{"user_id", dev_id}, {"category", "spam"}}).status, 401);
    auto queue = s.admin("GET", "/v1/admin/moderation/queue?status=pending&page=1&page_size=10");
    EXPECT_EQ(queue.status, 200) << queue.raw;
    EXPECT_EQ(queue.body["total"], 1) << queue.raw;
    EXPECT_EQ(s.admin("GET", "/v1/admin/moderation/queue?status=open").status, 400);
    EXPECT_EQ(s.admin("GET", "/v1/admin/moderation/queue?page=100&page_size=200").status, 400);
    EXPECT_EQ(s.call("GET", "/v1/admin/moderation/queue").status, 401);
    auto relations = s.admin("GET", "/v1/admin/users/" + dev_id + "/relations");
    EXPECT_EQ(relations.status, 200) << relations.raw;
    EXPECT_EQ(relations.body["reported_by"].size(), 1u) << relations.raw;
    EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + ann_id + "/relations").status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/users/00000000-0000-4000-8000-000000000000/relations").status, 404);
    EXPECT_EQ(s.call("GET", "/v1/admin/users/" + dev_id + "/relations").status, 401);
    std::string resolve = "/v1/admin/moderation/queue/" + dev_id + "/resolve";
    EXPECT_EQ(s.admin("POST", resolve, {{"action", "warn"}}).status, 400);  // a warning needs a reason
    EXPECT_EQ(s.admin("POST", resolve, {{"action", "clean"}, {"duration", "1h"}}).status, 400);
    EXPECT_EQ(s.call("POST", resolve, {{"action", "clean"}}).status, 401);
    EXPECT_EQ(s.admin("POST", "/v1/admin/moderation/queue/" + bob_id + "/resolve", {{"action", "clean"}}).status, 404);
    EXPECT_EQ(s.admin("POST", "/v1/admin/moderation/queue/not-a-uuid/resolve", {{"action", "clean"}}).status, 404);
    auto warned = s.admin("POST", resolve, {{"action", "warn"}, {"reason", "play fair"}});
    EXPECT_EQ(warned.status, 200) << warned.raw;
    EXPECT_EQ(s.admin("POST", resolve, {{"action", "clean"}}).status, 404);  // nothing pending any more
    EXPECT_EQ(s.as(t_dev, "GET", "/v1/account/logs").status, 200);
    EXPECT_EQ(s.as(t_dev, "GET", "/v1/notifications").status, 200);       // the warning
    EXPECT_EQ(s.as(token_of(guest), "POST", "/v1/reports", {{"user_id", dev_id}, {"category", "cheating"}}).status, 202);
    auto banned = s.admin("POST", resolve, {{"action", "ban"}, {"reason", "wallhack"}, {"duration", 3600}});
    EXPECT_EQ(banned.status, 200) << banned.raw;
    EXPECT_EQ(s.admin("GET", "/v1/admin/moderation/queue?status=resolved").status, 200);
    EXPECT_EQ(s.as(token_of(guest), "GET", "/v1/account/logs").status, 200);  // report, social_blocked
    // Phone codes: the SMS is read from the log sender's file for one login that succeeds.
    EXPECT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", "+14155550100"}}).status, 202);
    EXPECT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", "+14155550100"}}).status, 429);
    EXPECT_EQ(s.call("POST", "/v1/auth/phone-code", {{"phone", "555-0100"}}).status, 400);
    EXPECT_EQ(s.call("POST", "/v1/sessions/phone-code", {{"phone", "+14155550199"}, {"code", "123456"}}).status, 401);
    std::string sms_code;
    for (int i = 0; i < 100 && sms_code.empty(); ++i) {
      auto dir = std::filesystem::path(s.data_dir()) / "messages";
      if (std::filesystem::exists(dir))
        for (auto& f : std::filesystem::directory_iterator(dir))
          if (f.path().string().find(".sms.txt") != std::string::npos) {
            std::ifstream in(f.path());
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            auto at = text.find("Your code is ");
            if (at != std::string::npos) sms_code = text.substr(at + 13, 6);
          }
      if (sms_code.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto by_phone = s.call("POST", "/v1/sessions/phone-code", {{"phone", "+14155550100"}, {"code", sms_code}});
    EXPECT_EQ(by_phone.status, 201) << by_phone.raw;
    EXPECT_EQ(s.as(t, "POST", "/v1/account/verification/phone", {{"phone", "+14155550100"}}).status, 409);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/verification/phone", {{"phone", "+14155550101"}}).status, 202);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/verification/phone", {{"phone", "+14155550101"}, {"password", "wrong-horse-1"}}).status, 401);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/verification/phone/confirm", {{"phone", "+14155550101"}, {"code", "123456"}}).status, 401);
    EXPECT_EQ(s.call("POST", "/v1/account/verification/phone/confirm", {{"phone", "+14155550101"}, {"code", "123456"}}).status, 401);

    // sessions
    auto page = s.as(t, "GET", "/v1/sessions?limit=1");
    ASSERT_EQ(page.status, 200) << page.raw;
    ASSERT_TRUE(page.body["next_cursor"].is_string()) << page.raw;
    EXPECT_EQ(s.as(t, "GET", "/v1/sessions?cursor=" + page.body["next_cursor"].get<std::string>()).status, 200);
    EXPECT_EQ(s.as(t, "GET", "/v1/sessions?limit=0").status, 400);
    EXPECT_EQ(s.call("GET", "/v1/sessions").status, 401);
    auto current = s.as(t, "GET", "/v1/sessions/current");
    ASSERT_EQ(current.status, 200) << current.raw;
    std::string reg_sid = ann.body["session"]["id"];
    EXPECT_EQ(s.as(t, "GET", "/v1/sessions/" + reg_sid).status, 200);
    EXPECT_EQ(s.as(t, "GET", "/v1/sessions/00000000-0000-4000-8000-000000000000").status, 404);
    EXPECT_EQ(s.as(t, "GET", "/v1/sessions/not-a-uuid").status, 404);
    EXPECT_EQ(s.as(t, "PATCH", "/v1/sessions/current").status, 200);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/sessions/" + reg_sid).status, 204);
    EXPECT_EQ(s.as(t_reg, "GET", "/v1/account").status, 401);

    // the own account
    EXPECT_EQ(s.as(t, "GET", "/v1/account").status, 200);

    // JWTs for game servers: minted by the session token, read endpoints take them
    auto minted = s.as(t, "POST", "/v1/sessions/jwt");
    ASSERT_EQ(minted.status, 201) << minted.raw;
    EXPECT_EQ(s.call("POST", "/v1/sessions/jwt").status, 401);
    EXPECT_EQ(s.call("GET", "/.well-known/jwks.json").status, 200);
    std::string jwt = minted.body["token"];
    EXPECT_EQ(s.as(jwt, "GET", "/v1/account").status, 200);
    EXPECT_EQ(s.as(jwt, "GET", "/v1/sessions").status, 200);
    EXPECT_EQ(s.as(jwt, "GET", "/v1/sessions/current").status, 200);
    EXPECT_EQ(s.as(jwt, "POST", "/v1/sessions/jwt").status, 401);
    EXPECT_EQ(s.as(jwt, "PATCH", "/v1/account", {{"display_name", "Not With A JWT"}}).status, 401);
    EXPECT_EQ(s.call("POST", "/v1/admin/jwt/rotate").status, 401);
    EXPECT_EQ(s.admin("POST", "/v1/admin/jwt/rotate").status, 200);
    EXPECT_EQ(s.as(t, "PATCH", "/v1/account", {{"display_name", "Ann B"}, {"username", "ann2"}, {"lang", "en-GB"},
                                               {"avatar_url", "https://example.com/a.png"}, {"metadata", {{"level", 3}}}})
                .status,
              200);
    EXPECT_EQ(s.as(t, "PATCH", "/v1/account", {{"email", "new@example.com"}}).status, 400);
    EXPECT_EQ(s.as(t, "PATCH", "/v1/account", {{"username", "BOB"}}).status, 409);
    EXPECT_EQ(s.as(t, "PUT", "/v1/account/password",
                   {{"current_password", "not-the-password"}, {"new_password", "another-horse-7"}})
                .status,
              401);
    EXPECT_EQ(s.as(t, "PUT", "/v1/account/password", {{"new_password", "password"}}).status, 400);
    EXPECT_EQ(s.as(t, "PUT", "/v1/account/password",
                   {{"current_password", "correct-horse-9"}, {"new_password", "another-horse-7"}})
                .status,
              200);
    auto logs = s.as(t, "GET", "/v1/account/logs?limit=2");
    ASSERT_EQ(logs.status, 200) << logs.raw;
    ASSERT_TRUE(logs.body["next_cursor"].is_string()) << logs.raw;
    EXPECT_EQ(s.as(t, "GET", "/v1/account/logs?cursor=" + logs.body["next_cursor"].get<std::string>()).status, 200);
    EXPECT_EQ(s.as(t, "GET", "/v1/account/logs?cursor=!!").status, 400);

    // players
    EXPECT_EQ(s.call("GET", "/v1/users/" + ann_id).status, 200);
    EXPECT_EQ(s.call("GET", "/v1/users/00000000-0000-4000-8000-000000000000").status, 404);
    EXPECT_EQ(s.call("GET", "/v1/users?ids=" + ann_id + "," + bob_id).body["items"].size(), 2u);
    EXPECT_EQ(s.call("GET", "/v1/users?usernames=ann2,nobody").status, 200);
    EXPECT_EQ(s.call("GET", "/v1/users").status, 400);
    EXPECT_EQ(s.call("GET", "/v1/usernames/Ann2").body["available"], false);
    EXPECT_EQ(s.call("GET", "/v1/usernames/x").status, 400);
    // search
    auto found = s.call("GET", "/v1/users/search?q=an&limit=1");
    ASSERT_EQ(found.status, 200) << found.raw;
    EXPECT_EQ(s.call("GET", "/v1/users/search?q=a").status, 400);
    if (found.body["next_cursor"].is_string())
      EXPECT_EQ(s.call("GET", "/v1/users/search?q=an&cursor=" + found.body["next_cursor"].get<std::string>()).status, 200);
    // metadata with visibility
    EXPECT_EQ(s.as(t, "PUT", "/v1/account/metadata/team", {{"value", "red"}, {"visibility", "friends"}}).status, 200);
    EXPECT_EQ(s.as(t, "PUT", "/v1/account/metadata/team", {{"value", "red"}, {"visibility", "internal"}}).status, 400);
    EXPECT_EQ(s.as(t, "PUT", "/v1/account/metadata/Bad", {{"value", 1}}).status, 400);
    EXPECT_EQ(s.call("PUT", "/v1/account/metadata/team", {{"value", 1}}).status, 401);
    EXPECT_EQ(s.as(t, "GET", "/v1/account/metadata/team").status, 200);
    EXPECT_EQ(s.as(t, "GET", "/v1/account/metadata/nope").status, 404);
    EXPECT_EQ(s.as(t, "GET", "/v1/account/metadata/BAD").status, 400);
    EXPECT_EQ(s.as(t, "GET", "/v1/account/metadata").status, 200);
    EXPECT_EQ(s.call("GET", "/v1/account/metadata").status, 401);
    EXPECT_EQ(s.call("GET", "/v1/users/" + ann_id + "/metadata").status, 200);
    EXPECT_EQ(s.as(t, "GET", "/v1/users/" + ann_id + "/metadata").status, 200);
    EXPECT_EQ(s.as("0123", "GET", "/v1/users/" + ann_id + "/metadata").status, 401);
    EXPECT_EQ(s.call("GET", "/v1/users/00000000-0000-4000-8000-000000000000/metadata").status, 404);
    EXPECT_EQ(s.call("GET", "/v1/metadata?user_ids=" + ann_id + "," + bob_id + "&keys=level,team").status, 200);
    EXPECT_EQ(s.call("GET", "/v1/metadata").status, 400);
    EXPECT_EQ(s.admin("PUT", "/v1/admin/users/" + ann_id + "/metadata/risk", {{"value", "low"}}).status, 200);
    EXPECT_EQ(s.admin("PUT", "/v1/admin/users/" + ann_id + "/metadata/risk", {{"value", nullptr}}).status, 400);
    EXPECT_EQ(s.call("PUT", "/v1/admin/users/" + ann_id + "/metadata/risk", {{"value", "low"}}).status, 401);
    EXPECT_EQ(s.admin("PUT", "/v1/admin/users/00000000-0000-4000-8000-000000000000/metadata/risk", {{"value", 1}}).status, 404);
    EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + ann_id).status, 200);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + ann_id + "/metadata/risk").status, 204);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + ann_id + "/metadata/risk").status, 404);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + ann_id + "/metadata/R").status, 400);
    EXPECT_EQ(s.call("DELETE", "/v1/admin/users/" + ann_id + "/metadata/risk").status, 401);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account/metadata/team").status, 204);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account/metadata/team").status, 404);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account/metadata/X").status, 400);
    EXPECT_EQ(s.call("DELETE", "/v1/account/metadata/team").status, 401);

    // admin
    EXPECT_EQ(s.call("GET", "/v1/admin/users").status, 401);
    EXPECT_EQ(s.admin("GET", "/v1/admin/users?q=example&page=1&page_size=10").status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/users?page=0").status, 400);
    EXPECT_EQ(s.admin("GET", "/v1/admin/stats").status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/stats?days=30").status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/stats?days=0").status, 400);
    EXPECT_EQ(s.admin("GET", "/v1/admin/outbox").status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/outbox?state=bogus").status, 400);
    // notifications and events
    auto sent = s.admin("POST", "/v1/admin/notifications", {{"user_ids", {ann_id}}, {"title", "Welcome"}, {"data", {{"k", 1}}}});
    ASSERT_EQ(sent.status, 200) << sent.raw;
    EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", {ann_id}}}).status, 400);
    auto notes = s.as(t, "GET", "/v1/notifications?limit=1");
    ASSERT_EQ(notes.status, 200) << notes.raw;
    EXPECT_EQ(s.as(t, "GET", "/v1/notifications?cursor=x").status, 400);
    auto note_id = notes.body["items"][0]["id"].get<std::string>();
    EXPECT_EQ(s.as(t, "POST", "/v1/notifications/read", {{"ids", {note_id}}}).status, 200);
    EXPECT_EQ(s.as(t, "POST", "/v1/notifications/read", {{"all", "yes"}}).status, 400);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/notifications/" + note_id).status, 204);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/notifications/" + note_id).status, 404);
    EXPECT_EQ(s.as(t, "POST", "/v1/events/ticket").status, 201);
    EXPECT_EQ(s.call("POST", "/v1/events/ticket").status, 401);
    EXPECT_EQ(s.call("GET", "/v1/events").status, 401);
    EXPECT_EQ(s.call("GET", "/v1/events?ticket=not-a-ticket").status, 401);
    EXPECT_EQ(s.call("GET", "/v1/events", nullptr, {{"Authorization", "Bearer " + t}, {"Last-Event-ID", "x"}}).status, 400);
    json dead;
    for (int i = 0; i < 100 && dead.empty(); ++i) {
      dead = s.admin("GET", "/v1/admin/outbox?state=dead&limit=1").body["items"];
      if (dead.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(s.admin("POST", "/v1/admin/outbox/" + dead[0]["id"].get<std::string>() + "/retry").status, 200);
    EXPECT_EQ(s.admin("POST", "/v1/admin/outbox/" + std::string(32, 'f') + "/retry").status, 404);
    EXPECT_EQ(s.admin("GET", "/v1/admin/users/" + bob_id).status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/users/00000000-0000-4000-8000-000000000000").status, 404);
    EXPECT_EQ(s.admin("PATCH", "/v1/admin/users/" + bob_id, {{"email", "bob@example.com"}}).status, 200);
    EXPECT_EQ(s.admin("PATCH", "/v1/admin/users/" + bob_id, {{"email", "Ann@Example.com"}}).status, 409);
    EXPECT_EQ(s.admin("PATCH", "/v1/admin/users/" + bob_id, json::object()).status, 400);
    std::string t_bob = token_of(bob);
    EXPECT_EQ(s.admin("POST", "/v1/admin/users/" + bob_id + "/block").status, 200);
    EXPECT_EQ(s.as(t_bob, "GET", "/v1/account").status, 403);
    EXPECT_EQ(s.as(t_bob, "POST", "/v1/reports", {{"user_id", ann_id}, {"category", "spam"}}).status, 403);
    EXPECT_EQ(s.login("bob").status, 403);
    EXPECT_EQ(s.admin("POST", "/v1/admin/users/" + bob_id + "/unblock").status, 200);
    EXPECT_EQ(s.admin("POST", "/v1/admin/users/" + bob_id + "/activate").status, 200);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + bob_id + "/sessions").status, 204);
    // Bans: banned answers (403 account_banned with details), then lifted.
    auto ban_bob = s.admin("POST", "/v1/admin/bans", {{"user_id", bob_id}, {"reason", "spam"}, {"expires_at", "2999-01-01T00:00:00.000Z"}});
    EXPECT_EQ(ban_bob.status, 201) << ban_bob.raw;
    EXPECT_EQ(s.admin("POST", "/v1/admin/bans", {{"user_id", bob_id}}).status, 400);
    EXPECT_EQ(s.admin("POST", "/v1/admin/bans", {{"user_id", "00000000-0000-4000-8000-000000000000"}, {"reason", "x"}}).status, 404);
    EXPECT_EQ(s.call("POST", "/v1/admin/bans", {{"user_id", bob_id}, {"reason", "x"}}).status, 401);
    EXPECT_EQ(s.admin("GET", "/v1/admin/bans/" + bob_id).status, 200);
    EXPECT_EQ(s.admin("GET", "/v1/admin/bans/00000000-0000-4000-8000-000000000000").status, 404);
    EXPECT_EQ(s.login("bob").status, 403);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/bans/" + bob_id).status, 204);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/bans/00000000-0000-4000-8000-000000000000").status, 404);
    EXPECT_EQ(s.admin("GET", "/v1/admin/bans/" + bob_id).status, 200);
    EXPECT_EQ(s.admin("POST", "/v1/admin/cluster/leave").status, 400);  // a single node
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", backup_root + "/first"}}).status, 201);
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", backup_root + "/first"}}).status, 409);
    EXPECT_EQ(s.admin("POST", "/v1/admin/backup", {{"to", "relative/path"}}).status, 400);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + dev_id).status, 204);
    EXPECT_EQ(s.admin("DELETE", "/v1/admin/users/" + dev_id).status, 404);

    // operators
    EXPECT_EQ(s.admin("GET", "/debug/actors").status, 200);
    EXPECT_EQ(s.admin("GET", "/debug/cluster").status, 200);
    EXPECT_EQ(s.admin("GET", "/debug/users/" + ann_id).status, 200);
    EXPECT_EQ(s.admin("GET", "/debug/users/" + dev_id).status, 404);
    EXPECT_EQ(s.call("GET", "/debug/cluster").status, 401);
    EXPECT_EQ(s.call("GET", "/healthz").status, 200);
    EXPECT_EQ(s.call("GET", "/readyz").status, 200);
    EXPECT_EQ(s.call("GET", "/metrics").status, 200);

    // what the edge answers for any path
    EXPECT_EQ(s.call("GET", "/v2/nothing").status, 404);
    EXPECT_EQ(s.call("PUT", "/v1/account", nullptr, bearer(t)).status, 405);
    EXPECT_EQ(s.call("OPTIONS", "/v1/account").status, 204);

    // logging out and deleting
    auto bob_again = s.login("bob");
    ASSERT_EQ(bob_again.status, 201) << bob_again.raw;
    EXPECT_EQ(s.as(token_of(bob_again), "DELETE", "/v1/sessions").status, 204);
    auto guest_t = token_of(guest);
    EXPECT_EQ(s.as(guest_t, "DELETE", "/v1/sessions/current").status, 204);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account", {{"password", "not-the-password"}}).status, 401);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account").status, 204);  // inside the sudo window
    EXPECT_EQ(s.as(t, "GET", "/v1/account").status, 401);
  }
  {
    // Accounts that wait for activation: no session at registration, 403 at login.
    roster_server s(env{{"ROSTER_AUTH_REQUIRE_ACTIVATION", "true"}});
    s.record_to(exchanges);
    EXPECT_EQ(s.register_user("cyril@example.com", "cyril").body["session"], nullptr);
    EXPECT_EQ(s.login("cyril").status, 403);
    EXPECT_EQ(s.call("POST", "/v1/sessions/anonymous", {{"display_name", "Guest"}}).body["session"], nullptr);
  }
  {
    // Email verification required: a password login of an unverified email is refused.
    roster_server s(env{{"ROSTER_AUTH_REQUIRE_VERIFIED_EMAIL", "true"}});
    s.record_to(exchanges);
    ASSERT_EQ(s.register_user("dora@example.com", "dora").status, 201);
    EXPECT_EQ(s.login("dora").status, 403);
  }
  {
    // MFA (tests/integration/mfa_test.cc checks the flows; codes from Debian's oathtool).
    roster_server s(env{{"ROSTER_AUTH_ARGON2_MEMORY_KIB", "1024"}, {"ROSTER_AUTH_ARGON2_ITERATIONS", "1"}});
    s.record_to(exchanges);
    auto totp = [](const std::string& secret, int offset) {
      auto out = run_command("oathtool --totp -b -N 'now + " + std::to_string(offset) + " seconds' " + secret).second;
      return out.substr(0, 6);
    };
    auto mia = s.register_user("mia@example.com", "mia");
    ASSERT_EQ(mia.status, 201) << mia.raw;
    std::string t = token_of(mia);
    EXPECT_EQ(s.call("POST", "/v1/account/mfa/totp").status, 401);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/recovery-codes").status, 404);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", "123456"}}).status, 404);
    auto e = s.as(t, "POST", "/v1/account/mfa/totp");
    ASSERT_EQ(e.status, 201) << e.raw;
    std::string secret = e.body["secret"];
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp", {{"colour", "red"}}).status, 400);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", "12"}}).status, 400);
    auto on = s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", totp(secret, 0)}});
    ASSERT_EQ(on.status, 200) << on.raw;
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp").status, 409);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/totp/confirm", {{"code", "123456"}}).status, 409);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/recovery-codes").status, 200);
    EXPECT_EQ(s.as(t, "POST", "/v1/account/mfa/recovery-codes", {{"password", "wrong-horse-1"}}).status, 401);
    auto gate = s.login("mia");
    ASSERT_EQ(gate.status, 200) << gate.raw;
    std::string challenge = gate.body["challenge_id"];
    EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}}).status, 400);
    EXPECT_EQ(s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"recovery_code", "aaaa-aaaa"}}).status, 401);
    auto in = s.call("POST", "/v1/sessions/mfa", {{"challenge_id", challenge}, {"code", totp(secret, 30)}});
    EXPECT_EQ(in.status, 201) << in.raw;
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account/mfa/totp", {{"password", "wrong-horse-1"}}).status, 401);
    EXPECT_EQ(s.as(t, "DELETE", "/v1/account/mfa/totp").status, 204);
  }
  {
    // The sudo window: enrolment changes without the password are refused once it has passed.
    roster_server s(env{{"ROSTER_AUTH_SUDO_WINDOW", "1s"}});
    s.record_to(exchanges);
    auto nia = s.register_user("nia@example.com", "nia");
    ASSERT_EQ(nia.status, 201) << nia.raw;
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    EXPECT_EQ(s.as(token_of(nia), "POST", "/v1/account/mfa/totp").status, 403);
    EXPECT_EQ(s.as(token_of(nia), "DELETE", "/v1/account/mfa/totp").status, 403);
  }
  auto [code, report] = check_answers(exchanges);
  EXPECT_EQ(code, 0) << report;
  EXPECT_NE(report.find("0 problems"), std::string::npos) << report;
  std::filesystem::remove_all(dir);
}

} // namespace
