#pragma once
// The storage codec of the user aggregate: how a user_record and a
// session_record are written to the store and read back (also the form a
// handoff ships). JSON text, one object per record; the field names and their
// encodings are the on-disk format (docs/storage.md): existing data dirs must
// keep opening, so change them only with a migration.
//
// Secrets (password_hash, token_hash) are stored here and never leave through
// a view (domain/user_views.h). Pure functions, thread-safe, never throw.
#include <optional>
#include <string>
#include <string_view>

#include "domain/user.h"

namespace roster {

/// The stored form of a user. Invalid UTF-8 in a text field is replaced by
/// U+FFFD rather than failing the write.
std::string encode_user(const user_record& u);
/// nullopt if `bytes` is not a JSON object, a field has the wrong type, or a
/// time is not an integer. Absent fields keep their defaults.
std::optional<user_record> decode_user(std::string_view bytes);

/// The stored form of a session; its token hash is stored as lowercase hex.
std::string encode_session(const session_record& s);
std::optional<session_record> decode_session(std::string_view bytes);

} // namespace roster
