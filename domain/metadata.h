#pragma once
// Per-key user metadata with visibility (SPEC §4): the one visibility rule
// (may_see) and the rules that set, remove and show keys. Pure functions on
// a user_record: no CAF, no store, no clock.
//
// Where the keys live (docs/storage.md, "Metadata"): in the user record, in
// three fields, so that a record written before visibility existed already
// is one of this format (its flat `metadata` object is the public keys):
//   user_record::metadata           public keys, key → JSON value (as before)
//   user_record::hidden_metadata    friends / private keys, key → {value, visibility}
//   user_record::internal_metadata  admin-only keys, key → JSON value; a
//                                   separate name space: the user can neither
//                                   see, set nor remove them, nor learn that
//                                   they exist (a user key may share a name)
// A user key is in exactly one of the first two.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/errc.h"
#include "domain/validation.h"

namespace roster {

struct user_record;
using json = nlohmann::json;

/// Who may read a key. `internal` keys are set by admins only.
enum class visibility : uint8_t { public_, friends, private_, internal };
std::string_view visibility_name(visibility v);
/// The visibility of an API name; nullopt for anything else.
std::optional<visibility> visibility_from_name(std::string_view name);

/// What the caller is to the owner of the metadata. `friend_` is not
/// produced yet: the user actor's relation_of says self / other / admin
/// until the social graph (friend edges) lands.
enum class relation : uint8_t { self, friend_, other, admin };

/// THE visibility rule: public → everyone; friends → the owner, friends,
/// admins; private → the owner and admins; internal → admins only.
bool may_see(visibility v, relation r);

/// A metadata key: [a-z0-9_.-]{1,64}; empty if fine, else the problem.
std::string check_metadata_key(std::string_view key);
/// A value: any JSON of at most l.metadata_value_max bytes as compact text.
std::string check_metadata_value(const json& value, const limits& l = {});

/// One key as the API shows it to its owner or an admin: {key, value, visibility}.
struct metadata_entry {
  json value;
  visibility vis = visibility::public_;
};

/// The user key `key` (any visibility but internal), or nullopt.
std::optional<metadata_entry> user_metadata_get(const user_record& u, const std::string& key);
/// Sets a user key (REQUIRES: key and value checked; vis is not internal).
/// invalid_request (field "key") if it is a new key beyond
/// l.metadata_keys_max; `u` unchanged then.
status user_metadata_put(user_record& u, const std::string& key, json value, visibility vis, const limits& l = {});
/// Removes a user key; false if there was none.
bool user_metadata_remove(user_record& u, const std::string& key);
/// Number of user keys (the per-user limit counts these; internal keys have their own).
size_t user_metadata_count(const user_record& u);

/// Sets or removes an internal key (admin). Put: invalid_request beyond
/// l.metadata_keys_max internal keys.
status internal_metadata_put(user_record& u, const std::string& key, json value, const limits& l = {});
bool internal_metadata_remove(user_record& u, const std::string& key);

/// The user keys a caller of relation `r` may see, flat (key → value), only
/// those in `keys` when given. Never internal keys (they are not user keys).
json visible_metadata(const user_record& u, relation r, const std::vector<std::string>* keys = nullptr);
/// Every user key with its visibility, sorted by key: [{key, value, visibility}]
/// (the owner's GET /v1/account/metadata).
json user_metadata_items(const user_record& u);
/// {key, value, visibility} for one entry.
json metadata_entry_json(const std::string& key, const metadata_entry& e);

} // namespace roster
