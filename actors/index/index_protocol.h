#pragma once
// The index actor's protocol (SPEC §1 claim / write / confirm):
//
//   index_request{version, credential, op}
//     op: claim_key | confirm_key | release_key | lookup_key | send_code | use_code | jwt_keyset
//   → index_reply{user_id (uuid text) for lookup_key, empty otherwise}
//     or a caf::error of errc: already_exists (the key is held), not_found
//     (lookup of a free key), partition_moving, partition_unavailable.
//
// The key ("<kind>:<normalised value>") picks the index partition.
#include <string>
#include <variant>

#include "actors/wire.h"

namespace roster {

/// A pending claim of `key` for `user_id` (expires after claim_ttl unless confirmed).
struct claim_key {
  std::string key;
  std::string user_id;  // uuid text
};
/// The user was written: `user_id`'s claim becomes permanent.
struct confirm_key {
  std::string key;
  std::string user_id;
};
/// Drops the entry if `user_id` holds it.
struct release_key {
  std::string key;
  std::string user_id;
};
/// Who holds `key`.
struct lookup_key {
  std::string key;
};

/// Issues a one-time code (or, with `link`, a link token) for identity `key`
/// and `purpose` (domain/codes.h code_purpose), replacing any before, and —
/// with `to` set — writes the message that carries it (template `kind`, to
/// the address `to`) into the outbox in the same write: a code is stored
/// before the caller answers 202. `user_id` and `detail` are kept with it and
/// handed back by use_code. 429 rate_limited when the identity's sends are
/// used up. A link token's record is found by the token alone: its key is
/// "link:<hex SHA-256 of the token>", so the token is issued by the caller
/// (the index partition depends on it) and arrives here in `token`.
struct send_code {
  std::string key;
  uint8_t purpose = 0;
  std::string to;
  std::string kind;
  std::string user_id;
  std::string detail;
  std::string token;  // a link token (its key is derived from it); empty: a 6-digit code is drawn here
  std::string link_query;  // appended to the link ("&redirect_url=..."), already encoded
  std::string notify_to;    // another address told in the same write (template notify_kind), e.g. the old email
  std::string notify_kind;
};
/// Checks and uses up a code: index_reply{user_id, detail} of the send, or
/// 401 invalid_credentials (wrong, expired, used, or attempts spent).
struct use_code {
  std::string key;
  uint8_t purpose = 0;
  std::string code;
};
/// The cluster's JWT signing key set (domain/jwt.h), kept by the index
/// partition of `key` ("jwt:keys"): read, created by the first node that
/// asks, and rotated when due (jwt::maintain, with the asking node's
/// `ttl`; `rotate` forces a rotation) in the same actor turn, so every node
/// gets the same set. index_reply{detail: jwt::encode_key_set}. Private
/// seeds included: members only (the member credential), never a client.
struct jwt_keyset {
  std::string key;
  int64_t ttl = 0;  // ms
  bool rotate = false;
};
using index_op = std::variant<claim_key, confirm_key, release_key, lookup_key, send_code, use_code, jwt_keyset>;

/// The index key of the cluster's JWT key set.
inline constexpr const char* jwt_keyset_key = "jwt:keys";

/// The key an index operation is about (it picks the partition).
inline const std::string& key_of(const index_op& op) {
  return std::visit([](auto& o) -> const std::string& { return o.key; }, op);
}

struct index_request {
  uint8_t version = protocol_version;
  std::string credential;
  index_op op;
};

struct index_reply {
  std::string user_id;  // uuid text: the holder, for lookup_key; the code's user, for use_code
  std::string detail;   // use_code: what the code was sent with
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, claim_key& x) {
  return f(caf::meta::type_name("claim_key"), x.key, x.user_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, confirm_key& x) {
  return f(caf::meta::type_name("confirm_key"), x.key, x.user_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, release_key& x) {
  return f(caf::meta::type_name("release_key"), x.key, x.user_id);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lookup_key& x) {
  return f(caf::meta::type_name("lookup_key"), x.key);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, send_code& x) {
  return f(caf::meta::type_name("send_code"), x.key, x.purpose, x.to, x.kind, x.user_id, x.detail, x.token,
           x.link_query, x.notify_to, x.notify_kind);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, use_code& x) {
  return f(caf::meta::type_name("use_code"), x.key, x.purpose, x.code);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, jwt_keyset& x) {
  return f(caf::meta::type_name("jwt_keyset"), x.key, x.ttl, x.rotate);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, index_request& x) {
  return f(caf::meta::type_name("index_request"), x.version, x.credential, x.op);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, index_reply& x) {
  return f(caf::meta::type_name("index_reply"), x.user_id, x.detail);
}

} // namespace roster

CAF_BEGIN_TYPE_ID_BLOCK(roster_index, 400)
  CAF_ADD_TYPE_ID(roster_index, (roster::index_request))
  CAF_ADD_TYPE_ID(roster_index, (roster::index_reply))
CAF_END_TYPE_ID_BLOCK(roster_index)
