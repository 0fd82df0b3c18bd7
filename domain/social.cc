#include "domain/social.h"

#include <nlohmann/json.hpp>

namespace roster::social {

using json = nlohmann::json;

std::optional<op> op_from(uint8_t v) {
  if (v >= 1 && v <= 4) return static_cast<op>(v);
  return std::nullopt;
}

namespace {

friendship invited_by(bool lo) { return lo ? friendship::lo_invited : friendship::hi_invited; }
bool& block_of(pair_state& p, bool lo) { return lo ? p.lo_blocks : p.hi_blocks; }
bool block_of(const pair_state& p, bool lo) { return lo ? p.lo_blocks : p.hi_blocks; }

} // namespace

std::string_view state_for(const pair_state& p, bool me_is_lo) {
  if (block_of(p, me_is_lo)) return "blocked";
  if (p.f == friendship::friends) return "friend";
  if (p.f == invited_by(me_is_lo)) return "invite_sent";
  if (p.f == invited_by(!me_is_lo)) return "invite_received";
  return "";
}

bool counts_for(const pair_state& p, bool me_is_lo) {
  return p.f == friendship::friends || p.f == invited_by(me_is_lo);
}

bool blocks(const pair_state& p, bool me_is_lo) { return block_of(p, me_is_lo); }
bool blocked_by(const pair_state& p, bool me_is_lo) { return block_of(p, !me_is_lo); }

result<pair_state> decide(const pair_state& cur, bool initiator_is_lo, op o, size_t initiator_count,
                          size_t max_friends, millis now) {
  pair_state next = cur;
  bool me = initiator_is_lo;
  switch (o) {
    case op::invite:
      if (cur.lo_blocks || cur.hi_blocks)
        return make_error(errc::forbidden, block_of(cur, me) ? "you block this user: unblock them first"
                                                              : "this user does not accept your requests");
      if (cur.f == friendship::friends || cur.f == invited_by(me)) return cur;
      if (initiator_count >= max_friends)
        return make_error(errc::limit_reached,
                          "at the limit of " + std::to_string(max_friends) + " friends and sent invites");
      next.f = cur.f == invited_by(!me) ? friendship::friends : invited_by(me);
      break;
    case op::remove:
      next.f = friendship::none;
      break;
    case op::block:
      next.f = friendship::none;
      block_of(next, me) = true;
      break;
    case op::unblock:
      block_of(next, me) = false;
      break;
  }
  if (next == cur) return cur;
  next.version = cur.version + 1;
  next.updated_at = now;
  return next;
}

namespace {

json pair_json(const pair_state& p) {
  return json{{"v", p.version}, {"f", static_cast<int>(p.f)}, {"lb", p.lo_blocks}, {"hb", p.hi_blocks},
              {"at", p.updated_at}};
}

std::optional<pair_state> pair_from(const json& j) {
  if (!j.is_object()) return std::nullopt;
  pair_state p;
  auto f = j.value("f", -1);
  if (f < 0 || f > 3) return std::nullopt;
  p.version = j.value("v", uint64_t{0});
  p.f = static_cast<friendship>(f);
  p.lo_blocks = j.value("lb", false);
  p.hi_blocks = j.value("hb", false);
  p.updated_at = j.value("at", millis{0});
  return p;
}

template <class F>
auto parse_or_none(std::string_view text, F&& fn) -> decltype(fn(json{})) {
  try {
    auto j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return fn(j);
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

} // namespace

std::string encode_half(const half& h) {
  json j = pair_json(h.pair);
  j["peer"] = {{"username", h.peer.username}, {"display_name", h.peer.display_name}, {"avatar_url", h.peer.avatar_url}};
  return j.dump();
}

std::optional<half> decode_half(std::string_view text) {
  return parse_or_none(text, [](const json& j) -> std::optional<half> {
    auto p = pair_from(j);
    if (!p) return std::nullopt;
    half h{*p, {}};
    if (auto peer = j.find("peer"); peer != j.end() && peer->is_object()) {
      h.peer.username = peer->value("username", "");
      h.peer.display_name = peer->value("display_name", "");
      h.peer.avatar_url = peer->value("avatar_url", "");
    }
    return h;
  });
}

std::string encode_intent(const intent& i) {
  json j = pair_json(i.pair);
  j["gone"] = i.gone;
  return j.dump();
}

std::optional<intent> decode_intent(std::string_view text) {
  return parse_or_none(text, [](const json& j) -> std::optional<intent> {
    auto p = pair_from(j);
    if (!p) return std::nullopt;
    return intent{*p, j.value("gone", false)};
  });
}

} // namespace roster::social
