// The social graph under failure (issue 12, "Players together"): 200 users
// and 2,000 random friend and block operations, plus a few account
// deletions, from 8 client threads through every node of a three-node
// cluster, while one node is killed (-9) and restarted and a fourth node
// joins (partition handoff). Afterwards the two halves of every pair agree,
// whichever node is asked, and match a model of the acknowledged operations.
//
// The model is the rule of domain/social.cc written again, independently:
// the test never calls domain code. Operations on one pair are serialised
// by the test (a lock per pair), so the order in which they were answered is
// the order in which the owner decided them; operations on different pairs,
// on the same users included, run concurrently. An operation that was not
// answered (connection lost, 5xx, timeout) may or may not have happened: its
// pair becomes "uncertain" and from then on only the agreement of its two
// halves is checked, not the model.
//
// Reproduce a run with ROSTER_TEST_SEED=<the seed it printed>.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

constexpr const char* secret = "social-consistency-secret-0123";
constexpr int users_n = 200;
constexpr int ops_n = 2000;
constexpr int threads_n = 8;
constexpr int deletions_n = 10;
constexpr int hot_pairs_n = 300;  // most operations hit these, so pairs see several changes

// -- the model ----------------------------------------------------------------
// A pair of users a < b (by the test's own numbering, not the server's lo/hi).

enum class fr { none, a_invited, b_invited, friends };

struct pair_model {
  fr f = fr::none;
  bool blocks[2] = {false, false};  // [0]: a blocks b, [1]: b blocks a
  bool uncertain = false;
};

enum class kind { invite, remove, block, unblock };
const char* kind_name(kind k) {
  switch (k) {
    case kind::invite: return "invite";
    case kind::remove: return "remove";
    case kind::block: return "block";
    case kind::unblock: return "unblock";
  }
  return "?";
}

fr invited_by(int side) { return side == 0 ? fr::a_invited : fr::b_invited; }

/// What `side` sees of the other in GET /v1/friends ("" when not listed).
std::string view_of(const pair_model& p, int side) {
  if (p.blocks[side]) return "blocked";
  if (p.f == fr::friends) return "friend";
  if (p.f == invited_by(side)) return "invite_sent";
  if (p.f == invited_by(1 - side)) return "invite_received";
  return "";
}

/// The answer `side`'s operation gets and what it makes of the pair: the
/// status, and for 200 the state in the body.
int apply(pair_model& p, int side, kind k) {
  switch (k) {
    case kind::invite:
      if (p.blocks[0] || p.blocks[1]) return 403;
      if (p.f == fr::friends || p.f == invited_by(side)) return 200;
      p.f = p.f == invited_by(1 - side) ? fr::friends : invited_by(side);
      return 200;
    case kind::remove:
      p.f = fr::none;
      return 204;
    case kind::block:
      p.f = fr::none;
      p.blocks[side] = true;
      return 200;
    case kind::unblock:
      p.blocks[side] = false;
      return 204;
  }
  return 0;
}

/// Every (a's view, b's view) some pair state can show: agreement.
const std::set<std::pair<std::string, std::string>>& mirror_images() {
  static const std::set<std::pair<std::string, std::string>> all = [] {
    std::set<std::pair<std::string, std::string>> s;
    for (auto f : {fr::none, fr::a_invited, fr::b_invited, fr::friends})
      for (int b = 0; b < 4; ++b) {
        pair_model p;
        p.f = f;
        p.blocks[0] = b & 1;
        p.blocks[1] = b & 2;
        if (b && f != fr::none) continue;  // a block ends any friendship or invite, and stops new ones
        s.emplace(view_of(p, 0), view_of(p, 1));
      }
    return s;
  }();
  return all;
}

// -- the cluster ----------------------------------------------------------------

struct node {
  std::string name;
  std::unique_ptr<roster_server> server;
};

class SocialConsistency : public ::testing::Test {
 protected:
  SocialConsistency() { nodes.reserve(4); }
  std::vector<node> nodes;
  /// Client threads use node i only while usable[i] (a restart changes its
  /// HTTP port under them otherwise); in_flight[i] counts their requests.
  std::atomic<bool> usable[4] = {false, false, false, false};
  std::atomic<int> in_flight[4] = {0, 0, 0, 0};

  roster_server& add_node() {
    node n;
    n.name = "node-" + std::to_string(nodes.size() + 1);
    int cluster_port = free_port();
    env e{{"ROSTER_NODE_NAME", n.name},
          {"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(cluster_port)},
          {"ROSTER_CLUSTER_SECRET", secret},
          {"ROSTER_CLUSTER_INSECURE", "true"}};
    if (!nodes.empty())
      e["ROSTER_CLUSTER_SEEDS"] = "127.0.0.1:" + std::to_string(nodes.front().server->cluster_port());
    n.server = std::make_unique<roster_server>(e);
    nodes.push_back(std::move(n));
    return *nodes.back().server;
  }

  roster_server& at(size_t i) { return *nodes.at(i).server; }
  json cluster_view(size_t i) { return at(i).admin("GET", "/debug/cluster").body; }

  /// Waits (≤ 30 s) until node i sees `members` members, all up, and no handoff.
  bool settled(size_t i, size_t members) {
    json v;
    for (int t = 0; t < 600; ++t) {
      v = cluster_view(i);
      if (v.is_object() && v["members"].size() == members && v["handoffs"].empty() &&
          std::all_of(v["members"].begin(), v["members"].end(), [](const json& m) { return m["state"] == "up"; }))
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "node " << i + 1 << " did not settle: " << v.dump();
    return false;
  }

  /// The tail of every node's log, for failure messages.
  std::string logs() const {
    std::string out;
    for (auto& n : nodes) {
      auto text = n.server->log();
      out += "--- " + n.name + " (last 2000 bytes of its log):\n" + text.substr(text.size() > 2000 ? text.size() - 2000 : 0);
    }
    return out;
  }
};

struct user {
  std::string id, token;
};
enum class life { alive, deleted, maybe_deleted };

TEST_F(SocialConsistency, HalvesAgreeAndMatchTheAcknowledgedOperationsThroughKillRestartAndJoin) {
  auto started = std::chrono::steady_clock::now();
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("ROSTER_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::cout << "[          ] seed " << seed << " (ROSTER_TEST_SEED to repeat)\n";

  for (int i = 0; i < 3; ++i) add_node();
  for (size_t i = 0; i < 3; ++i) ASSERT_TRUE(settled(i, 3));
  for (int i = 0; i < 3; ++i) usable[i] = true;

  std::vector<user> users;
  std::map<std::string, int> index_of;
  for (int i = 0; i < users_n; ++i) {
    auto r = at(i % 3).call("POST", "/v1/sessions/device", {{"device_id", "consistency-device-" + std::to_string(i)}});
    ASSERT_EQ(r.status, 201) << r.raw;
    index_of[r.body["user"]["id"]] = i;
    users.push_back({r.body["user"]["id"], r.body["session"]["token"]});
  }

  std::vector<pair_model> model(users_n * users_n);  // [a * n + b], a < b
  std::vector<std::mutex> pair_locks(users_n * users_n);
  std::vector<std::atomic<int>> lives(users_n);
  for (auto& l : lives) l = static_cast<int>(life::alive);
  auto life_of = [&](int u) { return static_cast<life>(lives[u].load()); };

  std::mt19937_64 setup_rng(seed);
  std::vector<std::pair<int, int>> hot;
  while (hot.size() < hot_pairs_n) {
    int a = setup_rng() % users_n, b = setup_rng() % users_n;
    if (a != b) hot.emplace_back(std::min(a, b), std::max(a, b));
  }
  std::set<int> deletion_slots;
  for (int i = 0; i < deletions_n; ++i) deletion_slots.insert(100 + i * (ops_n - 200) / deletions_n);

  std::atomic<int> next_op{0};
  std::atomic<int> answered{0}, modelled{0}, unknown{0}, deleted_ok{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  auto fail = [&](std::string what) {
    std::lock_guard<std::mutex> lock(failures_mutex);
    failures.push_back(std::move(what));
  };
  // The milestones the client threads wait for, so that the kill, the restart
  // and the join happen while they run (and never after the last operation).
  std::atomic<bool> restarted{false}, joined{false};

  /// Sends one request through a random usable node.
  auto send = [&](std::mt19937_64& rng, const std::string& token, const std::string& method, const std::string& path,
                  int* via_out) {
    for (;;) {
      size_t n = rng() % 4;
      if (n >= nodes.capacity()) continue;
      ++in_flight[n];
      if (!usable[n]) {
        --in_flight[n];
        continue;
      }
      auto r = nodes[n].server->as(token, method, path);
      --in_flight[n];
      *via_out = static_cast<int>(n);
      return r;
    }
  };

  auto worker = [&](int t) {
    std::mt19937_64 rng(seed * 31 + t + 1);
    for (;;) {
      int k = next_op++;
      if (k >= ops_n) return;
      if (k >= ops_n * 45 / 100)
        while (!restarted) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (k >= ops_n * 95 / 100)
        while (!joined) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (deletion_slots.count(k)) {
        // A user and, for the time of its deletion, every pair it is part of.
        int u;
        do u = rng() % users_n;
        while (life_of(u) != life::alive);
        std::vector<int> mine;
        for (int x = 0; x < users_n; ++x)
          if (x != u) mine.push_back(std::min(u, x) * users_n + std::max(u, x));
        std::sort(mine.begin(), mine.end());
        for (int p : mine) pair_locks[p].lock();
        int via = -1;
        auto r = send(rng, users[u].token, "DELETE", "/v1/account", &via);
        if (r.status == 204) {
          lives[u] = static_cast<int>(life::deleted);
          ++deleted_ok;
        } else if (r.status == 0 || r.status >= 500) {
          // Its pairs are left out of the model from now on: if it lives
          // after all, they are checked for agreement only.
          lives[u] = static_cast<int>(life::maybe_deleted);
          for (int x = 0; x < users_n; ++x)
            if (x != u) model[std::min(u, x) * users_n + std::max(u, x)].uncertain = true;
          ++unknown;
        } else {
          fail("deleting user " + std::to_string(u) + " via node " + std::to_string(via + 1) + ": " +
               std::to_string(r.status) + " " + r.raw);
        }
        for (int p : mine) pair_locks[p].unlock();
        continue;
      }
      for (;;) {
        int a, b;
        if (rng() % 5) {
          std::tie(a, b) = hot[rng() % hot.size()];
        } else {
          a = rng() % users_n;
          b = rng() % users_n;
          if (a == b) continue;
          if (a > b) std::swap(a, b);
        }
        int side = rng() % 2;
        int r100 = rng() % 100;
        kind op = r100 < 40 ? kind::invite : r100 < 65 ? kind::remove : r100 < 83 ? kind::block : kind::unblock;
        std::lock_guard<std::mutex> lock(pair_locks[a * users_n + b]);
        int me = side == 0 ? a : b, other = side == 0 ? b : a;
        if (life_of(me) != life::alive) {
          if (life_of(other) != life::alive) continue;
          std::swap(me, other);
          side = 1 - side;
        }
        auto& p = model[a * users_n + b];
        bool friends_path = op == kind::invite || op == kind::remove;
        std::string path = std::string(friends_path ? "/v1/friends/" : "/v1/blocks/") + users[other].id;
        std::string method = op == kind::invite || op == kind::block ? "POST" : "DELETE";
        int via = -1;
        auto r = send(rng, users[me].token, method, path, &via);
        std::string what = std::string(kind_name(op)) + " by user " + std::to_string(me) + " of user " +
                           std::to_string(other) + " via node " + std::to_string(via + 1) + ": ";
        if (r.status == 0 || r.status >= 500) {  // not answered: it may or may not have happened
          p.uncertain = true;
          ++unknown;
          break;
        }
        ++answered;
        if (life_of(other) != life::alive) {
          // The other user is (or may be) gone; its half may not have heard
          // yet, so the answer may still be the pair's; at the end the pair
          // must have vanished from this user's side.
          if (r.status != 200 && r.status != 204 && r.status != 403 && r.status != 404)
            fail(what + "to a deleted user: " + std::to_string(r.status) + " " + r.raw);
          break;
        }
        if (p.uncertain) {
          if (r.status != 200 && r.status != 204 && r.status != 403)
            fail(what + std::to_string(r.status) + " " + r.raw);
          break;
        }
        pair_model next = p;
        int want = apply(next, side, op);
        if (r.status != want) {
          fail(what + "expected " + std::to_string(want) + ", got " + std::to_string(r.status) + " " + r.raw);
          p.uncertain = true;  // one report per divergence, not a cascade
          break;
        }
        if (want == 200 && r.body.value("state", "") != (view_of(next, side).empty() ? "none" : view_of(next, side)))
          fail(what + "the answer shows " + r.raw + ", the model says " + view_of(next, side));
        p = next;
        ++modelled;
        break;
      }
    }
  };

  std::vector<std::thread> threads;
  // Should a node fail to start (an exception), the client threads are let
  // through their gates and joined before the test ends.
  struct joiner {
    std::vector<std::thread>& threads;
    std::atomic<bool>&restarted, &joined;
    ~joiner() {
      restarted = joined = true;
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } join_all{threads, restarted, joined};
  for (int t = 0; t < threads_n; ++t) threads.emplace_back(worker, t);
  auto wait_for_op = [&](int k) {
    while (next_op < k) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  };

  // Node 3 dies (kill -9) with requests in flight, stays down a while, and
  // comes back with its data dir.
  wait_for_op(ops_n * 20 / 100);
  usable[2] = false;
  at(2).kill9();
  std::cout << "[          ] node-3 killed at operation " << next_op << "\n";
  std::this_thread::sleep_for(std::chrono::seconds(2));
  while (in_flight[2] > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  at(2).start();
  bool back = true;
  for (size_t i = 0; i < 3; ++i) back = settled(i, 3) && back;
  usable[2] = true;
  restarted = true;
  std::cout << "[          ] node-3 back at operation " << next_op << "\n";

  // A fourth node joins: a quarter of the partitions move to it under load.
  wait_for_op(ops_n * 55 / 100);
  add_node();
  for (int t = 0; t < 400 && !cluster_view(3).value("admitted", false); ++t)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  usable[3] = true;
  for (size_t i = 0; i < 4; ++i) back = settled(i, 4) && back;
  joined = true;
  std::cout << "[          ] node-4 joined and settled at operation " << next_op << "\n";
  for (auto& t : threads) t.join();
  ASSERT_TRUE(back) << logs();
  EXPECT_EQ(cluster_view(3)["partitions_served_here"], 16) << cluster_view(3).dump();

  // A deletion that was not answered: the account tells whether it happened.
  for (int u = 0; u < users_n; ++u)
    if (life_of(u) == life::maybe_deleted) {
      auto r = at(u % 4).as(users[u].token, "GET", "/v1/account");
      ASSERT_TRUE(r.status == 200 || r.status == 401) << r.raw;
      lives[u] = static_cast<int>(r.status == 200 ? life::alive : life::deleted);
    }

  // Every user's lists, through a node chosen per round and user, in full.
  // Returns what disagrees ("" entries never).
  int round = 0;
  auto check = [&]() {
    std::vector<std::string> wrong;
    std::vector<std::map<int, std::string>> seen(users_n);
    std::vector<std::set<int>> blocked(users_n);
    for (int u = 0; u < users_n; ++u) {
      if (life_of(u) != life::alive) continue;
      auto& via = at((u + round) % 4);
      for (bool blocks : {false, true}) {
        std::string cursor;
        for (int page = 0; page < 20; ++page) {
          auto r = via.as(users[u].token, "GET",
                          std::string(blocks ? "/v1/blocks" : "/v1/friends") + "?limit=50" +
                            (cursor.empty() ? "" : "&cursor=" + cursor));
          if (r.status != 200) {
            wrong.push_back("user " + std::to_string(u) + "'s list: " + std::to_string(r.status) + " " + r.raw);
            break;
          }
          for (auto& i : r.body["items"]) {
            auto it = index_of.find(i["user"]["id"].get<std::string>());
            if (it == index_of.end()) {
              wrong.push_back("user " + std::to_string(u) + " lists a stranger: " + i.dump());
              continue;
            }
            if (blocks) blocked[u].insert(it->second);
            else seen[u][it->second] = i["state"];
          }
          if (r.body["next_cursor"].is_null()) break;
          cursor = r.body["next_cursor"];
        }
      }
    }
    ++round;
    for (int a = 0; a < users_n; ++a)
      for (int b = a + 1; b < users_n; ++b) {
        auto pair = "pair (" + std::to_string(a) + ", " + std::to_string(b) + "): ";
        bool a_alive = life_of(a) == life::alive, b_alive = life_of(b) == life::alive;
        if (!a_alive || !b_alive) {
          // Deleted users vanish from the other side's lists.
          if (a_alive && (seen[a].count(b) || blocked[a].count(b)))
            wrong.push_back(pair + "user " + std::to_string(a) + " still lists the deleted " + std::to_string(b));
          if (b_alive && (seen[b].count(a) || blocked[b].count(a)))
            wrong.push_back(pair + "user " + std::to_string(b) + " still lists the deleted " + std::to_string(a));
          continue;
        }
        std::string va = seen[a].count(b) ? seen[a][b] : "", vb = seen[b].count(a) ? seen[b][a] : "";
        if ((va == "blocked") != (blocked[a].count(b) > 0) || (vb == "blocked") != (blocked[b].count(a) > 0))
          wrong.push_back(pair + "GET /v1/blocks and GET /v1/friends disagree");
        auto& p = model[a * users_n + b];
        if (!mirror_images().count({va, vb}))
          wrong.push_back(pair + "the halves disagree: " + std::to_string(a) + " sees \"" + va + "\", " +
                          std::to_string(b) + " sees \"" + vb + "\"" + (p.uncertain ? " (uncertain)" : ""));
        else if (!p.uncertain && (va != view_of(p, 0) || vb != view_of(p, 1)))
          wrong.push_back(pair + "shows (\"" + va + "\", \"" + vb + "\"), the acknowledged operations make (\"" +
                          view_of(p, 0) + "\", \"" + view_of(p, 1) + "\")");
      }
    return wrong;
  };

  // Converged within 30 s: each intent is retried every second.
  std::vector<std::string> wrong;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    wrong = check();
    if (wrong.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  } while (std::chrono::steady_clock::now() < deadline);

  // uncertain: of pairs of users who live; related: certain, and not "nothing" on both sides
  int uncertain = 0, related = 0;
  for (int a = 0; a < users_n; ++a)
    for (int b = a + 1; b < users_n; ++b) {
      auto& p = model[a * users_n + b];
      bool alive = life_of(a) == life::alive && life_of(b) == life::alive;
      uncertain += alive && p.uncertain;
      related += !p.uncertain && life_of(a) == life::alive && life_of(b) == life::alive &&
                 (!view_of(p, 0).empty() || !view_of(p, 1).empty());
    }
  auto took = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[          ] " << answered << " operations answered (" << modelled << " checked against the model), "
            << unknown << " not answered, " << deleted_ok << " deletions; " << uncertain << " uncertain pairs, "
            << related << " related pairs checked against the model; converged after " << round << " rounds; "
            << took << " s\n";

  std::string first;
  for (size_t i = 0; i < std::min<size_t>(failures.size(), 10); ++i) first += "\n  " + failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " wrong answers:" << first;
  first.clear();
  for (size_t i = 0; i < std::min<size_t>(wrong.size(), 20); ++i) first += "\n  " + wrong[i];
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " pairs wrong after 30 s:" << first << "\n" << logs();
  // The run proves something only if most operations were answered and the
  // model holds many relations at the end.
  EXPECT_GT(answered.load(), ops_n * 3 / 4);
  EXPECT_GT(modelled.load(), ops_n * 4 / 10);
  EXPECT_GT(related, 100);
  EXPECT_GE(deleted_ok.load(), deletions_n / 2);
}

} // namespace
