#pragma once
// Everything that crosses an actor mailbox, as plain structs and enums with no
// CAF dependency, so http/ and cluster/ can name them. actors/protocol.h adds
// the CAF inspect() functions and the type-ID block.
//
// Requests carry their arguments as a JSON text (`args`) and replies carry a
// JSON body: the operations are many and change often, while the envelope
// stays fixed, which keeps the remote protocol (issue 3) one stable shape.
#include <cstdint>
#include <string>
#include <vector>

#include "base/errc.h"

namespace roster {

/// Operations of the user actor (actors/user/user_actor.cc).
/// "token" ops authenticate `token_hash` first; "admin" ops trust the caller.
enum class user_op : uint8_t {
  create = 1,          // admin: args {record, session?} → {user, session}
  authenticate,        // token: → own view + {session_id, authenticated_at}
  login_begin,         // admin: reserves a password check → {password_hash, reservation}; 429 when throttled
  login_failed,        // admin: args {method, reservation}: the check failed; records the failure
  login_finish,        // admin: args {method, password_hash?, reservation?} → {user, session}
  list_sessions,       // token
  get_session,         // token: args {id}
  extend_session,      // token
  revoke_session,      // token: args {id | "current"}
  revoke_all_sessions, // token
  update_profile,      // token: args {patch}
  get_credentials,     // token: → {password_hash, sudo_fresh}
  set_password,        // token: args {password_hash, expected_hash, reservation?} (revokes other sessions)
  delete_account,      // token: → {index_keys}
  get_logs,            // token: args {limit, cursor}
  get_public,          // anyone: → public view
  admin_get,           // admin
  admin_update,        // admin: args {patch}
  admin_set_status,    // admin: args {status}
  admin_revoke_sessions,
  admin_delete,        // admin: → {index_keys}
  holds_key,           // internal: args {key} → {holds}
  debug_info,          // internal: → live actor state
};

struct user_request {
  uint8_t op = 0;
  std::string user_id;     // 16 raw bytes
  std::string token_hash;  // SHA-256 of the bearer token, for token ops
  std::string args;        // JSON text
  std::string ip;
  std::string user_agent;
  std::string credential;  // actor_env::credential: proof that a member sent it
};

/// code == errc::ok: body is the JSON result. Otherwise body is
/// {"message": ..., "fields"?: {...}} and retry_after may be set.
struct reply {
  uint16_t code = 0;
  std::string body;
  int64_t retry_after = 0;

  bool ok() const { return code == static_cast<uint16_t>(errc::ok); }
  errc error_code() const { return static_cast<errc>(code); }
};

reply ok_reply(std::string body);
/// The reply of a partition that this node no longer (or not yet) serves:
/// 503 partition_unavailable with Retry-After, and nothing was done, so the
/// router may safely send the request again once its table has moved on.
reply moving_reply();
/// The reply for a partition whose owner is down or unreachable: 503
/// partition_unavailable with Retry-After (the request may not be retried
/// automatically: it may or may not have run).
reply unavailable_reply();
bool is_moving(const reply& r);
/// The answer to a message without the cluster credential (actor_env::accept).
reply refused_reply();
reply error_reply(const error& e);
reply error_reply(errc code, std::string message);
/// Rebuilds the error carried by a non-ok reply.
error error_of(const reply& r);

/// Operations of the index actor (actors/index/index_actor.cc).
enum class index_op : uint8_t {
  claim = 1,  // pending claim of `key` for `user_id`; already_exists if held
  confirm,    // the user was written: the claim becomes permanent
  release,    // drop the entry if `user_id` holds it
  lookup,     // → body: user id (uuid text); not_found if free
};

struct index_request {
  uint8_t op = 0;
  std::string key;      // "<kind>:<normalised value>"
  std::string user_id;  // uuid text
  std::string credential;
};

/// Partition-wide scans, answered by the partition host from the store.
enum class scan_op : uint8_t {
  admin_search = 1,  // args {q} → items: admin views of matching users
  stats,             // args {since_registered, since_active, online_since} → one item of counters
};

struct scan_request {
  uint8_t op = 0;
  std::string args;
  std::string credential;
};

struct scan_reply {
  std::vector<std::string> items;  // JSON texts
};

} // namespace roster
