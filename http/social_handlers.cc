// Friends and blocks (docs/api.md "Friends and blocks"; the rule:
// domain/social.h; who decides and how both halves agree:
// actors/user/user_actor.cc, docs/architecture.md "The social graph").
#include "domain/social.h"
#include "http/errors.h"
#include "http/routes.h"

namespace roster::http::handlers {

namespace {

/// The {user_id} of the path: a UUID other than the caller's own, else the
/// answer is written (404 for what names no user, 400 for oneself).
std::optional<std::string> other_user(context& c, const bearer& who) {
  auto other = c.uuid_param("user_id");
  if (!other) {
    write_error(c.res, errc::not_found, "user not found");
    return std::nullopt;
  }
  if (*other == who.uid16) {
    error e = make_error(errc::invalid_request, "a user cannot befriend or block themselves");
    e.fields["user_id"] = "is your own id";
    write_error(c.res, e);
    return std::nullopt;
  }
  return other;
}

void change(context& c, social::op o, int ok_status) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto other = other_user(c, *who);
  if (!other) return;
  write_view(c.res, c.svc.route.call_user(who->uid16, social_change{*other, static_cast<uint8_t>(o)}, who->token_hash, c.client),
             ok_status);
}

void list(context& c, bool blocks) {
  auto who = c.auth();
  if (!take(c, who)) return;
  auto limit = c.limit();
  if (!take(c, limit)) return;
  auto cursor = c.cursor();
  if (!take(c, cursor)) return;
  std::string state = c.query("state").value_or("");
  if (!blocks && !state.empty() && state != "friend" && state != "invite_sent" && state != "invite_received" &&
      state != "blocked") {
    error e = make_error(errc::invalid_request, "invalid query");
    e.fields["state"] = "must be friend, invite_sent, invite_received or blocked";
    return write_error(c.res, e);
  }
  write_view(c.res, c.svc.route.call_user(who->uid16, list_social{state, blocks, static_cast<uint32_t>(*limit), *cursor},
                                          who->token_hash, c.client));
}

} // namespace

void list_friends(context& c) { list(c, false); }
void add_friend(context& c) { change(c, social::op::invite, 200); }
void remove_friend(context& c) { change(c, social::op::remove, 204); }
void list_blocks(context& c) { list(c, true); }
void add_block(context& c) { change(c, social::op::block, 200); }
void remove_block(context& c) { change(c, social::op::unblock, 204); }

} // namespace roster::http::handlers
