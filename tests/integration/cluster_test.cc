// Multi-process cluster tests: several build/roster processes on loopback
// form one cluster (issue 3, SPEC §6).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "tests/support/roster_server.h"
#include "tests/support/sse_client.h"
#include "tests/support/webhook_receiver.h"

using namespace roster::testing;

namespace {

constexpr const char* secret = "cluster-test-secret-0123";
constexpr int partitions = 64;

struct node {
  std::string name;
  int cluster_port;
  std::unique_ptr<roster_server> server;
};

env node_env(const std::string& name, int cluster_port, const std::string& seeds, const std::string& key = secret) {
  env e{{"ROSTER_NODE_NAME", name},
        {"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(cluster_port)},
        {"ROSTER_CLUSTER_SECRET", key},
        // Plaintext loopback links keep these tests fast; NodeLinksCanUseMutualTls
        // and the stranger tests cover the secure default.
        {"ROSTER_CLUSTER_INSECURE", "true"}};
  if (!seeds.empty()) e["ROSTER_CLUSTER_SEEDS"] = seeds;
  return e;
}

class ClusterTest : public ::testing::Test {
 protected:
  // Load threads read `nodes` while a node is added: never reallocate.
  ClusterTest() { nodes.reserve(8); }
  std::vector<node> nodes;

  std::string seed() const { return "127.0.0.1:" + std::to_string(nodes.front().cluster_port); }

  roster_server& add_node(const std::string& key = secret, const env& extra = {}) {
    node n;
    n.name = "node-" + std::to_string(nodes.size() + 1);
    n.cluster_port = free_port();
    auto e = node_env(n.name, n.cluster_port, nodes.empty() ? "" : seed(), key);
    e.insert(extra.begin(), extra.end());
    n.server = std::make_unique<roster_server>(e);
    n.cluster_port = n.server->cluster_port();
    nodes.push_back(std::move(n));
    return *nodes.back().server;
  }

  roster_server& at(size_t i) { return *nodes.at(i).server; }

  json cluster_view(size_t i) { return at(i).admin("GET", "/debug/cluster").body; }

  /// Waits until node i sees member `name` in `state`; returns that view.
  json member_state(size_t i, const std::string& name, const std::string& state) {
    json v;
    for (int t = 0; t < 400; ++t) {
      v = cluster_view(i);
      for (auto& m : v["members"])
        if (m["name"] == name && m["state"] == state) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << name << " never became " << state << ": " << v.dump();
    return v;
  }

  /// Waits until every running node sees member `name` up again (a restarted
  /// node serves once admitted, but the others learn of it a moment later).
  void all_see_up(const std::string& name) {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].server->running()) member_state(i, name, "up");
  }

  /// Waits until node i sees `members` members and no handoff in progress.
  json settled(size_t i, size_t members) {
    json v;
    for (int t = 0; t < 600; ++t) {
      v = cluster_view(i);
      if (v.is_object() && v["members"].size() == members && v["handoffs"].empty()) return v;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "cluster did not settle: " << v.dump();
    return v;
  }

  void start_cluster(size_t n) {
    for (size_t i = 0; i < n; ++i) add_node();
    for (size_t i = 0; i < n; ++i) settled(i, n);
  }

  std::string owner_of(size_t via, const std::string& user_id) {
    return at(via).admin("GET", "/debug/users/" + user_id).body.value("owner", "");
  }

  struct user {
    std::string id, token;
  };
  std::vector<user> device_users(size_t n, const std::string& tag) {
    std::vector<user> out;
    for (size_t i = 0; i < n; ++i) {
      auto r = at(i % nodes.size()).call("POST", "/v1/sessions/device",
                                         {{"device_id", "dev-" + tag + "-" + std::to_string(i) + "-xyz"}});
      EXPECT_EQ(r.status, 201) << r.raw;
      if (r.status == 201) out.push_back({r.body["user"]["id"], r.body["session"]["token"]});
    }
    return out;
  }

  /// user id → the node that owns it, as node `via` sees it.
  std::map<std::string, std::string> owners(size_t via, const std::vector<user>& users) {
    std::map<std::string, std::string> out;
    for (auto& u : users) out[u.id] = owner_of(via, u.id);
    return out;
  }

  /// A pair (lo, hi) of `users` with lo's id below hi's (lo owns the pair's
  /// social state) and their owners (`owner`: owners()) accepted by `fits`;
  /// {nullptr, nullptr} if none.
  static std::pair<const user*, const user*> pair_where(
      const std::vector<user>& users, std::map<std::string, std::string>& owner,
      const std::function<bool(const std::string& lo_owner, const std::string& hi_owner)>& fits) {
    for (auto& a : users)
      for (auto& b : users)
        if (a.id < b.id && fits(owner[a.id], owner[b.id])) return {&a, &b};
    return {nullptr, nullptr};
  }

  /// The tail of every node's log, for failure messages.
  std::string logs() const {
    std::string out;
    for (auto& n : nodes) {
      auto text = n.server->log();
      out += "--- " + n.name + " (last 3000 bytes of its log):\n" + text.substr(text.size() > 3000 ? text.size() - 3000 : 0);
    }
    return out;
  }

  /// Every user's account answers 200 through every running node. Right
  /// after a member restarted, a link to it can drop once and be re-knocked
  /// (see docs/cluster.md): a node may answer the documented retryable 503
  /// for a moment, so that one answer is retried for up to 5 s, as a client
  /// honouring Retry-After would.
  void readable_everywhere(const std::vector<user>& users) {
    for (auto& u : users)
      for (auto& n : nodes)
        if (n.server->running()) {
          auto r = n.server->as(u.token, "GET", "/v1/account");
          for (int i = 0; i < 50 && r.status == 503 && r.body["error"]["code"] == "partition_unavailable"; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            r = n.server->as(u.token, "GET", "/v1/account");
          }
          ASSERT_EQ(r.status, 200) << u.id << " through " << n.name << ": " << r.raw << "\n" << logs();
        }
  }
};

std::map<std::string, int> owned_counts(const json& view) {
  std::map<std::string, int> c;
  for (auto& o : view["partition_table"]["owners"]) ++c[o.get<std::string>()];
  return c;
}

TEST_F(ClusterTest, ThreeNodesAgreeAndServeEveryUserThroughEveryNode) {
  start_cluster(3);
  auto v1 = cluster_view(0), v2 = cluster_view(1), v3 = cluster_view(2);
  EXPECT_EQ(v1["epoch"], v2["epoch"]);
  EXPECT_EQ(v1["epoch"], v3["epoch"]);
  EXPECT_EQ(v1["partition_table"]["owners"], v3["partition_table"]["owners"]);
  for (auto& [name, n] : owned_counts(v1)) EXPECT_TRUE(n == 21 || n == 22) << name << " owns " << n;
  EXPECT_EQ(v2["members"].size(), 3u);

  // Register through node 1, log in through node 2, read through node 3.
  std::set<std::string> owners;
  for (int i = 0; i < 12; ++i) {
    auto email = "player" + std::to_string(i) + "@example.com";
    auto reg = at(0).register_user(email, "player" + std::to_string(i));
    ASSERT_EQ(reg.status, 201) << reg.raw;
    auto login = at(1).login(email);
    ASSERT_EQ(login.status, 201) << login.raw;
    auto me = at(2).as(login.body["session"]["token"], "GET", "/v1/account");
    ASSERT_EQ(me.status, 200) << me.raw;
    EXPECT_EQ(me.body["email"], email);
    owners.insert(owner_of(2, reg.body["user"]["id"]));
  }
  EXPECT_GE(owners.size(), 2u) << "12 users all landed on one node";
  // A username taken on one node is taken when checked through another.
  EXPECT_EQ(at(2).register_user("other@example.com", "player3").status, 409);

  // Scatter-gather: the same search and stats through any node.
  auto s1 = at(0).admin("GET", "/v1/admin/users?q=player&page_size=5&page=2");
  auto s3 = at(2).admin("GET", "/v1/admin/users?q=player&page_size=5&page=2");
  ASSERT_EQ(s1.status, 200) << s1.raw;
  EXPECT_EQ(s1.body, s3.body);
  EXPECT_EQ(s1.body["items"].size(), 5u);
  EXPECT_EQ(at(1).admin("GET", "/v1/admin/stats").body["users"], 12);
  auto actors = at(1).admin("GET", "/debug/actors").body;
  EXPECT_EQ(actors["nodes"].size(), 3u);
  EXPECT_GT(actors["user_actors"].get<int>(), 0);

  // Metrics and the CLI show the same cluster.
  auto metrics = at(2).call("GET", "/metrics").raw;
  EXPECT_NE(metrics.find("roster_cluster{figure=\"members_up\"} 3"), std::string::npos);
  auto [code, out] =
    run_roster("cluster status --http 127.0.0.1:" + std::to_string(at(0).port()) + " --admin-key " + at(0).admin_key());
  EXPECT_EQ(code, 0) << out;
  for (auto* s : {"node-1", "node-2", "node-3", "coordinator", "partition table", "handoffs in progress: 0"})
    EXPECT_NE(out.find(s), std::string::npos) << s << " missing from:\n" << out;
}

TEST_F(ClusterTest, ReadsThroughAnyNodeSeeEveryChangeAtOnce) {
  start_cluster(3);
  // A user that node-1 does not own: its reads cross to the owner, whose
  // gateway answers repeated ones from what the user's actor published.
  std::string token, id;
  for (int i = 0; i < 40 && token.empty(); ++i) {
    auto reg = at(0).register_user("far" + std::to_string(i) + "@example.com", "far" + std::to_string(i));
    ASSERT_EQ(reg.status, 201) << reg.raw;
    if (owner_of(0, reg.body["user"]["id"]) == "node-1") continue;
    token = reg.body["session"]["token"];
    id = reg.body["user"]["id"];
  }
  ASSERT_FALSE(token.empty()) << "node-1 owned every user";
  auto cached = [&] { return at(0).admin("GET", "/debug/actors").body.value("reads_answered_from_cache", 0); };
  auto before = cached();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(at(0).as(token, "GET", "/v1/account").status, 200);
  EXPECT_GE(cached() - before, 2);

  ASSERT_EQ(at(1).as(token, "PATCH", "/v1/account", {{"display_name", "Moved Along"}}).status, 200);
  EXPECT_EQ(at(0).as(token, "GET", "/v1/account").body["display_name"], "Moved Along");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(at(0).as(token, "GET", "/v1/account").status, 200);
  ASSERT_EQ(at(2).admin("POST", "/v1/admin/users/" + id + "/block").status, 200);
  EXPECT_EQ(at(0).as(token, "GET", "/v1/account").status, 403);
  EXPECT_EQ(at(1).as(token, "GET", "/v1/account").status, 403);
}

TEST_F(ClusterTest, UsernameSearchGathersEveryNodeSortedAndPaginated) {
  start_cluster(3);
  std::vector<std::string> expected;
  for (int i = 0; i < 15; ++i) {
    auto name = "seeker" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    ASSERT_EQ(at(i % 3).register_user(name + "@example.com", name).status, 201);
    expected.push_back(name);  // tags: "seekeroo", "seekerol", ...: sorted as the names here
  }
  ASSERT_EQ(at(0).register_user("other@example.com", "other").status, 201);
  for (size_t via = 0; via < 3; ++via) {
    std::vector<std::string> names;
    std::string cursor;
    for (int page = 0; page < 10; ++page) {
      auto r = at(via).call("GET", "/v1/users/search?q=Seek&limit=4" + (cursor.empty() ? "" : "&cursor=" + cursor));
      ASSERT_EQ(r.status, 200) << r.raw;
      EXPECT_EQ(r.body["partial"], false);
      for (auto& item : r.body["items"]) {
        names.push_back(item["username"]);
        EXPECT_FALSE(item.contains("email"));
      }
      if (r.body["next_cursor"].is_null()) break;
      cursor = r.body["next_cursor"];
    }
    std::vector<std::string> sorted_expected = expected;
    std::sort(sorted_expected.begin(), sorted_expected.end(), [](const std::string& a, const std::string& b) {
      auto fold = [](std::string s) {
        for (auto& ch : s) ch = ch == '0' ? 'o' : ch == '1' ? 'l' : ch == '5' ? 's' : ch;
        return s;
      };
      return fold(a) < fold(b);
    });
    EXPECT_EQ(names, sorted_expected) << "through node " << via + 1;
  }
}

TEST_F(ClusterTest, ABanMadeThroughOneNodeHoldsThroughEveryNode) {
  start_cluster(3);
  // A user that node-1 does not own, so that the ban crosses to its owner.
  std::string token, id, name;
  for (int i = 0; i < 40 && token.empty(); ++i) {
    name = "ban" + std::to_string(i);
    auto reg = at(0).register_user(name + "@example.com", name);
    ASSERT_EQ(reg.status, 201) << reg.raw;
    if (owner_of(0, reg.body["user"]["id"]) == "node-1") continue;
    token = reg.body["session"]["token"];
    id = reg.body["user"]["id"];
  }
  ASSERT_FALSE(token.empty()) << "node-1 owned every user";
  for (size_t i = 0; i < 3; ++i) ASSERT_EQ(at(i).as(token, "GET", "/v1/account").status, 200);  // cached reads
  auto ban = at(0).admin("POST", "/v1/admin/bans", {{"user_id", id}, {"reason", "cheating"}});
  ASSERT_EQ(ban.status, 201) << ban.raw;
  for (size_t i = 0; i < 3; ++i) {
    auto r = at(i).as(token, "GET", "/v1/account");
    EXPECT_EQ(r.status, 403) << "through node-" << i + 1 << ": " << r.raw;
    // The reason crosses the node link with the error.
    EXPECT_EQ(r.body["error"]["details"]["reason"], "cheating") << r.raw;
    EXPECT_EQ(at(i).admin("GET", "/v1/admin/bans/" + id).body["banned"], true);
  }
  EXPECT_EQ(at(1).login(name).body["error"]["code"], "account_banned");
  ASSERT_EQ(at(2).admin("DELETE", "/v1/admin/bans/" + id).status, 204);
  EXPECT_EQ(at(0).admin("GET", "/v1/admin/bans/" + id).body["banned"], false);
}

TEST_F(ClusterTest, ReadyzCountsThePartitionsThisNodeOwns) {
  start_cluster(2);
  int total = 0;
  for (size_t i = 0; i < 2; ++i) {
    auto r = at(i).call("GET", "/readyz");
    ASSERT_EQ(r.status, 200) << r.raw;
    auto served = cluster_view(i)["partitions_served_here"].get<int>();
    EXPECT_EQ(r.body["partitions_owned"], served) << r.raw;
    EXPECT_GT(served, 0);
    EXPECT_LT(served, partitions);
    total += r.body["partitions_owned"].get<int>();
  }
  EXPECT_EQ(total, partitions);  // each partition owned by one node
}

TEST_F(ClusterTest, GarbageOnTheClusterPortDoesNotHurtTheNode) {
  start_cluster(2);
  auto users = device_users(10, "garbage");
  for (int round = 0; round < 20; ++round) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(nodes[0].cluster_port));
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    std::string junk = round % 2 ? std::string(4096, static_cast<char>(round)) : "GET / HTTP/1.1\r\n\r\n";
    for (size_t i = 0; i < junk.size(); i += 7) junk[i] = static_cast<char>(i * 31 + round);
    (void)::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto v = settled(1, 2);
  for (auto& m : v["members"]) EXPECT_EQ(m["state"], "up");
  readable_everywhere(users);
}

TEST_F(ClusterTest, TwentyConcurrentRegistrationsOfOneEmailAcrossNodesGiveOneWinner) {
  start_cluster(3);
  std::atomic<int> created{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i)
    threads.emplace_back([&, i] {
      auto r = at(i % 3).register_user("race@example.com", "racer" + std::to_string(i));
      if (r.status == 201) ++created;
      else if (r.status == 409) ++conflicts;
      else ++other;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, 19);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(at(1).login("race@example.com").status, 201);
}

TEST_F(ClusterTest, FourthNodeJoinsUnderLoadAndNothingIsLost) {
  start_cluster(3);
  auto users = device_users(120, "join");
  auto before = cluster_view(0)["partition_table"]["owners"];

  // Readers and writers through every node while the fourth node joins.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, retryable{0};
  std::mutex mutex;
  std::vector<std::string> failures;
  std::map<std::string, int> acked;  // user id → last acknowledged level
  std::vector<std::thread> load;
  for (int w = 0; w < 4; ++w)
    load.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        // Each writer has its own 30 users, so a user's writes are ordered.
        auto& u = users[w * 30 + i % 30];
        auto& via = at(i % 3);
        bool write = i % 2 == 0;
        int level = w * 1'000'000 + i;
        auto r = write ? via.as(u.token, "PATCH", "/v1/account", {{"metadata", {{"level", level}}}})
                       : via.as(u.token, "GET", "/v1/account");
        if (r.status == 200) {
          ++ok;
          if (write) {
            std::lock_guard<std::mutex> lock(mutex);
            acked[u.id] = level;
          }
        } else if (r.status == 503 && !r.header("Retry-After").empty()) {
          ++retryable;
        } else {
          std::lock_guard<std::mutex> lock(mutex);
          failures.push_back(std::to_string(r.status) + " " + r.raw);
        }
      }
    });
  // And new users (device ids are unique keys, claimed on index partitions
  // that may be moving).
  std::map<std::string, std::string> registered;  // device id → user id
  load.emplace_back([&] {
    for (int i = 0; !stop; ++i) {
      auto device = "join-new-device-" + std::to_string(i) + "-abc";
      auto r = at(i % 3).call("POST", "/v1/sessions/device", {{"device_id", device}});
      std::lock_guard<std::mutex> lock(mutex);
      if (r.status == 201) registered[device] = r.body["user"]["id"];
      else if (r.status != 503) failures.push_back("register " + std::to_string(r.status) + " " + r.raw);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  add_node();
  auto after = settled(3, 4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : load) t.join();

  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  EXPECT_GT(ok.load(), 100);
  std::cout << "[          ] during the join: " << ok << " requests answered, " << retryable
            << " retryable 503s\n";
  // The joiner owns P/4; no partition moved between the old nodes.
  auto counts = owned_counts(after);
  EXPECT_EQ(counts["node-4"], partitions / 4);
  int moved = 0;
  for (int p = 0; p < partitions; ++p) {
    if (before[p] == after["partition_table"]["owners"][p]) continue;
    ++moved;
    EXPECT_EQ(after["partition_table"]["owners"][p], "node-4") << "partition " << p << " moved between old nodes";
  }
  EXPECT_EQ(moved, partitions / 4);
  // Every user readable through every node, with its last acknowledged write
  // (a user's level only rises; a later write whose reply was lost may have
  // landed too, so never less than the last acknowledged one).
  for (auto& u : users)
    for (size_t n = 0; n < 4; ++n) {
      auto me = at(n).as(u.token, "GET", "/v1/account");
      ASSERT_EQ(me.status, 200) << "user " << u.id << " through node " << n + 1 << ": " << me.raw;
      if (acked.count(u.id)) EXPECT_GE(me.body["metadata"].value("level", -1), acked[u.id]) << u.id;
    }
  // Every device registered during the join logs in to the same user again.
  EXPECT_GT(registered.size(), 10u);
  for (auto& [device, id] : registered) {
    auto r = at(3).call("POST", "/v1/sessions/device", {{"device_id", device}});
    ASSERT_EQ(r.status, 201) << r.raw;
    EXPECT_EQ(r.body["user"]["id"], id) << device;
  }
  EXPECT_GT(at(3).admin("GET", "/debug/cluster").body["partitions_served_here"].get<int>(), 0);
}

// A partition big enough that its copy takes a while, written to all along:
// the writes made during the copy reach the new owner (catch-up), and each
// user ends with its last acknowledged value.
TEST_F(ClusterTest, HandoffCarriesTheWritesMadeDuringTheCopy) {
  // 2 partitions: the join moves one of them, about half of all users.
  env two{{"ROSTER_CLUSTER_PARTITIONS", "2"}};
  add_node(secret, two);
  ASSERT_EQ(cluster_view(0)["partitions"], 2);
  auto users = device_users(1500, "copy");
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<std::string, int> acked;
  std::vector<std::string> failures;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([&, w] {
      for (int i = 1; !stop; ++i) {
        auto& u = users[(w * 375 + i) % 1500];
        auto r = at(0).as(u.token, "PATCH", "/v1/account", {{"metadata", {{"v", i}}}});
        std::lock_guard<std::mutex> lock(mutex);
        if (r.status == 200) acked[u.id] = std::max(acked[u.id], i);
        else failures.push_back(std::to_string(r.status) + " " + r.raw);
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  add_node(secret, two);
  settled(0, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures, first: " << failures.front();
  uint64_t caught_up = 0;
  auto view = cluster_view(0);
  for (auto& h : view["recent_handoffs"]) {
    EXPECT_TRUE(h["ok"].get<bool>());
    caught_up += h["caught_up_keys"].get<uint64_t>();
  }
  EXPECT_GT(caught_up, 0u) << "no write landed during any copy: " << view["recent_handoffs"].dump();
  for (auto& u : users) {
    auto me = at(1).as(u.token, "GET", "/v1/account");
    ASSERT_EQ(me.status, 200) << me.raw;
    if (acked.count(u.id)) EXPECT_GE(me.body["metadata"].value("v", 0), acked[u.id]) << u.id;
  }
}

TEST_F(ClusterTest, LeaveHandsOffEveryPartitionThenExits) {
  start_cluster(3);
  auto users = device_users(60, "leave");
  auto r = at(2).admin("POST", "/v1/admin/cluster/leave");
  ASSERT_EQ(r.status, 202) << r.raw;
  EXPECT_EQ(r.body["leaving"], "node-3");
  auto v = settled(0, 2);
  auto counts = owned_counts(v);
  EXPECT_EQ(counts.count("node-3"), 0u);
  EXPECT_EQ(counts["node-1"] + counts["node-2"], partitions);
  // The leaver stops by itself.
  for (int i = 0; i < 200 && at(2).call("GET", "/healthz").status == 200; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(at(2).call("GET", "/healthz").status, 0) << "node-3 still answers after leaving";
  for (auto& u : users) {
    auto me = at(u.id.back() % 2).as(u.token, "GET", "/v1/account");
    ASSERT_EQ(me.status, 200) << me.raw;
  }
  // The coordinator (node-1) can leave too; node-2 then serves everything.
  EXPECT_EQ(at(0).admin("POST", "/v1/admin/cluster/leave").status, 202);
  auto last = settled(1, 1);
  EXPECT_EQ(owned_counts(last)["node-2"], partitions);
  for (auto& u : users) ASSERT_EQ(at(1).as(u.token, "GET", "/v1/account").status, 200) << u.id;
  // The last member cannot leave.
  EXPECT_EQ(at(1).admin("POST", "/v1/admin/cluster/leave").status, 400);
}

TEST_F(ClusterTest, Kill9MakesItsPartitionsUnavailableUntilItReturns) {
  start_cluster(3);
  auto users = device_users(60, "kill");
  auto owner = owners(0, users);
  nodes[2].server->kill9();
  member_state(0, "node-3", "down");
  int unavailable = 0;
  for (auto& u : users) {
    auto me = at(1).as(u.token, "GET", "/v1/account");
    if (owner[u.id] == "node-3") {
      EXPECT_EQ(me.status, 503) << me.raw;
      EXPECT_EQ(me.header("Retry-After"), "1");
      EXPECT_EQ(me.body["error"]["code"], "partition_unavailable");
      ++unavailable;
    } else {
      EXPECT_EQ(me.status, 200) << me.raw;
    }
  }
  EXPECT_GT(unavailable, 0);
  // Cross-partition reads say what they are missing.
  auto stats = at(0).admin("GET", "/v1/admin/stats").body;
  EXPECT_EQ(stats["partial"], true);
  EXPECT_EQ(stats["unreachable_nodes"], json::array({"node-3"}));
  EXPECT_EQ(stats["users"].get<int>(), static_cast<int>(users.size()) - unavailable);
  // Back with its data dir: every user served again, through every node.
  nodes[2].server->start();
  settled(0, 3);
  all_see_up("node-3");
  readable_everywhere(users);
  stats = at(0).admin("GET", "/v1/admin/stats").body;
  EXPECT_EQ(stats["partial"], false);
  EXPECT_EQ(stats["users"], users.size());
}

// A stream held by one node for a user another node owns: the user's actor
// pushes over the cluster link; presence is counted where the user lives.
TEST_F(ClusterTest, AStreamOnOneNodeReceivesEventsOfAUserOwnedByAnother) {
  start_cluster(2);
  auto users = device_users(20, "remote-stream");
  auto owner = owners(0, users);
  auto remote = std::find_if(users.begin(), users.end(), [&](auto& u) { return owner[u.id] == "node-2"; });
  ASSERT_NE(remote, users.end());
  sse_client stream(at(0).port(), "/v1/events", {{"Authorization", "Bearer " + remote->token}});
  ASSERT_EQ(stream.status(), 200) << stream.body;
  EXPECT_EQ(at(1).call("GET", "/v1/users/" + remote->id).body["online"], true);
  EXPECT_EQ(at(0).admin("GET", "/v1/admin/stats").body["online"], 1);
  auto sent = at(1).admin("POST", "/v1/admin/notifications", {{"user_ids", {remote->id}}, {"title", "across"}});
  ASSERT_EQ(sent.status, 200) << sent.raw;
  auto e = stream.next();
  ASSERT_TRUE(e) << logs();
  EXPECT_EQ(json::parse(e->data)["data"]["title"], "across");
  ASSERT_EQ(at(1).as(remote->token, "DELETE", "/v1/sessions/current").status, 204);
  while ((e = stream.next()) && e->event != "end") {
  }
  ASSERT_TRUE(e);
  EXPECT_TRUE(stream.wait_closed());
}

// Streams whose users' partition moves to a joining node resubscribe at the
// new owner: notifications sent all along arrive, in order, none twice.
TEST_F(ClusterTest, StreamsFollowTheirUsersAcrossAHandoff) {
  env two{{"ROSTER_CLUSTER_PARTITIONS", "2"}};
  add_node(secret, two);
  auto users = device_users(12, "follow");
  std::vector<std::unique_ptr<sse_client>> streams;
  for (auto& u : users) {
    streams.push_back(std::make_unique<sse_client>(at(0).port(), "/v1/events",
                                                   std::map<std::string, std::string>{{"Authorization", "Bearer " + u.token}}));
    ASSERT_EQ(streams.back()->status(), 200);
  }
  std::atomic<bool> stop{false};
  std::map<std::string, int> acked;  // user → notifications answered 200
  std::thread sender([&] {
    for (int i = 0; !stop && i < 400; ++i) {
      auto& u = users[i % users.size()];
      auto r = at(0).admin("POST", "/v1/admin/notifications", {{"user_ids", {u.id}}, {"title", std::to_string(i)}});
      if (r.status == 200) ++acked[u.id];
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  add_node(secret, two);
  settled(0, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  sender.join();
  auto moved = owners(0, users);
  int on_new = 0;
  for (size_t i = 0; i < users.size(); ++i) {
    on_new += moved[users[i].id] == "node-2";
    uint64_t last = 0;
    int got = 0;
    while (got < acked[users[i].id]) {
      auto e = streams[i]->next(10'000);
      ASSERT_TRUE(e) << users[i].id << " got " << got << " of " << acked[users[i].id] << "\n" << logs();
      if (e->event != "notification") continue;
      auto seq = std::stoull(e->id);
      EXPECT_GT(seq, last) << "out of order or twice";
      last = seq;
      ++got;
    }
  }
  EXPECT_GT(on_new, 0) << "no user moved";
}

// Messages pending in a partition that moves are sent by its new owner.
TEST_F(ClusterTest, PendingOutboxEntriesAreSentByTheNewOwner) {
  webhook_receiver hook(free_port(), "whsec-cluster-0123456789");
  env e{{"ROSTER_CLUSTER_PARTITIONS", "2"},
        {"ROSTER_WEBHOOKS_URLS", hook.url()},
        {"ROSTER_WEBHOOKS_SECRET", "whsec-cluster-0123456789"},
        {"ROSTER_OUTBOX_BACKOFF_INITIAL", "200ms"},
        {"ROSTER_OUTBOX_BACKOFF_MAX", "500ms"},
        {"ROSTER_OUTBOX_MAX_ATTEMPTS", "100"}};  // none dies while a slow node joins
  add_node(secret, e);
  auto users = device_users(30, "outbox");  // 30 user.registered events, pending: the receiver is down
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(at(0).admin("GET", "/v1/admin/outbox?limit=200").body["items"].size(), 30u);
  add_node(secret, e);
  settled(0, 2);
  hook.start();
  std::set<std::string> registered;
  ASSERT_TRUE(hook.wait_for(
      [&](const std::vector<delivery>& ds) {
        registered.clear();
        for (auto& d : ds)
          if (d.event == "user.registered") registered.insert(json::parse(d.body)["user_id"].get<std::string>());
        return registered.size() == users.size();
      },
      std::chrono::seconds(20)))
      << registered.size() << "\n" << logs();
  // Both nodes sent some: the moved partition's entries went with it.
  auto sent_by = [&](size_t i) {
    auto m = at(i).call("GET", "/metrics").raw;
    auto at_ = m.find("roster_outbox{figure=\"sent_total\"} ");
    return at_ == std::string::npos ? 0 : std::stoi(m.substr(at_ + 35));
  };
  EXPECT_GT(sent_by(0), 0);
  EXPECT_GT(sent_by(1), 0);
  for (auto& d : hook.deliveries()) EXPECT_TRUE(d.signature_ok);
}

TEST_F(ClusterTest, FrozenNodeIsMarkedDownAndRejoinsWhenItThaws) {
  start_cluster(3);
  auto users = device_users(30, "frozen");
  auto owner = owners(0, users);
  nodes[2].server->signal(SIGSTOP);
  // No TCP reset this time: the middleman's heartbeat finds it (timeout 5 s).
  member_state(0, "node-3", "down");
  for (auto& u : users)
    if (owner[u.id] == "node-3") EXPECT_EQ(at(1).as(u.token, "GET", "/v1/account").status, 503);
  nodes[2].server->signal(SIGCONT);
  // It finds itself cut off, knocks again, and is admitted.
  member_state(0, "node-3", "up");
  auto v1 = settled(0, 3);
  for (int i = 0; i < 100 && cluster_view(2)["epoch"] != v1["epoch"]; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(cluster_view(2)["epoch"], v1["epoch"]);
  readable_everywhere(users);
}

TEST_F(ClusterTest, CoordinatorDiesAnotherTakesOverAndItComesBack) {
  start_cluster(3);
  auto users = device_users(45, "coord");
  auto owner = owners(1, users);
  nodes[0].server->kill9();
  // node-2, the next longest-standing member, marks node-1 down.
  auto v = member_state(1, "node-1", "down");
  for (auto& m : v["members"]) {
    if (m["name"] == "node-1") EXPECT_EQ(m["state"], "down");
    if (m["name"] == "node-2") EXPECT_TRUE(m["coordinator"].get<bool>()) << v.dump();
  }
  for (auto& u : users)
    EXPECT_EQ(at(2).as(u.token, "GET", "/v1/account").status, owner[u.id] == "node-1" ? 503 : 200);
  // node-1 restarts with no seeds of its own: its stored view names the others.
  nodes[0].server->start();
  settled(1, 3);
  all_see_up("node-1");
  readable_everywhere(users);
  // And membership changes work again: a fourth node joins.
  add_node();
  auto after = settled(3, 4);
  EXPECT_EQ(owned_counts(after)["node-4"], partitions / 4);
}

/// A CA and `n` node certificates made by `roster cert` in a new temp dir.
std::string make_certs(int n) {
  char tmpl[] = "/tmp/roster-tls-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto ca = run_roster("cert create-ca --dir " + dir);
  EXPECT_EQ(ca.first, 0) << ca.second;
  for (int i = 1; i <= n; ++i) {
    auto node = run_roster("cert create-node node-" + std::to_string(i) + " --dir " + dir);
    EXPECT_EQ(node.first, 0) << node.second;
  }
  return dir;
}

env tls_env(const std::string& dir, int i) {
  auto n = dir + "/node-node-" + std::to_string(i);
  return {{"ROSTER_CLUSTER_TLS_CERT", n + ".crt"},
          {"ROSTER_CLUSTER_TLS_KEY", n + ".key"},
          {"ROSTER_CLUSTER_TLS_CA", dir + "/ca.crt"},
          {"ROSTER_CLUSTER_INSECURE", "false"}};
}

/// Runs the stranger client (tests/support/cluster_stranger.cc).
json stranger(const std::string& args) {
  std::string cmd = std::string(STRANGER_BINARY) + " " + args + " 2>/dev/null";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  auto j = json::parse(out, nullptr, false);
  EXPECT_TRUE(j.is_object()) << cmd << " printed: " << out;
  return j.is_object() ? j : json::object();
}

TEST_F(ClusterTest, NodeLinksCanUseMutualTls) {
  auto dir = make_certs(3);
  // Keys are private to their owner.
  for (auto f : {"/ca.key", "/node-node-1.key", "/node-node-1.crt"})
    EXPECT_EQ(std::filesystem::status(dir + f).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write) << f;
  for (int i = 1; i <= 3; ++i) add_node(secret, tls_env(dir, i));
  settled(2, 3);
  for (int i = 0; i < 9; ++i) {
    auto r = at(i % 3).call("POST", "/v1/sessions/device", {{"device_id", "tls-device-" + std::to_string(i) + "-x"}});
    ASSERT_EQ(r.status, 201) << r.raw;
    for (size_t n = 0; n < 3; ++n)
      EXPECT_EQ(at(n).as(r.body["session"]["token"], "GET", "/v1/account").status, 200);
  }
  EXPECT_EQ(at(1).admin("GET", "/v1/admin/stats").body["users"], 9);
  // Only some of the TLS keys set: the node does not start.
  EXPECT_THROW(roster_server(env{{"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(free_port())},
                                 {"ROSTER_CLUSTER_SECRET", secret},
                                 {"ROSTER_CLUSTER_TLS_CERT", dir + "/node-node-1.crt"}}),
               std::runtime_error);
  // Secure by default: no TLS files and no --insecure, the node does not start.
  EXPECT_THROW(roster_server(env{{"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(free_port())},
                                 {"ROSTER_CLUSTER_SECRET", secret}}),
               std::runtime_error);

  // A stranger (no certificate) on the cluster port: the TLS handshake fails,
  // so it never speaks to an actor, and a BASP header announcing a 4 GiB
  // payload is never even parsed.
  auto uid = at(0).call("POST", "/v1/sessions/anonymous").body["user"]["id"].get<std::string>();
  auto port = std::to_string(nodes[0].cluster_port);
  auto got = stranger("login 127.0.0.1 " + port + " " + uid);
  EXPECT_EQ(got.value("sessions", -1), 0);
  EXPECT_EQ(got.value("reads", -1), 0);
  auto before = at(0).rss_kib();
  for (int i = 0; i < 3; ++i) stranger("huge 127.0.0.1 " + port);
  auto grown = at(0).rss_kib() - before;
  EXPECT_LT(grown, 16 * 1024) << "RSS grew by " << grown << " KiB";
  EXPECT_EQ(at(0).call("GET", "/healthz").status, 200);
  std::filesystem::remove_all(dir);
}

TEST_F(ClusterTest, StrangersOnAnInsecureClusterPortCanDoNothing) {
  add_node();
  add_node();
  settled(1, 2);
  // Users on both nodes; the gateway's handle has crossed the wire (joins).
  auto users = device_users(6, "stranger");
  for (size_t n = 0; n < 2; ++n) {
    auto got = stranger("login 127.0.0.1 " + std::to_string(nodes[n].cluster_port) + " " + users[n].id);
    ASSERT_TRUE(got.value("connected", false));  // plaintext: it can connect...
    EXPECT_EQ(got.value("sessions", -1), 0);     // ...but gets no session
    EXPECT_EQ(got.value("reads", -1), 0);        // and reads nothing
    EXPECT_GT(got.value("refused", 0), 0) << got.dump();
    EXPECT_NE(at(n).log().find("without this cluster's credential"), std::string::npos);
    EXPECT_GT(cluster_view(n)["security"]["refused_messages"].get<int>(), 0);
  }
  // Nothing changed: each user still has exactly the one session it made.
  for (auto& u : users) EXPECT_EQ(at(0).admin("GET", "/v1/admin/users/" + u.id).body["sessions"], 1);
  // The members still work together.
  readable_everywhere(users);
}

TEST_F(ClusterTest, SilentConnectionsToTheClusterPortAreClosed) {
  add_node(secret, {{"ROSTER_CLUSTER_HANDSHAKE_TIMEOUT", "2s"}});
  add_node();
  settled(1, 2);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(nodes[0].cluster_port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{8, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto start = std::chrono::steady_clock::now();
  // The node greets with its BASP handshake; then the stranger says nothing.
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  auto waited = std::chrono::steady_clock::now() - start;
  ::close(fd);
  EXPECT_EQ(n, 0) << "the silent connection was not closed";
  EXPECT_LT(waited, std::chrono::seconds(6));
  // The members' own links (heartbeats every 500 ms) are never silent that long.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto view = cluster_view(0);
  for (auto& m : view["members"]) EXPECT_TRUE(m["reachable"].get<bool>()) << m.dump();
  EXPECT_EQ(view["security"]["connections_closed_by_door"], 1);
}

TEST_F(ClusterTest, NodeWithTheWrongSecretIsNotAdmitted) {
  add_node();
  EXPECT_THROW(add_node("not-the-cluster-secret"), std::runtime_error);
  ASSERT_EQ(nodes.size(), 1u);
  auto v = cluster_view(0);
  EXPECT_EQ(v["members"].size(), 1u);
  // And one without a secret does not start at all.
  EXPECT_THROW(roster_server(env{{"ROSTER_CLUSTER_LISTEN", "127.0.0.1:" + std::to_string(free_port())}}),
               std::runtime_error);
}

} // namespace

namespace {
/// Codes in the log sender's files of every node (a message is written by the
/// node that owns the partition of the identity it was sent for) not in
/// `seen`, for `purpose`, waiting up to 5 s for at least one.
std::vector<std::pair<std::string, std::string>> new_codes(const std::vector<node>& nodes, std::set<std::string>& seen,
                                                           const std::string& purpose) {
  std::vector<std::pair<std::string, std::string>> out;  // (to, code)
  for (int k = 0; k < 100 && out.empty(); ++k) {
    for (auto& n : nodes) {
      auto dir = std::filesystem::path(n.server->data_dir()) / "messages";
      if (!std::filesystem::exists(dir)) continue;
      for (auto& f : std::filesystem::directory_iterator(dir)) {
        auto name = f.path().string();
        if (seen.count(name)) continue;
        std::ifstream in(f.path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.find("Purpose: " + purpose + "\n") == std::string::npos) continue;
        seen.insert(name);
        std::smatch to, code;
        std::regex_search(text, to, std::regex("To: ([^\n]+)"));
        std::regex_search(text, code, std::regex("\\b([0-9]{6})\\b"));
        out.emplace_back(to[1].str(), code[1].str());
      }
    }
    if (out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return out;
}
}  // namespace

TEST_F(ClusterTest, ACodeSentThroughOneNodeIsAcceptedThroughAnother) {
  start_cluster(3);
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) {
    auto email = "multi" + std::to_string(i) + "@example.com";
    ASSERT_EQ(at(i % 3).call("POST", "/v1/auth/email-code", {{"email", email}}).status, 202);
    auto got = new_codes(nodes, seen, "email_code");
    ASSERT_EQ(got.size(), 1u) << logs();
    EXPECT_EQ(got[0].first, email);
    auto in = at((i + 1) % 3).call("POST", "/v1/sessions/email-code", {{"email", email}, {"code", got[0].second}});
    EXPECT_EQ(in.status, 201) << in.raw;
    EXPECT_EQ(at((i + 2) % 3).call("POST", "/v1/sessions/email-code", {{"email", email}, {"code", got[0].second}}).status,
              401);  // used, whichever node is asked
  }
}

TEST_F(ClusterTest, TwentyEmailChangesToOneAddressOverThreeNodesGiveOneWinner) {
  start_cluster(3);
  constexpr int n = 20;
  std::vector<std::string> tokens(n), codes(n);
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) {
    auto r = at(i % 3).call("POST", "/v1/sessions/anonymous");
    ASSERT_EQ(r.status, 201);
    tokens[i] = r.body["session"]["token"].get<std::string>();
    ASSERT_EQ(at(i % 3).as(tokens[i], "POST", "/v1/account/email", {{"email", "prize@example.com"}}).status, 202);
    auto got = new_codes(nodes, seen, "email_change_new");
    ASSERT_EQ(got.size(), 1u) << logs();
    codes[i] = got[0].second;
  }
  std::atomic<int> won{0}, taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      auto r = at((i + 1) % 3).as(tokens[i], "POST", "/v1/account/email/confirm",
                                  {{"email", "prize@example.com"}, {"code", codes[i]}});
      if (r.status == 200) ++won;
      if (r.status == 409) ++taken;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(taken.load(), n - 1);
}

// Friends and blocks across nodes (issue 12 item 3): the pair's owner (the
// lower user id) decides; each half lives with its user.
namespace social {

/// The state `me` sees of `other` in GET /v1/friends through `s` ("" when not listed).
std::string state_of(roster_server& s, const std::string& token, const std::string& other) {
  auto r = s.as(token, "GET", "/v1/friends");
  for (auto& i : r.body["items"])
    if (i["user"]["id"] == other) return i["state"];
  return r.status == 200 ? "" : "error " + std::to_string(r.status);
}

} // namespace social

TEST_F(ClusterTest, FriendsAcrossNodesAgreeThroughEveryNode) {
  start_cluster(3);
  auto users = device_users(12, "friends");
  auto owner = owners(0, users);
  int cross = 0;
  // i invites i+1 through one node; i+1 accepts through another.
  for (size_t i = 0; i + 1 < users.size(); i += 2) {
    auto& a = users[i];
    auto& b = users[i + 1];
    cross += owner[a.id] != owner[b.id];
    auto sent = at(i % 3).as(a.token, "POST", "/v1/friends/" + b.id);
    ASSERT_EQ(sent.status, 200) << sent.raw << logs();
    EXPECT_EQ(sent.body["state"], "invite_sent");
    auto ok = at((i + 1) % 3).as(b.token, "POST", "/v1/friends/" + a.id);
    ASSERT_EQ(ok.status, 200) << ok.raw;
    EXPECT_EQ(ok.body["state"], "friend");
  }
  EXPECT_GT(cross, 0) << "every pair on one node: the test proves nothing";
  // Both halves agree, whichever node is asked.
  for (size_t i = 0; i + 1 < users.size(); i += 2)
    for (size_t via = 0; via < 3; ++via) {
      EXPECT_EQ(social::state_of(at(via), users[i].token, users[i + 1].id), "friend") << "via node " << via + 1;
      EXPECT_EQ(social::state_of(at(via), users[i + 1].token, users[i].id), "friend") << "via node " << via + 1;
    }
  // A block through a third node ends one friendship on both sides.
  ASSERT_EQ(at(2).as(users[1].token, "POST", "/v1/blocks/" + users[0].id).status, 200);
  EXPECT_EQ(social::state_of(at(0), users[0].token, users[1].id), "");
  EXPECT_EQ(social::state_of(at(1), users[1].token, users[0].id), "blocked");
  EXPECT_EQ(at(1).as(users[0].token, "POST", "/v1/friends/" + users[1].id).status, 403);
}

TEST_F(ClusterTest, AChangeForAKilledNodeArrivesAfterItsRestart) {
  start_cluster(3);
  auto users = device_users(30, "intent");
  auto owner = owners(0, users);
  // An owner (lower id) on node-1 or node-2 and a peer on node-3.
  auto pair = pair_where(users, owner, [](auto& l, auto& h) { return l != "node-3" && h == "node-3"; });
  const user *lo = pair.first, *hi = pair.second;  // (not bound: clang 14 cannot capture bindings)
  ASSERT_TRUE(lo && hi) << "no pair spans node-3 and another node";
  size_t via = owner[lo->id] == "node-1" ? 0 : 1;
  nodes[2].server->kill9();
  member_state(via, "node-3", "down");
  // The owner decides and stores its half and the intent: acknowledged.
  auto sent = at(via).as(lo->token, "POST", "/v1/friends/" + hi->id);
  ASSERT_EQ(sent.status, 200) << sent.raw;
  EXPECT_EQ(sent.body["state"], "invite_sent");
  EXPECT_EQ(social::state_of(at(via), lo->token, hi->id), "invite_sent");
  nodes[2].server->start();
  settled(via, 3);
  all_see_up("node-3");
  // Delivered once node-3 serves again (the retry interval is 1 s).
  std::string seen;
  for (int i = 0; i < 100 && seen != "invite_received"; ++i) {
    seen = social::state_of(at(2), hi->token, lo->id);
    if (seen != "invite_received") std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(seen, "invite_received") << logs();
  // And the pair goes on from there.
  auto ok = at(2).as(hi->token, "POST", "/v1/friends/" + lo->id);
  ASSERT_EQ(ok.status, 200) << ok.raw;
  EXPECT_EQ(ok.body["state"], "friend");
  EXPECT_EQ(social::state_of(at(via), lo->token, hi->id), "friend");
}

namespace {

/// The whole moderation queue (pending) as node `s` gathers it.
json whole_queue(const roster_server& s) {
  auto r = s.admin("GET", "/v1/admin/moderation/queue?page_size=200");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["partial"], false) << r.raw;
  return r.body;
}

} // namespace

TEST_F(ClusterTest, TheModerationQueueIsTheSameThroughEveryNodeAndItsBanHoldsEverywhere) {
  start_cluster(3);
  auto users = device_users(14, "mod");
  auto owner = owners(0, users);
  // Users 0..3 are reported: user 0 by five distinct reporters (flagged),
  // the others by one to three; reports go through every node.
  std::vector<user> targets(users.begin(), users.begin() + 4), reporters(users.begin() + 4, users.end());
  std::set<std::string> target_owners;
  for (auto& t : targets) target_owners.insert(owner[t.id]);
  EXPECT_GT(target_owners.size(), 1u) << "every reported user on one node: the test proves little";
  int n = 0;
  for (size_t t = 0; t < targets.size(); ++t)
    for (size_t r = 0; r < (t == 0 ? 5u : t); ++r) {
      auto ok = at(n++ % 3).as(reporters[r].token, "POST", "/v1/reports",
                               {{"user_id", targets[t].id}, {"category", "cheating"}, {"block", false}});
      ASSERT_EQ(ok.status, 202) << ok.raw << logs();
    }
  auto first = whole_queue(at(0));
  ASSERT_EQ(first["total"], 4) << first;
  EXPECT_EQ(first["items"][0]["user_id"], targets[0].id);
  EXPECT_EQ(first["items"][0]["flagged"], true);
  EXPECT_EQ(first["items"][1]["user_id"], targets[3].id);  // three reports
  for (size_t via = 1; via < 3; ++via) EXPECT_EQ(whole_queue(at(via))["items"], first["items"]) << "via node-" << via + 1;
  // Each node counts the entries of the partitions it owns: together, all of them.
  int64_t depth = 0;
  for (int i = 0; i < 40; ++i) {
    depth = at(1).admin("GET", "/debug/actors").body.value("moderation_queue_depth", 0);
    if (depth == 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(depth, 4);
  // Resolve with a ban through node-3: it holds through every node at once.
  auto ban = at(2).admin("POST", "/v1/admin/moderation/queue/" + targets[0].id + "/resolve",
                         {{"action", "ban"}, {"reason", "aimbot"}});
  ASSERT_EQ(ban.status, 200) << ban.raw;
  for (size_t via = 0; via < 3; ++via) {
    auto r = at(via).as(targets[0].token, "GET", "/v1/account");
    EXPECT_EQ(r.status, 403) << "through node-" << via + 1 << ": " << r.raw;
    EXPECT_EQ(r.body["error"]["code"], "account_banned");
    EXPECT_EQ(whole_queue(at(via))["total"], 3);
  }
}

TEST_F(ClusterTest, AHandoffMovesReportsWithTheirPartition) {
  start_cluster(2);
  auto users = device_users(40, "modmove");
  std::vector<user> targets(users.begin(), users.begin() + 20), reporters(users.begin() + 20, users.end());
  for (size_t t = 0; t < targets.size(); ++t)
    for (size_t r = 0; r < 1 + t % 6; ++r) {
      auto ok = at(r % 2).as(reporters[r].token, "POST", "/v1/reports",
                             {{"user_id", targets[t].id}, {"category", "spam"}, {"block", false}});
      ASSERT_EQ(ok.status, 202) << ok.raw;
    }
  auto before = whole_queue(at(0));
  ASSERT_EQ(before["total"], 20);
  auto rel_before = at(0).admin("GET", "/v1/admin/users/" + targets[5].id + "/relations").body;
  ASSERT_EQ(rel_before["reported_by"].size(), 6u) << rel_before;
  add_node();
  for (size_t i = 0; i < 3; ++i) settled(i, 3);
  auto moved = owners(0, targets);
  int on_new = 0;
  for (auto& [id, o] : moved) on_new += o == "node-3";
  ASSERT_GT(on_new, 0) << "no reported user moved to node-3";
  // The same queue through every node, the new one included; node-3's
  // queue actor read the entries of the partitions it received.
  for (size_t via = 0; via < 3; ++via) EXPECT_EQ(whole_queue(at(via))["items"], before["items"]) << "via node-" << via + 1;
  // The figures are published at each queue actor's tick (500 ms): wait for
  // node-3's, not only for the total (the old nodes' stale figures make 20 too).
  json stats;
  auto node3_depth = [&] {
    for (auto& n : stats["nodes"])
      if (n["node"] == "node-3") return n["moderation_queue"].value("depth", -1);
    return -1;
  };
  for (int i = 0; i < 60; ++i) {
    stats = at(2).admin("GET", "/debug/actors").body;
    if (stats.value("moderation_queue_depth", 0) == 20 && node3_depth() == on_new) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(stats["moderation_queue_depth"], 20) << stats;
  EXPECT_EQ(node3_depth(), on_new) << stats;
  EXPECT_EQ(at(2).admin("GET", "/v1/admin/users/" + targets[5].id + "/relations").body, rel_before);
  // And a moved user's reports are resolved where they now live.
  for (auto& t : targets)
    if (moved[t.id] == "node-3") {
      auto r = at(0).admin("POST", "/v1/admin/moderation/queue/" + t.id + "/resolve", {{"action", "clean"}});
      ASSERT_EQ(r.status, 200) << r.raw;
      EXPECT_EQ(whole_queue(at(1))["total"], 19);
      break;
    }
}

// A forward (peer_decide) that reaches the pair's owner after its requester
// gave up is refused: the client was told the change failed, so it must not
// happen behind its back (or undo a change acknowledged since).
TEST_F(ClusterTest, AForwardThatArrivesAfterItsRequesterGaveUpIsNotApplied) {
  start_cluster(2);
  auto users = device_users(30, "late");
  auto owner = owners(0, users);
  // The owner (lower id) on node-2, the requester (higher id) on node-1.
  auto pair = pair_where(users, owner, [](auto& l, auto& h) { return l == "node-2" && h == "node-1"; });
  const user *lo = pair.first, *hi = pair.second;  // (not bound: clang 14 cannot capture bindings)
  ASSERT_TRUE(lo && hi) << "no pair spans the two nodes that way";
  // node-2 freezes (not long enough to be marked down): the forward waits in
  // its socket while the requester's 2 s run out.
  nodes[1].server->signal(SIGSTOP);
  auto sent = at(0).as(hi->token, "POST", "/v1/friends/" + lo->id);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  nodes[1].server->signal(SIGCONT);
  EXPECT_EQ(sent.status, 503) << sent.raw;
  // node-2 reads the forward now, past its deadline: nothing happens.
  for (int i = 0; i < 15; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_EQ(social::state_of(at(1), lo->token, hi->id), "") << "applied after the requester gave up";
    ASSERT_EQ(social::state_of(at(0), hi->token, lo->id), "") << "applied after the requester gave up";
  }
  // And the pair goes on as the client knows it.
  auto again = at(0).as(hi->token, "POST", "/v1/friends/" + lo->id);
  ASSERT_EQ(again.status, 200) << again.raw;
  EXPECT_EQ(again.body["state"], "invite_sent");
  EXPECT_EQ(social::state_of(at(1), lo->token, hi->id), "invite_received");
}
