#pragma once
// The partition host's own protocol, beside the user_request envelopes it
// routes to user actors: partition-wide scans answered from the store.
//
//   scan_request{version, credential, op}
//     op: search_users{q} → scan_reply{items: admin views (JSON)}
//         count_users{since_registered, since_active}
//           → scan_reply{counts}
//         list_outbox{dead, after, limit} → scan_reply{items: outbox admin views, oldest first}
//         retry_outbox{id16} → scan_reply{items: the entry, now pending and due} from
//           the partition the id names; nothing from the others
//         moderation_queue{status, limit} → answered by the node's moderation-queue
//           actor (the gateway asks it, not the hosts): scan_reply{items: "<sort key>\n<queue
//           item JSON>" (domain/moderation.h sort_key), in queue order, at most `limit`;
//           matched: how many entries match}
//         search_usernames{prefix, after, limit} → scan_reply{items: ["tag","user_id"]
//           JSON arrays, the partition's first `limit` confirmed username tags
//           starting with `prefix` and after `after`, sorted}
// A partition not served by the node answers an empty scan_reply: the node
// that serves it counts it.
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "actors/wire.h"
#include "base/clock.h"

namespace roster {

/// Admin search: users whose email, username, display name or id contains
/// `q` (lowercased).
struct search_users {
  std::string q;
};
/// Counters for /v1/admin/stats; times are unix milliseconds.
struct count_users {
  millis since_registered = 0;
  millis since_active = 0;
};

/// The outbox entries of a partition in one state (pending, or dead
/// letters), oldest first, after the id `after` (16 bytes; empty: from the
/// start), at most `limit`.
struct list_outbox {
  bool dead = false;
  std::string after;
  uint32_t limit = 50;
};
/// Makes an outbox entry pending and due now, its attempts counted afresh (an
/// operator's retry of a dead letter).
struct retry_outbox {
  std::string id16;
};

/// Player search (GET /v1/users/search): the confirmed `username:<tag>`
/// index entries of a partition whose tag starts with `prefix` (folded) and
/// sorts after `after` (empty: from the start), at most `limit`, sorted.
struct search_usernames {
  std::string prefix;
  std::string after;
  uint32_t limit = 51;
};

/// The moderation queue of the partitions a node serves (GET
/// /v1/admin/moderation/queue): entries in `status` ("pending" or
/// "resolved"), the first `limit` in queue order (domain/moderation.h before).
struct moderation_queue {
  std::string status = "pending";
  uint32_t limit = 50;
};

using scan_op = std::variant<search_users, count_users, list_outbox, retry_outbox, search_usernames, moderation_queue>;

struct scan_request {
  uint8_t version = protocol_version;
  std::string credential;
  scan_op op;
};

struct user_counts {
  int64_t users = 0, online = 0, registered = 0, active = 0, with_password = 0, unactivated = 0;
  /// Users per login method they registered or signed in with (login_methods_of).
  std::map<std::string, int64_t> by_provider;

  user_counts& operator+=(const user_counts& o) {
    users += o.users;
    online += o.online;
    registered += o.registered;
    active += o.active;
    with_password += o.with_password;
    unactivated += o.unactivated;
    for (auto& [k, v] : o.by_provider) by_provider[k] += v;
    return *this;
  }
};

struct scan_reply {
  std::vector<std::string> items;  // search_users: admin views (JSON text)
  user_counts counts;              // count_users
  uint64_t matched = 0;            // moderation_queue: entries of the status asked for
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, search_users& x) {
  return f(caf::meta::type_name("search_users"), x.q);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, count_users& x) {
  return f(caf::meta::type_name("count_users"), x.since_registered, x.since_active);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_outbox& x) {
  return f(caf::meta::type_name("list_outbox"), x.dead, x.after, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, retry_outbox& x) {
  return f(caf::meta::type_name("retry_outbox"), x.id16);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, search_usernames& x) {
  return f(caf::meta::type_name("search_usernames"), x.prefix, x.after, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, moderation_queue& x) {
  return f(caf::meta::type_name("moderation_queue"), x.status, x.limit);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scan_request& x) {
  return f(caf::meta::type_name("scan_request"), x.version, x.credential, x.op);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, user_counts& x) {
  return f(caf::meta::type_name("user_counts"), x.users, x.online, x.registered, x.active, x.with_password,
           x.unactivated, x.by_provider);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, scan_reply& x) {
  return f(caf::meta::type_name("scan_reply"), x.items, x.counts, x.matched);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_partition, 350)
  CAF_ADD_TYPE_ID(roster_partition, (roster::scan_request))
  CAF_ADD_TYPE_ID(roster_partition, (roster::scan_reply))
CAF_END_TYPE_ID_BLOCK(roster_partition)
