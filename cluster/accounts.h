#pragma once
// Account workflows that span several actors: the claim / write / confirm
// protocol of SPEC §1 for registration and unique-key changes, password and
// device logins, and deletion with index release. Each runs on the calling
// HTTP worker thread, as a sequence of router calls (so no actor ever waits on
// another), and does the slow Argon2id work there too.
//
// Inputs are already validated by http/; outputs are router replies whose
// body is the JSON for the client.
#include <optional>
#include <string>

#include "cluster/router.h"
#include "domain/password.h"
#include "domain/throttle.h"
#include "domain/user.h"

namespace roster {

struct registration {
  std::optional<std::string> email;
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::string password;
  json metadata = json::object();
};

class accounts {
 public:
  accounts(router& r, const auth_config& auth);

  /// 201 {user, session|null}; 409 email_taken / username_taken.
  reply register_account(const registration& in, const client_info& ci);

  /// {user, session}; 401 invalid_credentials (same answer and about the same
  /// time for unknown logins and wrong passwords); 429 when throttled.
  reply password_login(const std::string& login, const std::string& password, const client_info& ci);

  /// {user, session, created}: finds or creates the user of a device id.
  reply device_login(const std::string& device_id, const std::optional<std::string>& display_name,
                     const client_info& ci);

  /// {user, session}: a new guest user.
  reply anonymous_login(const std::optional<std::string>& display_name, const client_info& ci);

  /// PATCH /v1/account (token) or the admin PATCH (token empty). Claims a new
  /// username/email before applying, releases the old ones after.
  reply update_profile(std::string_view uid16, const std::string& token_hash, const json& patch,
                       const client_info& ci);

  /// PUT /v1/account/password.
  reply change_password(std::string_view uid16, const std::string& token_hash, const std::string& current,
                        const std::string& next, const client_info& ci);

  /// DELETE /v1/account: needs `password` or a session inside the sudo window.
  reply delete_account(std::string_view uid16, const std::string& token_hash,
                       const std::optional<std::string>& password, const client_info& ci);

  /// DELETE /v1/admin/users/{id}.
  reply admin_delete(std::string_view uid16);

 private:
  /// A fresh record: new id, creation time, status per auth.require_activation.
  user_record new_record() const;
  reply create_user(user_record rec, const std::string& session_method, const std::vector<std::string>& keys,
                    const client_info& ci);
  errc claim(const std::string& key, const std::string& uid);
  void release_all(const std::vector<std::string>& keys, const std::string& uid);
  void release_from(const reply& r, const char* field, const std::string& uid);

  router& router_;
  auth_config auth_;
  argon2_params argon2_;
  ip_throttle ip_throttle_;
};

} // namespace roster
