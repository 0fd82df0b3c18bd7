#include "http/routes.h"

#include <algorithm>

namespace roster::http {

namespace {
std::vector<std::string_view> split(std::string_view path);
} // namespace

std::vector<route> build_routes() {
  using namespace handlers;
  std::vector<route> table = {
    // accounts and sessions (SPEC §3)
    {"POST", "/v1/accounts", register_account},
    {"POST", "/v1/sessions/password", login_password},
    {"POST", "/v1/sessions/device", login_device},
    {"POST", "/v1/sessions/anonymous", login_anonymous},
    {"POST", "/v1/auth/email-code", send_email_code},
    {"POST", "/v1/sessions/email-code", login_email_code},
    {"POST", "/v1/sessions/provider/{provider}", login_provider},
    {"POST", "/v1/sessions/custom", login_custom},
    {"POST", "/v1/auth/phone-code", send_phone_code},
    {"POST", "/v1/sessions/phone-code", login_phone_code},
    {"POST", "/v1/auth/magic-link", send_magic_link},
    {"POST", "/v1/sessions/magic-link", login_magic_link},
    {"POST", "/v1/account/verification/email", send_verification, no_body},
    {"POST", "/v1/account/verification/email/confirm", confirm_verification},
    {"POST", "/v1/account/verification/phone", send_phone_verification},
    {"POST", "/v1/account/verification/phone/confirm", confirm_phone_verification},
    {"POST", "/v1/account/email", request_email_change},
    {"POST", "/v1/account/email/confirm", confirm_email_change},
    {"POST", "/v1/auth/recovery", send_recovery},
    {"POST", "/v1/auth/recovery/confirm", confirm_recovery},
    {"POST", "/v1/sessions/mfa", login_mfa},
    {"POST", "/v1/account/mfa/totp", mfa_enroll},
    {"POST", "/v1/account/mfa/totp/confirm", mfa_confirm},
    {"DELETE", "/v1/account/mfa/totp", mfa_disable},
    {"POST", "/v1/account/mfa/recovery-codes", mfa_recovery_codes},
    {"GET", "/v1/sessions", list_sessions},
    {"DELETE", "/v1/sessions", delete_all_sessions, no_body},
    {"PATCH", "/v1/sessions/current", extend_session, no_body},
    {"DELETE", "/v1/sessions/current", delete_current_session, no_body},
    {"GET", "/v1/sessions/{id}", get_session},
    {"DELETE", "/v1/sessions/{id}", delete_session, no_body},
    {"POST", "/v1/sessions/jwt", mint_jwt, no_body},
    {"GET", "/.well-known/jwks.json", jwks},
    {"GET", "/v1/account", get_account},
    {"PATCH", "/v1/account", patch_account},
    {"DELETE", "/v1/account", delete_account},
    {"PUT", "/v1/account/password", change_password},
    {"GET", "/v1/account/logs", account_logs},
    {"GET", "/v1/account/identities", list_identities},
    {"POST", "/v1/account/identities/{kind}", link_identity},
    {"DELETE", "/v1/account/identities/{kind}", unlink_identity},
    {"GET", "/v1/friends", list_friends},
    {"POST", "/v1/friends/{user_id}", add_friend, no_body},
    {"DELETE", "/v1/friends/{user_id}", remove_friend, no_body},
    {"GET", "/v1/blocks", list_blocks},
    {"POST", "/v1/blocks/{user_id}", add_block, no_body},
    {"DELETE", "/v1/blocks/{user_id}", remove_block, no_body},
    {"POST", "/v1/reports", file_report},
    {"GET", "/v1/account/prefs", get_prefs},
    {"PUT", "/v1/account/prefs", put_prefs},
    {"GET", "/v1/account/metadata", list_own_metadata},
    {"GET", "/v1/account/metadata/{key}", get_own_metadata_key},
    {"PUT", "/v1/account/metadata/{key}", put_own_metadata},
    {"DELETE", "/v1/account/metadata/{key}", delete_own_metadata, no_body},
    // players (SPEC §4)
    {"GET", "/v1/users", get_users},
    {"GET", "/v1/users/search", search_players},  // before /v1/users/{id}
    {"GET", "/v1/users/{id}", get_user},
    {"GET", "/v1/users/{id}/metadata", get_user_metadata},
    {"GET", "/v1/metadata", get_metadata},
    {"GET", "/v1/usernames/{name}", username_available},
    {"GET", "/v1/notifications", list_notifications},
    {"POST", "/v1/notifications/read", read_notifications},
    {"DELETE", "/v1/notifications/{id}", delete_notification, no_body},
    {"POST", "/v1/events/ticket", events_ticket, no_body},
    {"GET", "/v1/events", events},
    // admin
    {"GET", "/v1/admin/users", admin_search},
    {"GET", "/v1/admin/stats", admin_stats},
    {"GET", "/v1/admin/users/{id}", admin_get_user},
    {"PATCH", "/v1/admin/users/{id}", admin_patch_user},
    {"DELETE", "/v1/admin/users/{id}", admin_delete_user, no_body},
    {"POST", "/v1/admin/users/{id}/activate", admin_activate, no_body},
    {"POST", "/v1/admin/users/{id}/block", admin_block, no_body},
    {"POST", "/v1/admin/users/{id}/unblock", admin_unblock, no_body},
    {"DELETE", "/v1/admin/users/{id}/sessions", admin_revoke_sessions, no_body},
    {"POST", "/v1/admin/bans", admin_ban},
    {"GET", "/v1/admin/bans/{user_id}", admin_get_ban},
    {"DELETE", "/v1/admin/bans/{user_id}", admin_unban, no_body},
    {"GET", "/v1/admin/moderation/queue", admin_moderation_queue},
    {"POST", "/v1/admin/moderation/queue/{user_id}/resolve", admin_moderation_resolve},
    {"GET", "/v1/admin/users/{id}/relations", admin_relations},
    {"PUT", "/v1/admin/users/{id}/metadata/{key}", admin_put_metadata},
    {"DELETE", "/v1/admin/users/{id}/metadata/{key}", admin_delete_metadata, no_body},
    {"POST", "/v1/admin/cluster/leave", admin_cluster_leave, no_body},
    {"POST", "/v1/admin/backup", admin_backup},
    {"POST", "/v1/admin/notifications", admin_notifications},
    {"GET", "/v1/admin/outbox", admin_outbox},
    {"POST", "/v1/admin/outbox/{id}/retry", admin_outbox_retry, no_body},
    {"POST", "/v1/admin/jwt/rotate", admin_jwt_rotate, no_body},
    // operators
    {"GET", "/debug/actors", debug_actors},
    {"GET", "/debug/cluster", debug_cluster},
    {"GET", "/debug/users/{id}", debug_user},
    {"GET", "/healthz", healthz},
    {"GET", "/readyz", readyz},
    {"GET", "/metrics", handlers::metrics},
  };
  for (auto& r : table)
    for (auto seg : split(r.pattern)) r.segments.emplace_back(seg);
  return table;
}

namespace {
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool match_path(const route& r, const std::vector<std::string_view>& segs,
                std::map<std::string, std::string>* params) {
  auto& pat = r.segments;
  if (pat.size() != segs.size()) return false;
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i].size() > 2 && pat[i].front() == '{') {
      if (params) (*params)[pat[i].substr(1, pat[i].size() - 2)] = std::string(segs[i]);
    } else if (pat[i] != segs[i]) {
      return false;
    }
  }
  return true;
}
} // namespace

match_result match(const std::vector<route>& routes, const std::string& method, const std::string& path) {
  match_result m;
  auto segs = split(path);
  // Literal segments beat parameters: "/v1/sessions/current" before "/v1/sessions/{id}"
  // is guaranteed by table order, so the first full match wins.
  for (auto& r : routes) {
    if (!match_path(r, segs, nullptr)) continue;
    m.path_known = true;
    if (std::find(m.allowed.begin(), m.allowed.end(), r.method) == m.allowed.end()) m.allowed.push_back(r.method);
    if (!m.found && r.method == method) {
      m.found = &r;
      match_path(r, segs, &m.params);
    }
  }
  return m;
}

} // namespace roster::http
