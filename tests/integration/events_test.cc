// In-app notifications and live event streams (GET /v1/events) over real
// HTTP: the list and its unread count, what a stream receives and in what
// order, Last-Event-ID, tickets, how streams end, presence.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/roster_server.h"
#include "tests/support/sse_client.h"

using namespace roster::testing;

namespace {

struct player {
  std::string id, token;
};

player make_player(roster_server& s, const std::string& name) {
  auto r = s.register_user(name + "@example.com", name);
  EXPECT_EQ(r.status, 201) << r.raw;
  return {r.body["user"]["id"], r.body["session"]["token"]};
}

std::map<std::string, std::string> bearer(const player& p) { return {{"Authorization", "Bearer " + p.token}}; }

response notify(roster_server& s, const std::vector<std::string>& ids, const std::string& title) {
  return s.admin("POST", "/v1/admin/notifications", {{"user_ids", ids}, {"title", title}, {"body", "b"}, {"data", {{"k", 1}}}});
}

TEST(Notifications, ListReadDeleteWithUnreadCount) {
  roster_server s;
  auto ann = make_player(s, "ann_notes");
  for (auto t : {"one", "two", "three"}) ASSERT_EQ(notify(s, {ann.id}, t).status, 200);
  auto page = s.as(ann.token, "GET", "/v1/notifications?limit=2");
  ASSERT_EQ(page.status, 200) << page.raw;
  ASSERT_EQ(page.body["items"].size(), 2u);
  EXPECT_EQ(page.body["items"][0]["title"], "three");  // newest first
  EXPECT_EQ(page.body["items"][0]["data"]["k"], 1);
  EXPECT_EQ(page.body["items"][0]["read"], false);
  EXPECT_EQ(page.body["unread"], 3);
  auto rest = s.as(ann.token, "GET", "/v1/notifications?cursor=" + page.body["next_cursor"].get<std::string>());
  ASSERT_EQ(rest.body["items"].size(), 1u);
  EXPECT_EQ(rest.body["items"][0]["title"], "one");
  EXPECT_TRUE(rest.body["next_cursor"].is_null());
  auto first_id = rest.body["items"][0]["id"].get<std::string>();

  auto read = s.as(ann.token, "POST", "/v1/notifications/read", {{"ids", {first_id}}});
  ASSERT_EQ(read.status, 200) << read.raw;
  EXPECT_EQ(read.body["updated"], 1);
  EXPECT_EQ(read.body["unread"], 2);
  EXPECT_EQ(s.as(ann.token, "POST", "/v1/notifications/read", {{"all", true}}).body["unread"], 0);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/notifications").body["items"][2]["read"], true);

  EXPECT_EQ(s.as(ann.token, "DELETE", "/v1/notifications/" + first_id).status, 204);
  EXPECT_EQ(s.as(ann.token, "DELETE", "/v1/notifications/" + first_id).status, 404);
  EXPECT_EQ(s.as(ann.token, "DELETE", "/v1/notifications/abc").status, 404);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/notifications").body["items"].size(), 2u);

  // Errors.
  EXPECT_EQ(s.call("GET", "/v1/notifications").status, 401);
  EXPECT_EQ(s.as(ann.token, "POST", "/v1/notifications/read", {{"ids", {"1"}}, {"all", true}}).status, 400);
  EXPECT_EQ(s.as(ann.token, "POST", "/v1/notifications/read", json::object()).status, 400);
  EXPECT_EQ(s.as(ann.token, "POST", "/v1/notifications/read", {{"ids", {"x"}}}).status, 400);
  EXPECT_EQ(s.as(ann.token, "POST", "/v1/notifications/read", {{"ids", 5}}).status, 400);
  EXPECT_EQ(s.as(ann.token, "GET", "/v1/notifications?cursor=zz").status, 400);
  EXPECT_EQ(s.call("POST", "/v1/admin/notifications", {{"user_ids", {ann.id}}, {"title", "t"}}).status, 401);
  EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", {ann.id}}, {"title", ""}}).status, 400);
  EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", json::array()}, {"title", "t"}}).status, 400);
  EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", {"nope"}}, {"title", "t"}}).status, 400);
  EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", {ann.id}}, {"title", "t"}, {"colour", 1}}).status, 400);
  EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", {ann.id}}, {"title", "t"}, {"data", "x"}}).status, 400);
  std::vector<std::string> many(1001, ann.id);
  EXPECT_EQ(s.admin("POST", "/v1/admin/notifications", {{"user_ids", many}, {"title", "t"}}).status, 400);
  auto unknown = notify(s, {ann.id, "00000000-0000-4000-8000-000000000000"}, "x");
  ASSERT_EQ(unknown.status, 200);
  EXPECT_EQ(unknown.body["sent"].size(), 1u);
  EXPECT_EQ(unknown.body["not_found"][0], "00000000-0000-4000-8000-000000000000");
}

TEST(Notifications, OnlyTheNewestAreKept) {
  roster_server s(env{{"ROSTER_NOTIFICATIONS_KEEP_PER_USER", "5"}});
  auto bo = make_player(s, "bo_notes");
  for (int i = 0; i < 8; ++i) ASSERT_EQ(notify(s, {bo.id}, "n" + std::to_string(i)).status, 200);
  auto all = s.as(bo.token, "GET", "/v1/notifications");
  ASSERT_EQ(all.body["items"].size(), 5u) << all.raw;
  EXPECT_EQ(all.body["items"][0]["title"], "n7");
  EXPECT_EQ(all.body["items"][4]["title"], "n3");
  // Also after the actor is gone and the list is read from the store again.
  s.stop();
  s.start();
  ASSERT_EQ(notify(s, {bo.id}, "n8").status, 200);
  all = s.as(bo.token, "GET", "/v1/notifications");
  ASSERT_EQ(all.body["items"].size(), 5u);
  EXPECT_EQ(all.body["items"][4]["title"], "n4");
}

TEST(Events, AStreamReceivesNotificationsAndOwnChangesInOrder) {
  roster_server s;
  auto cy = make_player(s, "cy_stream");
  sse_client stream(s.port(), "/v1/events", bearer(cy));
  ASSERT_EQ(stream.status(), 200) << stream.body;
  EXPECT_EQ(stream.headers["content-type"], "text/event-stream; charset=utf-8");
  EXPECT_FALSE(stream.headers["x-request-id"].empty());
  auto sent_at = roster::now_ms();
  ASSERT_EQ(notify(s, {cy.id}, "hello").status, 200);
  auto n = stream.next();
  ASSERT_TRUE(n);
  auto arrived = roster::now_ms() - sent_at;
  EXPECT_EQ(n->event, "notification");
  auto data = json::parse(n->data);
  EXPECT_EQ(data["data"]["title"], "hello");
  EXPECT_EQ(data["user_id"], cy.id);
  EXPECT_EQ(n->id, std::to_string(data["seq"].get<uint64_t>()));
  RecordProperty("notification_to_stream_ms", std::to_string(arrived));
  ASSERT_EQ(s.as(cy.token, "PATCH", "/v1/account", {{"display_name", "Cy"}}).status, 200);
  auto p = stream.next();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->event, "user.profile_updated");
  EXPECT_GT(std::stoull(p->id), std::stoull(n->id));
  // A login is not streamed (webhook only): the next event is the next streamed one.
  ASSERT_EQ(s.login("cy_stream").status, 201);
  ASSERT_EQ(notify(s, {cy.id}, "again").status, 200);
  auto again = stream.next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->event, "notification");
}

TEST(Events, ReconnectingWithLastEventIdGetsExactlyWhatWasMissed) {
  roster_server s;
  auto di = make_player(s, "di_stream");
  std::string last;
  {
    sse_client stream(s.port(), "/v1/events", bearer(di));
    ASSERT_EQ(stream.status(), 200) << stream.body;  // subscribed: without an id, only what comes next
    ASSERT_EQ(notify(s, {di.id}, "a").status, 200);
    auto e = stream.next();
    ASSERT_TRUE(e);
    last = e->id;
  }
  for (auto t : {"b", "c"}) ASSERT_EQ(notify(s, {di.id}, t).status, 200);
  auto h = bearer(di);
  h["Last-Event-ID"] = last;
  sse_client again(s.port(), "/v1/events", h);
  auto b = again.next(), c = again.next();
  ASSERT_TRUE(b && c);
  EXPECT_EQ(json::parse(b->data)["data"]["title"], "b");
  EXPECT_EQ(json::parse(c->data)["data"]["title"], "c");
  EXPECT_FALSE(again.next(300));  // nothing more, nothing twice
  ASSERT_EQ(notify(s, {di.id}, "d").status, 200);
  auto d = again.next();
  ASSERT_TRUE(d);
  EXPECT_EQ(json::parse(d->data)["data"]["title"], "d");
  // ?last_event_id= works too (for clients that cannot set the header).
  sse_client by_query(s.port(), "/v1/events?last_event_id=" + last, bearer(di));
  auto first = by_query.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(json::parse(first->data)["data"]["title"], "b");
}

TEST(Events, StreamsEndWhenTheirSessionIsRevokedOrTheUserIsBlockedOrDeleted) {
  roster_server s;
  auto ed = make_player(s, "ed_stream");
  auto other = s.login("ed_stream");
  ASSERT_EQ(other.status, 201);
  player ed2{ed.id, other.body["session"]["token"]};
  sse_client mine(s.port(), "/v1/events", bearer(ed));
  sse_client theirs(s.port(), "/v1/events", bearer(ed2));
  ASSERT_EQ(mine.status(), 200);
  ASSERT_EQ(theirs.status(), 200);
  // Revoking the second session ends only its stream.
  ASSERT_EQ(s.as(ed2.token, "DELETE", "/v1/sessions/current").status, 204);
  std::optional<sse_event> e;
  while ((e = theirs.next()) && e->event != "end") {
  }
  ASSERT_TRUE(e);
  EXPECT_EQ(json::parse(e->data)["reason"], "session_revoked");
  EXPECT_TRUE(theirs.wait_closed());
  auto revoked = mine.next();
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->event, "session.revoked");
  // Blocking ends every stream of the user.
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + ed.id + "/block").status, 200);
  while ((e = mine.next()) && e->event != "end") {
  }
  ASSERT_TRUE(e);
  EXPECT_EQ(json::parse(e->data)["reason"], "account_blocked");
  EXPECT_TRUE(mine.wait_closed());
  sse_client refused(s.port(), "/v1/events", bearer(ed));
  EXPECT_EQ(refused.status(), 403);
  // Deletion.
  ASSERT_EQ(s.admin("POST", "/v1/admin/users/" + ed.id + "/unblock").status, 200);
  sse_client last(s.port(), "/v1/events", bearer(ed));
  ASSERT_EQ(last.status(), 200);
  ASSERT_EQ(s.admin("DELETE", "/v1/admin/users/" + ed.id).status, 204);
  while ((e = last.next()) && e->event != "end") {
  }
  ASSERT_TRUE(e);
  EXPECT_EQ(json::parse(e->data)["reason"], "account_deleted");
}

TEST(Events, TicketsAreSingleUseAndTokensStayOutOfUrls) {
  roster_server s;
  auto fi = make_player(s, "fi_stream");
  auto t = s.as(fi.token, "POST", "/v1/events/ticket");
  ASSERT_EQ(t.status, 201) << t.raw;
  auto ticket = t.body["ticket"].get<std::string>();
  EXPECT_NE(ticket, fi.token);
  sse_client by_ticket(s.port(), "/v1/events?ticket=" + ticket);
  ASSERT_EQ(by_ticket.status(), 200) << by_ticket.body;
  ASSERT_EQ(notify(s, {fi.id}, "via ticket").status, 200);
  ASSERT_TRUE(by_ticket.next());
  sse_client reused(s.port(), "/v1/events?ticket=" + ticket);
  EXPECT_EQ(reused.status(), 401);
  sse_client token_as_ticket(s.port(), "/v1/events?ticket=" + fi.token);
  EXPECT_EQ(token_as_ticket.status(), 401);
  sse_client garbage(s.port(), "/v1/events?ticket=abc");
  EXPECT_EQ(garbage.status(), 401);
  EXPECT_EQ(s.call("POST", "/v1/events/ticket").status, 401);
  sse_client anonymous(s.port(), "/v1/events");
  EXPECT_EQ(anonymous.status(), 401);
  auto h = bearer(fi);
  h["Last-Event-ID"] = "not-a-number";
  sse_client bad_id(s.port(), "/v1/events", h);
  EXPECT_EQ(bad_id.status(), 400);
}

TEST(Events, PresenceIsAnOpenStream) {
  roster_server s;
  auto gu = make_player(s, "gu_stream");
  auto online = [&] { return s.call("GET", "/v1/users/" + gu.id).body["online"].get<bool>(); };
  auto wait_for = [&](bool want) {
    for (int i = 0; i < 100 && online() != want; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return online() == want;
  };
  EXPECT_FALSE(online());  // a request a moment ago is not presence
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats").body["online"], 0);
  {
    sse_client a(s.port(), "/v1/events", bearer(gu));
    sse_client b(s.port(), "/v1/events", bearer(gu));
    ASSERT_EQ(a.status(), 200);
    ASSERT_EQ(b.status(), 200);
    EXPECT_TRUE(online());
    EXPECT_EQ(s.admin("GET", "/v1/admin/stats").body["online"], 1);
    EXPECT_EQ(s.admin("GET", "/debug/users/" + gu.id).body["subscribers"], 2);
    a.close();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_TRUE(online());  // one stream is still open
  }
  EXPECT_TRUE(wait_for(false));
  EXPECT_EQ(s.admin("GET", "/v1/admin/stats").body["online"], 0);
  EXPECT_EQ(s.admin("GET", "/debug/users/" + gu.id).body["subscribers"], 0);
}

TEST(Events, AUserMayHoldEightStreams) {
  roster_server s;
  auto ha = make_player(s, "ha_stream");
  std::vector<std::unique_ptr<sse_client>> open;
  for (int i = 0; i < 8; ++i) {
    open.push_back(std::make_unique<sse_client>(s.port(), "/v1/events", bearer(ha)));
    ASSERT_EQ(open.back()->status(), 200) << i;
  }
  sse_client ninth(s.port(), "/v1/events", bearer(ha));
  EXPECT_EQ(ninth.status(), 429);
  // Other requests are served meanwhile (the streams hold no worker).
  EXPECT_EQ(s.as(ha.token, "GET", "/v1/account").status, 200);
}

} // namespace
