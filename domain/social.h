#pragma once
// The social graph's rule (issue 12 item 3, SPEC §4), pure: the state of a
// pair of users and how an operation changes it.
//
// A pair {lo, hi} (lo < hi by raw user id) has ONE state, decided by ONE
// side: the pair's owner, lo. Both users keep a copy (their "half") in their
// own partitions, each stamped with the owner's version; a copy only ever
// moves to a higher version. So two users acting on each other at the same
// moment never decide twice: the owner's actor orders the operations, and
// the other half converges to its latest decision (actors/user/user_actor.cc,
// docs/architecture.md "The social graph").
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/errc.h"

namespace roster::social {

enum class friendship : uint8_t { none = 0, lo_invited = 1, hi_invited = 2, friends = 3 };

/// What one user sees of another in the public profile fields the list
/// shows (as of the pair's last change).
struct peer_summary {
  std::string username, display_name, avatar_url;
};

struct pair_state {
  uint64_t version = 0;  // the owner's count of decisions; 0: never decided
  friendship f = friendship::none;
  bool lo_blocks = false, hi_blocks = false;
  millis updated_at = 0;
  /// No friendship and no block: the halves are deleted.
  bool empty() const { return f == friendship::none && !lo_blocks && !hi_blocks; }
  bool operator==(const pair_state&) const = default;
};

enum class op : uint8_t { invite = 1, remove = 2, block = 3, unblock = 4 };
std::optional<op> op_from(uint8_t v);

/// The state as user `me` (lo when `me_is_lo`) sees it: "friend",
/// "invite_sent", "invite_received", "blocked" (me blocks the other), or ""
/// (nothing to show: no relation, or only the other blocks me).
std::string_view state_for(const pair_state& p, bool me_is_lo);

/// Whether the pair counts against `me`'s social.max_friends: friends and
/// invites `me` sent (invites received do not, or anyone could fill a
/// player's list).
bool counts_for(const pair_state& p, bool me_is_lo);

/// Whether `me` blocks the other (for GET /v1/blocks).
bool blocks(const pair_state& p, bool me_is_lo);
/// Whether the other blocks `me` (relations, never shown to `me`).
bool blocked_by(const pair_state& p, bool me_is_lo);

/// The owner's decision on `o` by the initiator (lo when `initiator_is_lo`),
/// who counts `initiator_count` pairs against `max_friends`:
///  - invite: 403 forbidden when either side blocks the other; accepts a
///    pending invite from the other side; 409 limit_reached when the
///    initiator is at its limit and the invite would add one; a repeated
///    invite, or one to a friend, changes nothing;
///  - remove: ends a friendship, declines or cancels an invite;
///  - block: ends any friendship or invite and blocks;
///  - unblock: lifts the initiator's block.
/// The result has version + 1 and updated_at = now when it changed, and is
/// `cur` unchanged otherwise.
result<pair_state> decide(const pair_state& cur, bool initiator_is_lo, op o, size_t initiator_count,
                          size_t max_friends, millis now);

/// The half stored by a user (keys::edge): the pair and what the user last
/// saw of the other.
struct half {
  pair_state pair;
  peer_summary peer;
};
std::string encode_half(const half& h);
std::optional<half> decode_half(std::string_view text);

/// A durable intent (keys::intent): the owner's latest decision to deliver
/// to the other user, or (`gone`) the news that this user was deleted.
struct intent {
  pair_state pair;
  bool gone = false;
};
std::string encode_intent(const intent& i);
std::optional<intent> decode_intent(std::string_view text);

} // namespace roster::social
