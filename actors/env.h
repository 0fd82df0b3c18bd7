#pragma once
// actor_env: the services every actor of a node shares: the store and its
// write fence, the policies, the directory of live user actors
// (actors/directory.h), the read cache (actors/read_cache.h; served by
// actors/read_path.h), the member credential and the counters
// (actors/counters.h). Created by the node runtime
// (cluster/runtime.cc) before any actor is spawned and kept alive
// (shared_ptr) until the last actor quits.
#include <atomic>
#include <caf/actor_addr.hpp>
#include <caf/actor_control_block.hpp>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "actors/counters.h"
#include "actors/directory.h"
#include "actors/moderation/moderation_protocol.h"
#include "actors/notify/notify_protocol.h"
#include "actors/read_cache.h"
#include "actors/user/user_protocol.h"
#include "config/config.h"
#include "base/clock.h"
#include "base/placement.h"  // for the actors that route (the index actor reaches a user's host)
#include "domain/codes.h"
#include "domain/message_text.h"
#include "domain/moderation.h"
#include "domain/throttle.h"
#include "domain/user.h"
#include "persistence/fenced_store.h"
#include "persistence/store.h"

namespace roster {

struct actor_env {
  store* db = nullptr;  // owned by main; outlives the actor system
  /// The write fence in front of `db` (the same object), or null when the
  /// store is not fenced (unit tests): then every partition is served here.
  fenced_store* fence = nullptr;
  uint32_t partitions = 256;
  std::string node_name;
  session_policy sessions;
  throttle_policy login_throttle;
  millis idle_passivation = 5 * 60'000;
  millis claim_ttl = 30'000;  // an unconfirmed index claim older than this is repaired
  size_t max_sessions_per_user = 100;
  size_t max_log_entries = 1000;  // per user; older security-log entries are pruned
  size_t notifications_kept = 1000;  // per user (notifications.keep_per_user)
  size_t max_friends = 1000;  // social.max_friends: friends and sent invites per user
  moderation::flag_rule flag_rule;  // moderation.flag_distinct_reporters / flag_window
  size_t reports_per_minute = 30;   // moderation.reports_per_minute per reporter (0: no limit)
  /// One-time codes and link tokens (auth.code_*; domain/codes.h), the base
  /// of the links, and the texts of the messages that carry them.
  code_policy codes;
  bool require_verified_email = false;  // auth.require_verified_email
  std::string link_base_url;
  std::map<std::string, message_template> templates;
  /// Per partition: how many of its users have an open event stream (are
  /// online). Kept by the user actors; null in unit tests.
  std::unique_ptr<std::atomic<int64_t>[]> online;

  actor_directory directory;
  read_cache reads;

  /// Proof carried by every request envelope (user_request, index_request,
  /// scan_request) and every member-to-member message: derived from
  /// cluster.secret on a cluster node (every member computes the same), 32
  /// random bytes on a single node. Actors act on a message only if it
  /// carries it: a stranger that reaches the cluster port and names an actor
  /// by id cannot make it do anything (docs/cluster.md, "Who can talk to a
  /// node"). Set before any actor is spawned, then read-only.
  std::string credential;
  /// MFA (domain/mfa.h): the AES-256-GCM key that seals TOTP secrets in the
  /// store (derived from cluster.secret; empty on a node without one: the
  /// secret is then kept unsealed), how long a login challenge lives, and
  /// the issuer of the otpauth:// URI.
  std::string mfa_key;
  millis mfa_challenge_ttl = 5 * 60'000;
  std::string mfa_issuer = "Roster";
  /// True if `presented` is this node's credential (constant time); else
  /// counts and logs the refusal (at most one log line per second) naming
  /// `where` and the sender's node.
  bool accept(const std::string& presented, const char* where, const caf::strong_actor_ptr& sender);

  /// Where a user_request for a partition goes from inside an actor: this
  /// node's partition host, or the owner's gateway (set by the node runtime; a
  /// user_endpoint, null when the owner is unknown or down).
  std::function<caf::strong_actor_ptr(uint16_t partition)> host_of;

  /// True while this node owns partition `p` and may serve and write it.
  bool serving(uint16_t p) const { return !fence || fence->writable(p); }
  /// 0 while `p` is not served here; otherwise a number that changes each time
  /// this node starts to serve it again (fenced_store::grants). The queue and
  /// outbox readers reload a partition whose number changed.
  uint64_t served_since(uint16_t p) const {
    if (!fence) return 1;
    if (!fence->writable(p)) return 0;
    return fence->grants(p);  // read after writable: a grant in between shows at once
  }
  /// How many partitions this node serves now.
  uint32_t partitions_served() const {
    uint32_t n = 0;
    for (uint32_t p = 0; p < partitions; ++p) n += serving(static_cast<uint16_t>(p)) ? 1 : 0;
    return n;
  }

  /// Webhook targets and their event filter (config `[webhooks]`): a change
  /// that makes an event writes one outbox entry per URL that takes it.
  std::vector<std::string> webhook_urls;
  std::vector<std::string> webhook_events;
  /// The node's notification sender, told of every outbox entry committed
  /// (null in unit tests without one: the entries wait in the store).
  notify_hdl notify;
  /// The node's moderation-queue actor, told of every queue entry committed
  /// (null in unit tests without one).
  moderation_hdl moderation;
  /// Outbox entries committed and not yet taken by the sender. A user actor
  /// adds to it and wakes the sender (outbox_added) only when the sender
  /// waits for work: under load one wake-up carries many writes' entries,
  /// and a sender with every send slot taken (a slow receiver) is not woken
  /// at all — it takes the inbox when a send finishes or at its next tick.
  struct outbox_inbox {
    std::mutex mutex;
    std::vector<outbox_ref> refs;
    bool waiting = true;
    /// Adds; true when the sender waits and must be woken (once).
    bool add(std::vector<outbox_ref>& more) {
      std::lock_guard<std::mutex> lock(mutex);
      refs.insert(refs.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
      return std::exchange(waiting, false);
    }
    std::vector<outbox_ref> take() {
      std::lock_guard<std::mutex> lock(mutex);
      return std::move(refs);
    }
    /// The sender, done for now: it waits to be woken if it has a free send
    /// slot (`can_send`). True when entries came in since it last took them
    /// and it can send them: it goes on rather than waiting.
    bool wait(bool can_send) {
      std::lock_guard<std::mutex> lock(mutex);
      if (can_send && !refs.empty()) return true;
      waiting = can_send;
      return false;
    }
    } outbox_new;

  actor_counters counters;

  /// Hands committed outbox entries to the node's notification sender
  /// (through outbox_new; a message only when it waits for work).
  void announce_outbox(std::vector<outbox_ref> refs);
};

} // namespace roster
