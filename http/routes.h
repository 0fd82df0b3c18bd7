#pragma once
// The route table: the whole HTTP surface in one function (build_routes),
// matched segment by segment ("{id}" binds a parameter). Unknown paths give
// 404 not_found, known paths with another method 405 method_not_allowed.
#include <string>
#include <vector>

#include "http/context.h"

namespace roster::http {

struct route {
  std::string method;
  std::string pattern;  // "/v1/users/{id}"
  handler fn;
  /// The route takes no body: a body sent anyway must be empty or `{}`
  /// (else 400 invalid_json / invalid_request naming each field), checked
  /// before the handler runs, so a client's mistake is never silently ignored.
  bool bodiless = false;
  std::vector<std::string> segments = {};  // the pattern split at '/', filled by build_routes
};

/// For build_routes: `{"POST", "/v1/friends/{user_id}", add_friend, no_body}`.
inline constexpr bool no_body = true;

std::vector<route> build_routes();

/// Result of matching a request against the table.
struct match_result {
  const route* found = nullptr;       // nullptr: see `path_known`
  bool path_known = false;            // some route has this path (→ 405)
  std::vector<std::string> allowed;   // methods for the Allow header
  std::map<std::string, std::string> params;
};

match_result match(const std::vector<route>& routes, const std::string& method, const std::string& path);

// Handlers, by file.
namespace handlers {
void register_account(context&);
void login_password(context&);
void login_device(context&);
void login_anonymous(context&);
void send_email_code(context&);
void login_email_code(context&);
void send_magic_link(context&);
void login_magic_link(context&);
void send_verification(context&);
void send_phone_code(context&);
void login_provider(context&);
void login_custom(context&);
void list_identities(context&);
void link_identity(context&);
void unlink_identity(context&);
void get_prefs(context&);
void put_prefs(context&);
void login_phone_code(context&);
void send_phone_verification(context&);
void confirm_phone_verification(context&);
void confirm_verification(context&);
void request_email_change(context&);
void confirm_email_change(context&);
void send_recovery(context&);
void confirm_recovery(context&);
void get_account(context&);
void patch_account(context&);
void change_password(context&);
void delete_account(context&);
void list_sessions(context&);
void get_session(context&);
void extend_session(context&);
void delete_current_session(context&);
void delete_session(context&);
void delete_all_sessions(context&);
void mint_jwt(context&);
// Friends and blocks (social_handlers.cc)
void list_friends(context&);
void add_friend(context&);
void remove_friend(context&);
void list_blocks(context&);
void add_block(context&);
void remove_block(context&);
// Reports and moderation (moderation_handlers.cc)
void file_report(context&);
void admin_moderation_queue(context&);
void admin_moderation_resolve(context&);
void admin_relations(context&);
void jwks(context&);
void admin_jwt_rotate(context&);
void account_logs(context&);
void get_user(context&);
void get_users(context&);
void username_available(context&);
void search_players(context&);
// metadata (http/metadata_handlers.cc)
void list_own_metadata(context&);
void get_own_metadata_key(context&);
void put_own_metadata(context&);
void delete_own_metadata(context&);
void get_user_metadata(context&);
void get_metadata(context&);
void admin_put_metadata(context&);
void admin_delete_metadata(context&);

void admin_search(context&);
void admin_stats(context&);
void admin_notifications(context&);
void list_notifications(context&);
void read_notifications(context&);
void delete_notification(context&);
void events_ticket(context&);
void events(context&);
void admin_outbox(context&);
void admin_outbox_retry(context&);
void admin_get_user(context&);
void admin_patch_user(context&);
void admin_delete_user(context&);
void admin_activate(context&);
void admin_block(context&);
void admin_unblock(context&);
void admin_revoke_sessions(context&);
void admin_ban(context&);
void admin_get_ban(context&);
void admin_unban(context&);
void admin_cluster_leave(context&);
void admin_backup(context&);
void debug_actors(context&);
void debug_cluster(context&);
void debug_user(context&);

void mfa_enroll(context&);
void mfa_confirm(context&);
void mfa_disable(context&);
void mfa_recovery_codes(context&);
void login_mfa(context&);

void healthz(context&);
void readyz(context&);
void metrics(context&);
} // namespace handlers

} // namespace roster::http
