#include "domain/session_book.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "base/crypto.h"

namespace roster {
namespace {

constexpr millis day = 86'400'000;
constexpr millis t0 = 1'764'300'000'000;  // 2025-11-28

/// ttl 30 d, idle 7 d, cap 3 (small, to reach it), persist interval 60 s.
session_rules rules(size_t cap = 3) {
  session_rules r;
  r.policy = session_policy{30 * day, 7 * day, 20 * 60'000};
  r.max_per_user = cap;
  return r;
}

std::string id_of(int n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", n);
  return buf;
}

/// A stored session `n`: token "token-n", created and used at `used`.
session_record stored(int n, millis used, millis created = 0) {
  session_record s;
  s.id = id_of(n);
  s.token_hash = sha256("token-" + std::to_string(n));
  s.method = "password";
  s.created_at = created ? created : used;
  s.last_used_at = s.authenticated_at = used;
  s.expires_at = s.created_at + 30 * day;
  s.ip = "10.0.0.1";
  s.user_agent = "test";
  return s;
}

std::string hash_of(int n) { return sha256("token-" + std::to_string(n)); }

std::vector<std::string> put_ids(const session_writes& w) {
  std::vector<std::string> ids;
  for (auto& s : w.put) ids.push_back(s.id);
  return ids;
}

const std::string uid16 = std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16);

TEST(SessionBook, CreateHandsOutATokenOnceAndStoresOnlyItsHash) {
  session_book book;
  auto r = rules();
  auto made = book.create(uid16, "device", "192.0.2.7", std::string(600, 'u'), t0, r);
  ASSERT_TRUE(made.value);
  auto& c = *made.value;
  EXPECT_EQ(c.token.size(), 64u);
  EXPECT_EQ(user_id_of_token(c.token), uid16);
  auto view = json::parse(c.view);
  EXPECT_EQ(view["token"], c.token);
  EXPECT_EQ(view["id"], c.id);
  EXPECT_EQ(view["current"], true);
  EXPECT_EQ(view["method"], "device");
  EXPECT_EQ(view["expires_at"], format_time(t0 + 30 * day));
  ASSERT_EQ(made.writes.put.size(), 1u);
  EXPECT_TRUE(made.writes.removed_ids.empty());
  auto& s = made.writes.put[0];
  EXPECT_EQ(s.id, c.id);
  EXPECT_EQ(s.token_hash, sha256(c.token));
  EXPECT_EQ(s.user_agent.size(), 512u);  // cut as the HTTP edge promises
  EXPECT_EQ(s.ip, "192.0.2.7");
  EXPECT_EQ(s.created_at, t0);
  EXPECT_EQ(s.last_used_at, t0);
  EXPECT_EQ(s.authenticated_at, t0);
  EXPECT_EQ(book.size(), 1u);
  ASSERT_NE(book.find(c.id), nullptr);
  EXPECT_EQ(book.find(c.id)->token_hash, sha256(c.token));
  // The token authenticates; a second session has another token.
  EXPECT_TRUE(book.authenticate(sha256(c.token), t0 + 1, r).value);
  auto other = book.create(uid16, "device", "", "", t0, r);
  EXPECT_NE(other.value->token, c.token);
  EXPECT_NE(other.value->id, c.id);
}

TEST(SessionBook, CreateDropsExpiredSessionsThenTheLeastRecentlyUsedAboveTheCap) {
  session_book book;
  auto r = rules(3);
  auto over = stored(1, t0 - 10);  // used just now, but past its absolute expiry
  over.expires_at = t0;
  book.load(over);
  book.load(stored(2, t0 - 1000));
  book.load(stored(3, t0 - 3000));  // least recently used of the live ones
  book.load(stored(4, t0 - 2000));
  book.load(stored(5, t0 - 8 * day));  // idle for more than 7 days: expired
  auto made = book.create(uid16, "password", "", "", t0, r);
  // The expired ones go first; three live ones are the cap, so the LRU goes too.
  EXPECT_EQ(made.writes.removed_ids, (std::vector<std::string>{id_of(1), id_of(5), id_of(3)}));
  EXPECT_EQ(put_ids(made.writes), (std::vector<std::string>{made.value->id}));
  EXPECT_EQ(book.size(), 3u);
  EXPECT_EQ(book.find(id_of(1)), nullptr);
  EXPECT_EQ(book.find(id_of(3)), nullptr);
  EXPECT_NE(book.find(id_of(2)), nullptr);
  EXPECT_NE(book.find(id_of(4)), nullptr);
  // Below the cap, only the expired go.
  session_book roomy;
  roomy.load(over);
  roomy.load(stored(3, t0 - 3000));
  EXPECT_EQ(roomy.create(uid16, "password", "", "", t0, rules(100)).writes.removed_ids,
            (std::vector<std::string>{id_of(1)}));
  EXPECT_EQ(roomy.size(), 2u);
}

TEST(SessionBook, CapTiesGoToTheSmallestId) {
  session_book book;
  auto r = rules(2);
  book.load(stored(7, t0 - 500));
  book.load(stored(5, t0 - 500));
  auto made = book.create(uid16, "password", "", "", t0, r);
  EXPECT_EQ(made.writes.removed_ids, (std::vector<std::string>{id_of(5)}));
  EXPECT_EQ(book.size(), 2u);
}

TEST(SessionBook, SessionsExpireAbsolutelyAndWhenIdle) {
  auto r = rules();
  session_book book;
  auto s = stored(1, t0);
  s.expires_at = t0 + 10 * day;
  book.load(s);
  book.load(stored(2, t0));
  // Absolute: used every day, still over at expires_at.
  for (millis t = t0 + day; t < t0 + 10 * day; t += day) ASSERT_TRUE(book.authenticate(hash_of(1), t, r).value);
  auto late = book.authenticate(hash_of(1), t0 + 10 * day, r);
  ASSERT_FALSE(late.value);
  EXPECT_EQ(late.value.err().code, errc::session_expired);
  EXPECT_EQ(late.value.err().message, "session expired");
  EXPECT_EQ(late.writes.removed_ids, (std::vector<std::string>{id_of(1)}));
  EXPECT_TRUE(late.writes.put.empty());
  EXPECT_EQ(book.find(id_of(1)), nullptr);
  // ...and then it is unknown.
  EXPECT_EQ(book.authenticate(hash_of(1), t0 + 10 * day, r).value.err().code, errc::unauthorized);
  // Idle: 7 days without use.
  auto idle = book.authenticate(hash_of(2), t0 + 7 * day, r);
  ASSERT_FALSE(idle.value);
  EXPECT_EQ(idle.value.err().code, errc::session_expired);
  EXPECT_EQ(idle.writes.removed_ids, (std::vector<std::string>{id_of(2)}));
  EXPECT_TRUE(book.empty());
}

TEST(SessionBook, ReadCacheHitsCountAsUse) {
  auto r = rules();
  session_book book;
  book.load(stored(1, t0));
  book.load(stored(2, t0));
  // The read cache served session 1 a day ago; without that it would be idle.
  auto ok = book.authenticate(hash_of(1), t0 + 7 * day, r, t0 + 6 * day);
  ASSERT_TRUE(ok.value);
  EXPECT_EQ((*ok.value)->last_used_at, t0 + 7 * day);
  // record_use (the actor withdrawing its reads) does the same, without a write.
  book.record_use(hash_of(2), t0 + 6 * day);
  book.record_use(hash_of(2), t0 + 1);  // never moves back
  book.record_use(hash_of(9), t0 + 6 * day);  // unknown: ignored
  EXPECT_EQ(book.find(id_of(2))->last_used_at, t0 + 6 * day);
  EXPECT_TRUE(book.authenticate(hash_of(2), t0 + 7 * day, r).value);
}

TEST(SessionBook, AuthenticateDecisions) {
  auto r = rules();
  session_book book;
  book.load(stored(1, t0));
  auto hashless = stored(2, t0);  // a stored record without its token_hash field
  hashless.token_hash.clear();
  book.load(hashless);
  for (auto& h : {std::string(), hash_of(2), std::string("short")}) {
    auto bad = book.authenticate(h, t0 + 1, r);
    ASSERT_FALSE(bad.value);
    EXPECT_EQ(bad.value.err().code, errc::unauthorized);
    EXPECT_EQ(bad.value.err().message, "invalid session");
    EXPECT_TRUE(bad.writes.empty());
  }
  // The account's gate refuses a valid session, and the refusal is no use.
  for (auto gate : {errc::account_blocked, errc::pending_activation}) {
    auto refused = book.authenticate(hash_of(1), t0 + 2 * day, r, std::nullopt, gate);
    ASSERT_FALSE(refused.value);
    EXPECT_EQ(refused.value.err().code, gate);
    EXPECT_EQ(refused.value.err().message,
              gate == errc::account_blocked ? "account is blocked" : "account is pending activation");
    EXPECT_TRUE(refused.writes.empty());
    EXPECT_EQ(book.find(id_of(1))->last_used_at, t0);
  }
  // An expired session is expired before the gate is asked.
  auto expired = book.authenticate(hash_of(1), t0 + 7 * day, r, std::nullopt, errc::account_blocked);
  EXPECT_EQ(expired.value.err().code, errc::session_expired);
  EXPECT_EQ(expired.writes.removed_ids.size(), 1u);
}

TEST(SessionBook, LastUseIsWrittenOnlyOnceItMovedMoreThanTheInterval) {
  auto r = rules();
  session_book book;
  auto made = book.create(uid16, "password", "", "", t0, r);
  auto h = sha256(made.value->token);
  // Stored at t0 by the create: a minute later is not yet worth a write.
  auto a = book.authenticate(h, t0 + 60'000, r);
  ASSERT_TRUE(a.value);
  EXPECT_EQ((*a.value)->last_used_at, t0 + 60'000);
  EXPECT_TRUE(a.writes.empty());
  auto b = book.authenticate(h, t0 + 60'001, r);
  ASSERT_EQ(b.writes.put.size(), 1u);
  EXPECT_EQ(b.writes.put[0].last_used_at, t0 + 60'001);
  EXPECT_EQ(b.writes.put[0].id, made.value->id);
  EXPECT_TRUE(book.authenticate(h, t0 + 120'001, r).writes.empty());  // counted from the last write
  EXPECT_EQ(book.authenticate(h, t0 + 120'002, r).writes.put.size(), 1u);
  // A loaded session counts its stored last use as written.
  book.load(stored(1, t0));
  EXPECT_TRUE(book.authenticate(hash_of(1), t0 + 60'000, r).writes.empty());
  EXPECT_EQ(book.authenticate(hash_of(1), t0 + 60'001, r).writes.put.size(), 1u);
  // A put by another operation (extend) resets the clock too.
  book.load(stored(2, t0));
  ASSERT_TRUE(book.authenticate(hash_of(2), t0 + 30'000, r).writes.empty());
  ASSERT_EQ(book.extend(id_of(2), t0 + 30'000, r).writes.put.size(), 1u);
  EXPECT_TRUE(book.authenticate(hash_of(2), t0 + 90'000, r).writes.empty());
  EXPECT_EQ(book.authenticate(hash_of(2), t0 + 90'001, r).writes.put.size(), 1u);
}

/// Every id of a paged listing, following next_cursor to the end.
std::vector<std::string> walk(const session_book& book, millis now, size_t limit, std::string_view current,
                              std::vector<size_t>* page_sizes = nullptr) {
  std::vector<std::string> ids;
  std::string cursor;
  for (int guard = 0; guard < 100; ++guard) {
    auto p = book.page(now, rules(100), limit, cursor, current);
    EXPECT_TRUE(p) << p.err().message;
    if (!p) break;
    if (page_sizes) page_sizes->push_back(p->items.size());
    for (auto& item : p->items) ids.push_back(item["id"].get<std::string>());
    auto j = p->to_json();
    if (!p->next_cursor) {
      EXPECT_TRUE(j["next_cursor"].is_null());
      break;
    }
    EXPECT_EQ(j["next_cursor"], *p->next_cursor);
    cursor = *p->next_cursor;
  }
  return ids;
}

TEST(SessionBook, PagesAreNewestFirstWithTiesByIdAndSkipExpiredSessions) {
  session_book book;
  book.load(stored(4, t0, t0 - 3000));
  book.load(stored(2, t0, t0 - 1000));
  book.load(stored(3, t0, t0 - 1000));  // same creation time as 2: id order
  book.load(stored(1, t0, t0 - 1000));
  book.load(stored(5, t0, t0 - 500));
  auto gone = stored(6, t0, t0);
  gone.expires_at = t0 + 10;  // expired at the time of listing
  book.load(gone);
  std::vector<size_t> sizes;
  auto ids = walk(book, t0 + 10, 2, id_of(3), &sizes);
  EXPECT_EQ(ids, (std::vector<std::string>{id_of(5), id_of(1), id_of(2), id_of(3), id_of(4)}));
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1}));
  EXPECT_EQ(walk(book, t0 + 10, 200, id_of(3)), ids);
  EXPECT_EQ(walk(book, t0 + 10, 1, id_of(3)), ids);
  EXPECT_EQ(walk(book, t0 + 10, 5, id_of(3)).size(), 5u);
  // A full last page has no next cursor.
  auto all = book.page(t0 + 10, rules(), 5, "", id_of(3));
  EXPECT_FALSE(all->next_cursor);
  // The caller's session is marked, and only it.
  for (auto& item : all->items) EXPECT_EQ(item["current"], item["id"] == id_of(3)) << item.dump();
  // Listing drops nothing.
  EXPECT_EQ(book.size(), 6u);
  // Views carry no secrets.
  EXPECT_FALSE(all->items[0].contains("token_hash"));
}

TEST(SessionBook, AnUnknownCursorIsInvalid) {
  session_book book;
  book.load(stored(1, t0, t0 - 2000));
  book.load(stored(2, t0, t0 - 1000));
  auto gone = stored(3, t0, t0);
  gone.expires_at = t0 + 10;
  book.load(gone);
  auto first = book.page(t0, rules(), 1, "", "");
  ASSERT_TRUE(first && first->next_cursor);
  EXPECT_EQ(*first->next_cursor, base64url_encode(id_of(3)));
  for (auto cursor : {std::string("!!not base64!!"), base64url_encode(id_of(9)), base64url_encode(id_of(3))}) {
    // The last: a cursor handed out while that session lived, used after it expired.
    auto p = book.page(t0 + 10, rules(), 1, cursor, "");
    ASSERT_FALSE(p) << cursor;
    EXPECT_EQ(p.err().code, errc::invalid_request);
    EXPECT_EQ(p.err().message, "invalid cursor");
    EXPECT_EQ(p.err().fields.at("cursor"), "is not a cursor this server handed out");
  }
  // The cursor of the last live session: an empty page, no next cursor.
  auto end = book.page(t0 + 10, rules(), 1, base64url_encode(id_of(1)), "");
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->items.empty());
  EXPECT_FALSE(end->next_cursor);
}

TEST(SessionBook, GetFindsCurrentAndOtherSessions) {
  session_book book;
  book.load(stored(1, t0));
  auto gone = stored(2, t0);
  gone.expires_at = t0;
  book.load(gone);
  auto cur = book.get("current", id_of(1));
  ASSERT_TRUE(cur);
  EXPECT_EQ((*cur)["id"], id_of(1));
  EXPECT_EQ((*cur)["current"], true);
  auto by_id = book.get(id_of(1), id_of(1));
  EXPECT_EQ((*by_id)["current"], true);
  auto other = book.get(id_of(2), id_of(1));  // expired, still there until pruned
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)["current"], false);
  auto unknown = book.get(id_of(3), id_of(1));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.err().code, errc::not_found);
  EXPECT_EQ(unknown.err().message, "session not found");
}

TEST(SessionBook, ExtendRenewsTheAbsoluteExpiry) {
  auto r = rules();
  session_book book;
  book.load(stored(1, t0));
  auto ext = book.extend(id_of(1), t0 + 20 * day, r);
  ASSERT_TRUE(ext.value);
  EXPECT_EQ((*ext.value)["expires_at"], format_time(t0 + 50 * day));
  EXPECT_EQ((*ext.value)["current"], true);
  ASSERT_EQ(ext.writes.put.size(), 1u);
  EXPECT_EQ(ext.writes.put[0].expires_at, t0 + 50 * day);
  EXPECT_EQ(book.find(id_of(1))->expires_at, t0 + 50 * day);
  // Kept in use, it now outlives its first expiry.
  for (millis t = t0 + day; t <= t0 + 40 * day; t += day) ASSERT_TRUE(book.authenticate(hash_of(1), t, r).value) << t;
  EXPECT_EQ(book.extend(id_of(9), t0, r).value.err().code, errc::not_found);
}

TEST(SessionBook, RevokeCurrentOtherAndUnknown) {
  session_book book;
  book.load(stored(1, t0));
  book.load(stored(2, t0));
  book.load(stored(3, t0));
  auto other = book.revoke(id_of(2), id_of(1));
  ASSERT_TRUE(other.value);
  EXPECT_EQ(*other.value, id_of(2));
  EXPECT_EQ(other.writes.removed_ids, (std::vector<std::string>{id_of(2)}));
  EXPECT_EQ(book.find(id_of(2)), nullptr);
  EXPECT_EQ(book.authenticate(hash_of(2), t0 + 1, rules()).value.err().code, errc::unauthorized);
  // "current", with the caller's id taken from the session being removed.
  std::string current = book.find(id_of(1))->id;
  auto cur = book.revoke("current", book.find(id_of(1))->id);
  ASSERT_TRUE(cur.value);
  EXPECT_EQ(*cur.value, current);
  EXPECT_EQ(cur.writes.removed_ids, (std::vector<std::string>{current}));
  auto unknown = book.revoke(id_of(2), id_of(3));
  ASSERT_FALSE(unknown.value);
  EXPECT_EQ(unknown.value.err().code, errc::not_found);
  EXPECT_EQ(unknown.value.err().message, "session not found");
  EXPECT_TRUE(unknown.writes.empty());
  EXPECT_EQ(book.size(), 1u);
}

TEST(SessionBook, RevokeAllKeepsOnlyTheNamedSession) {
  session_book book;
  for (int n = 1; n <= 4; ++n) book.load(stored(n, t0));
  auto gone = stored(5, t0);
  gone.expires_at = t0;  // expired sessions are revoked too
  book.load(gone);
  auto kept = book.revoke_all(book.find(id_of(3))->id);
  ASSERT_TRUE(kept.value);
  EXPECT_EQ(*kept.value, 4u);
  EXPECT_EQ(kept.writes.removed_ids, (std::vector<std::string>{id_of(1), id_of(2), id_of(4), id_of(5)}));
  EXPECT_TRUE(kept.writes.put.empty());
  EXPECT_EQ(book.size(), 1u);
  EXPECT_NE(book.find(id_of(3)), nullptr);
  auto all = book.revoke_all();
  EXPECT_EQ(*all.value, 1u);
  EXPECT_EQ(all.writes.removed_ids, (std::vector<std::string>{id_of(3)}));
  EXPECT_TRUE(book.empty());
  EXPECT_EQ(*book.revoke_all().value, 0u);
}

TEST(SessionBook, PasswordChangeKeepsTheCallerAndRevokesTheRest) {
  session_book book;
  for (int n = 1; n <= 3; ++n) book.load(stored(n, t0));
  auto changed = book.change_password(book.find(id_of(2))->id, t0 + 5000);
  ASSERT_TRUE(changed.value);
  EXPECT_EQ(*changed.value, 2u);
  EXPECT_EQ(changed.writes.removed_ids, (std::vector<std::string>{id_of(1), id_of(3)}));
  ASSERT_EQ(changed.writes.put.size(), 1u);
  EXPECT_EQ(changed.writes.put[0].id, id_of(2));
  EXPECT_EQ(changed.writes.put[0].authenticated_at, t0 + 5000);  // a fresh sudo window
  EXPECT_EQ(book.size(), 1u);
  EXPECT_EQ(book.find(id_of(2))->authenticated_at, t0 + 5000);
  // An unknown caller changes nothing.
  auto unknown = book.change_password(id_of(1), t0);
  EXPECT_EQ(unknown.value.err().code, errc::not_found);
  EXPECT_TRUE(unknown.writes.empty());
  EXPECT_EQ(book.size(), 1u);
}

TEST(SessionBook, LoadKeepsTheFirstOfTwoEqualIdsAndClearForgets) {
  session_book book;
  auto a = stored(1, t0);
  auto b = stored(1, t0 + 5);
  b.token_hash = hash_of(7);
  book.load(a);
  book.load(b);
  EXPECT_EQ(book.size(), 1u);
  EXPECT_EQ(book.find(id_of(1))->last_used_at, t0);
  EXPECT_EQ(book.authenticate(hash_of(7), t0, rules()).value.err().code, errc::unauthorized);
  book.clear();
  EXPECT_TRUE(book.empty());
  EXPECT_EQ(book.authenticate(hash_of(1), t0, rules()).value.err().code, errc::unauthorized);
}

TEST(SessionBook, IsOneVectorPerUser) {
  // 100,000 live users share 500 MiB (SPEC §7): an empty book is one vector.
  EXPECT_LE(sizeof(session_book), 3 * sizeof(void*));
}

TEST(SessionBook, AJwtNamesItsSessionByItsJwtKey) {
  session_book book;
  auto r = rules();
  book.load(stored(1, t0));
  book.load(stored(2, t0));
  auto key = jwt_session_key(id_of(2));
  EXPECT_EQ(key.size(), 32u);
  EXPECT_NE(key, hash_of(2));
  auto a = book.authenticate(key, t0 + 1000, r);
  ASSERT_TRUE(a.value);
  EXPECT_EQ((*a.value)->id, id_of(2));
  // A read-cache hit under that key moves the same session's last use.
  book.record_use(key, t0 + 5000);
  EXPECT_EQ(book.find(id_of(2))->last_used_at, t0 + 5000);
  // Revoked: the key names nothing any more.
  book.revoke(id_of(2), id_of(1));
  auto gone = book.authenticate(key, t0 + 6000, r);
  ASSERT_FALSE(gone.value);
  EXPECT_EQ(gone.value.err().code, errc::unauthorized);
  EXPECT_FALSE(book.authenticate(jwt_session_key(id_of(9)), t0, r).value);
}

} // namespace
} // namespace roster
