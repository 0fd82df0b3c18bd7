#pragma once
// The key schema (docs/storage.md). Every partitioned key is
//   [partition: u16 big-endian][space: 1 byte][...]
//   user record   P 'u' uid16 'r'
//   session       P 'u' uid16 's' sid16
//   security log  P 'u' uid16 'l' at_ms:u64be seq:u32be
//   notification  P 'u' uid16 'n' inv_seq:u64be   (newest first)
//   recent event  P 'u' uid16 'e' seq:u64be       (for streams' Last-Event-ID)
//   social half   P 'u' uid16 'f' other16         (domain/social.h)
//   intent        P 'x' uid16 other16             (a pair change to deliver to other16)
//   report intent P 'x' uid16 other16 'r' id16    (a report to deliver to other16)
//   report        P 'u' uid16 'q' id16            (a report about the user; id16: at_ms:u64be random:8)
//   report made   P 'u' uid16 'R' other16         (the user's last report about other16)
//   queue entry   P 'm' uid16                     (the user's moderation queue entry, domain/moderation.h)
//   index entry   P 'i' "<kind>:<normalised value>"
//   outbox entry  P 'o' id16   (id16: at_ms:u64be partition:u16be random:6)
//   code record   P 'c' purpose:u8 "<identity key>"   (one-time codes, domain/codes.h)
// Node-level metadata lives under the reserved prefix 0xFF 0xFF (partition
// numbers stop at 4096, so it never collides).
#include <cstdint>
#include <string>
#include <string_view>

namespace roster::keys {

inline void append_u16(std::string& s, uint16_t v) {
  s.push_back(static_cast<char>(v >> 8));
  s.push_back(static_cast<char>(v & 0xff));
}
inline void append_u64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
inline void append_u32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

/// The big-endian number in `bytes` (at most 8 of them).
inline uint64_t read_u64(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes.substr(0, 8)) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

inline std::string partition_prefix(uint16_t p) {
  std::string k;
  append_u16(k, p);
  return k;
}
inline uint16_t partition_of_key(std::string_view key) {
  return static_cast<uint16_t>((static_cast<unsigned char>(key[0]) << 8) | static_cast<unsigned char>(key[1]));
}

/// All keys of one user: P 'u' uid16.
inline std::string user_prefix(uint16_t p, std::string_view uid16) {
  std::string k = partition_prefix(p);
  k.push_back('u');
  k.append(uid16);
  return k;
}
/// All users of a partition: P 'u'.
inline std::string users_of_partition(uint16_t p) {
  std::string k = partition_prefix(p);
  k.push_back('u');
  return k;
}
inline std::string user_record(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'r'; }
inline std::string session(uint16_t p, std::string_view uid16, std::string_view sid16) {
  return user_prefix(p, uid16) + 's' + std::string(sid16);
}
inline std::string sessions_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 's'; }
/// The user's free-form preferences (JSON text), apart from the record: read only by GET /v1/account/prefs.
inline std::string prefs(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'p'; }
inline std::string log_entry(uint16_t p, std::string_view uid16, uint64_t at, uint32_t seq) {
  std::string k = user_prefix(p, uid16) + 'l';
  append_u64(k, at);
  append_u32(k, seq);
  return k;
}
inline std::string logs_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'l'; }
inline std::string notification(uint16_t p, std::string_view uid16, uint64_t seq) {
  std::string k = user_prefix(p, uid16) + 'n';
  append_u64(k, ~seq);
  return k;
}
inline std::string notifications_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'n'; }
inline std::string recent_event(uint16_t p, std::string_view uid16, uint64_t seq) {
  std::string k = user_prefix(p, uid16) + 'e';
  append_u64(k, seq);
  return k;
}
inline std::string recent_events_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'e'; }
/// The user's half of its pair with `other16` (domain/social.h).
inline std::string edge(uint16_t p, std::string_view uid16, std::string_view other16) {
  return user_prefix(p, uid16) + 'f' + std::string(other16);
}
inline std::string edges_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'f'; }
/// A pair change the user's actor still has to deliver to `other16`. Beside
/// the users, not under one: it outlives a deleted user (whose edges must
/// still be removed on the other side), and the partition host finds a
/// partition's pending intents with one scan when it takes the partition.
inline std::string intent(uint16_t p, std::string_view uid16, std::string_view other16) {
  std::string k = partition_prefix(p);
  k.push_back('x');
  k.append(uid16);
  k.append(other16);
  return k;
}
inline std::string intents_of_user(uint16_t p, std::string_view uid16) {
  std::string k = partition_prefix(p);
  k.push_back('x');
  k.append(uid16);
  return k;
}
/// A report `uid16` made about `other16` (report id `id16`), still to deliver.
inline std::string report_intent(uint16_t p, std::string_view uid16, std::string_view other16, std::string_view id16) {
  return intent(p, uid16, other16) + 'r' + std::string(id16);
}
/// A report about the user (domain/moderation.h report), oldest first.
inline std::string report(uint16_t p, std::string_view uid16, std::string_view id16) {
  return user_prefix(p, uid16) + 'q' + std::string(id16);
}
inline std::string reports_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'q'; }
/// The user's last report about `other16` (domain/moderation.h report_made).
inline std::string report_made(uint16_t p, std::string_view uid16, std::string_view other16) {
  return user_prefix(p, uid16) + 'R' + std::string(other16);
}
inline std::string reports_made_prefix(uint16_t p, std::string_view uid16) { return user_prefix(p, uid16) + 'R'; }
/// The user's moderation queue entry. Beside the users, not under one: the
/// node's moderation-queue actor reads a partition's entries with one scan
/// (not a scan of every user) when its node starts to serve the partition.
inline std::string queue_entry(uint16_t p, std::string_view uid16) {
  std::string k = partition_prefix(p);
  k.push_back('m');
  k.append(uid16);
  return k;
}
inline std::string queue_of_partition(uint16_t p) {
  std::string k = partition_prefix(p);
  k.push_back('m');
  return k;
}
inline std::string intents_of_partition(uint16_t p) {
  std::string k = partition_prefix(p);
  k.push_back('x');
  return k;
}
inline std::string index_entry(uint16_t p, std::string_view key) {
  std::string k = partition_prefix(p);
  k.push_back('i');
  k.append(key);
  return k;
}

/// A message the notification sender has to send: P 'o' id16. Beside the
/// users, not under one: a deleted user's last events are still sent, and a
/// sender reads a partition's outbox with one scan, oldest first.
inline std::string outbox_entry(uint16_t p, std::string_view id16) {
  std::string k = partition_prefix(p);
  k.push_back('o');
  k.append(id16);
  return k;
}
inline std::string outbox_of_partition(uint16_t p) {
  std::string k = partition_prefix(p);
  k.push_back('o');
  return k;
}

/// A one-time code's record: in the index partition of the identity it was
/// sent to (the index actor of that partition is its only writer).
inline std::string code_entry(uint16_t p, uint8_t purpose, std::string_view key) {
  std::string k = partition_prefix(p);
  k.push_back('c');
  k.push_back(static_cast<char>(purpose));
  k.append(key);
  return k;
}

inline std::string meta(std::string_view name) { return std::string("\xff\xff", 2) + std::string(name); }

} // namespace roster::keys
