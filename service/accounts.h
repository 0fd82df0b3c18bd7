#pragma once
// Account workflows that span several actors: the claim / write / confirm
// protocol of SPEC §1 for registration and unique-key changes, password and
// device logins, and deletion with index release. Each runs on the calling
// HTTP worker thread, as a sequence of router calls (so no actor ever waits on
// another), and does the slow Argon2id work there too.
//
// Inputs are already validated by http/ (a profile patch arrives parsed);
// outputs are typed results (actors/user/user_protocol.h) that http/ renders.
#include <functional>
#include <mutex>
#include <unordered_map>
#include <optional>
#include <string>
#include <variant>

#include "cluster/router_port.h"
#include "config/config.h"
#include "domain/password.h"
#include "domain/throttle.h"
#include "domain/user.h"

namespace roster {

struct registration {
  std::optional<std::string> email;
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::string password;  // empty: none (an account with an email, which logs in by code or link)
  json metadata = json::object();
};

/// A device login: the signed-in user and whether the device was new.
struct device_signed_in {
  signed_in in;
  bool created = false;
};

/// Who a provider says the token's holder is (service/providers.h verified it).
struct provider_identity {
  std::string provider;  // google, apple, discord, facebook, steam
  std::string subject;   // the provider's stable user id
  std::string email;     // empty unless the provider vouches for it (verified)
  std::string display_name;
  std::string avatar_url;
};

class accounts {
 public:
  accounts(router_port& r, const auth_config& auth);

  /// 201 {user, session|null}; 409 email_taken / username_taken. The unique
  /// keys are claimed before the password is hashed, so a taken email or
  /// username costs no Argon2id work.
  result<signed_in> register_account(const registration& in, const client_info& ci);

  /// {user, session}; 401 invalid_credentials (same answer and about the same
  /// time for unknown logins and wrong passwords); 429 when throttled (the
  /// same for unknown logins: they are throttled by their normalised key).
  result<signed_in> password_login(const std::string& login, const std::string& password, const client_info& ci);

  /// {user, session, created}: finds or creates the user of a device id.
  result<device_signed_in> device_login(const std::string& device_id, const std::optional<std::string>& display_name,
                                        const client_info& ci);

  /// {user, session}: a new guest user.
  result<signed_in> anonymous_login(const std::optional<std::string>& display_name, const client_info& ci);

  /// PATCH /v1/account (token) or the admin PATCH (token empty; the patch
  /// parsed with allow_email). Claims a new username/email before applying,
  /// releases the old ones after. The user's view (own, or admin's).
  result<view> update_profile(std::string_view uid16, const std::string& token_hash, const profile_patch& patch,
                              const client_info& ci);

  /// PUT /v1/account/password. 401 for a wrong current password, 429 when
  /// the address or the account is throttled (check_password).
  result<revoked> change_password(std::string_view uid16, const std::string& token_hash, const std::string& current,
                                  const std::string& next, const client_info& ci);

  /// DELETE /v1/account: needs `password` or a session inside the sudo window.
  /// A password goes through check_password like a login.
  status delete_account(std::string_view uid16, const std::string& token_hash,
                        const std::optional<std::string>& password, const client_info& ci);

  /// DELETE /v1/admin/users/{id}.
  status admin_delete(std::string_view uid16);

  // -- codes (domain/codes.h): the identity's index partition stores them --
  /// POST /v1/auth/email-code: a login code to `email` (normalised, valid),
  /// whether or not an account has it — the work is the same either way, so
  /// the answer (202) and its time say nothing. 429 when the address's sends
  /// are used up.
  status send_login_code(const std::string& email);
  /// POST /v1/sessions/email-code: the code's account (its email becomes
  /// verified), or a new passwordless one with that verified email.
  result<device_signed_in> email_code_login(const std::string& email, const std::string& code,
                                            const client_info& ci);
  /// POST /v1/auth/magic-link: a link with a fresh 32-byte token to `email`
  /// (`link_query`: more query parameters for the link, e.g. an allowed
  /// redirect_url, already encoded), under the address's send budget; 202
  /// either way, like send_login_code.
  status send_magic_link(const std::string& email, const std::string& link_query);
  /// POST /v1/sessions/magic-link: the link's account, found or created as
  /// for an email code (method magic_link).
  result<device_signed_in> magic_link_login(const std::string& token, const client_info& ci);
  /// POST /v1/account/verification/email: a verification code to the
  /// caller's own email. 400 without an email, 409 already_exists when it is
  /// verified already.
  status send_email_verification(std::string_view uid16, const std::string& token_hash, const client_info& ci);
  /// POST /v1/account/verification/email/confirm: the code marks the email
  /// verified; the caller's own view.
  result<view> confirm_email_verification(std::string_view uid16, const std::string& token_hash,
                                          const std::string& code, const client_info& ci);
  /// POST /v1/account/email: needs `password` or a session inside the sudo
  /// window. A code to the new address (its record keyed by address and
  /// account, so users racing for one address each get theirs), a notice to
  /// the old one. 409 email_taken when an account has the address now.
  status request_email_change(std::string_view uid16, const std::string& token_hash, const std::string& email,
                              const std::optional<std::string>& password, const client_info& ci);
  /// POST /v1/account/email/confirm: the code sets the new (verified) email
  /// through the claim / write / confirm of update_profile: of users racing
  /// for one address, one wins, the others get 409 email_taken.
  result<view> confirm_email_change(std::string_view uid16, const std::string& token_hash, const std::string& email,
                                    const std::string& code, const client_info& ci);
  /// POST /v1/auth/phone-code: a login code by SMS to `phone` (E.164,
  /// checked), as send_login_code: 202 whether or not an account has it.
  status send_phone_code(const std::string& phone);
  /// POST /v1/sessions/phone-code: the number's account, or a new one with
  /// that number and nothing else (method phone_code).
  result<device_signed_in> phone_code_login(const std::string& phone, const std::string& code,
                                            const client_info& ci);
  /// POST /v1/account/verification/phone: needs `password` or a session
  /// inside the sudo window (the number becomes a way in). A code by SMS to
  /// the number, keyed by number and account like an email change. 409
  /// already_exists when it is the account's number, identity_taken when
  /// another account has it.
  status send_phone_verification(std::string_view uid16, const std::string& token_hash, const std::string& phone,
                                 const std::optional<std::string>& password, const client_info& ci);
  /// POST /v1/account/verification/phone/confirm: the code sets the
  /// (verified) number, replacing any other, through the claim / write /
  /// confirm of update_profile; the caller's own view.
  result<view> confirm_phone_verification(std::string_view uid16, const std::string& token_hash,
                                          const std::string& phone, const std::string& code, const client_info& ci);
  // -- linked identities ----------------------------------------------------
  /// POST /v1/sessions/provider/{p}: the account linked to the provider's
  /// subject, or a new one with it (display name, avatar and — when the
  /// provider vouches for it and no account has it — the verified email
  /// imported). Session method = the provider's name.
  result<device_signed_in> provider_login(const provider_identity& id, const client_info& ci);
  /// POST /v1/sessions/custom (admin key): the account of a game server's
  /// own user id, found or created. Session method "custom".
  result<device_signed_in> custom_login(const std::string& custom_id, const std::optional<std::string>& display_name,
                                        const client_info& ci);
  /// POST /v1/account/identities/{device,provider}: needs `password` or
  /// the sudo window (a new way in: a stolen session must not be able to
  /// make itself one that outlives a password change). Claims the identity's
  /// index key for the caller, links it, confirms. 409 identity_taken when
  /// another account holds it, already_exists when the caller does or has
  /// one of that kind.
  result<view> link_identity(std::string_view uid16, const std::string& token_hash, const std::string& key,
                             const std::optional<std::string>& password, const client_info& ci);
  /// DELETE /v1/account/identities/{kind}: needs `password` or the sudo
  /// window; 409 last_login_method for the last way in. Releases the key.
  result<view> unlink_identity(std::string_view uid16, const std::string& token_hash, const std::string& kind,
                               const std::string& value, const std::optional<std::string>& password,
                               const client_info& ci);

  /// POST /v1/auth/recovery: looks the email up, then stores a recovery code
  /// for it either way — sent only if an account has it.
  status send_recovery_code(const std::string& email);
  /// POST /v1/auth/recovery/confirm: a right code sets the new password and
  /// revokes every session.
  result<revoked> recover(const std::string& email, const std::string& code, const std::string& new_password);

  // -- MFA (domain/mfa.h): each enrolment step needs `password` or a session
  // inside the sudo window (prove_recent) --
  /// POST /v1/account/mfa/totp: {secret, otpauth_uri} of a new pending
  /// secret (replacing a pending one); 409 already_exists when MFA is on.
  result<view> mfa_enroll(std::string_view uid16, const std::string& token_hash,
                          const std::optional<std::string>& password, const client_info& ci);
  /// POST /v1/account/mfa/totp/confirm: the first valid code turns MFA on;
  /// the 10 recovery codes (shown this once, stored as Argon2id hashes).
  result<std::vector<std::string>> mfa_confirm(std::string_view uid16, const std::string& token_hash,
                                               const std::string& code, const std::optional<std::string>& password,
                                               const client_info& ci);
  /// DELETE /v1/account/mfa/totp: MFA off, recovery codes dropped.
  status mfa_disable(std::string_view uid16, const std::string& token_hash, const std::optional<std::string>& password,
                     const client_info& ci);
  /// POST /v1/account/mfa/recovery-codes: 10 new codes; the old ones die.
  result<std::vector<std::string>> mfa_regenerate(std::string_view uid16, const std::string& token_hash,
                                                  const std::optional<std::string>& password, const client_info& ci);
  /// POST /v1/sessions/mfa: completes a login whose answer was
  /// {mfa_required, challenge_id}, by a TOTP `code` or a `recovery_code`
  /// (exactly one). 401 invalid_credentials for a wrong code or a dead
  /// challenge; 429 when the address or the account is throttled.
  result<signed_in> mfa_login(const std::string& challenge_id, const std::optional<std::string>& code,
                              const std::optional<std::string>& recovery_code, const client_info& ci);

 private:
  /// 10 new recovery codes and their Argon2id hashes.
  std::pair<std::vector<std::string>, std::vector<std::string>> new_recovery_codes() const;

  /// A password that matched: the user, the hash it matched and the
  /// account's reservation of this check (see user_op::login_begin).
  struct password_ok {
    std::string uid16;
    std::string hash;
    uint64_t reservation = 0;
  };

  /// The one password check (logins, password change, account deletion; MFA
  /// and recovery codes later), so the throttles of domain/throttle.h hold
  /// under concurrency:
  /// 1. reserve an attempt for the client address and, for a login, for the
  ///    normalised login key (index key) on this node: known and unknown
  ///    logins lock alike;
  /// 2. find the user (by `login_key` when `uid16` is empty) and reserve on
  ///    the account (login_begin: stored failures + checks in flight, so it
  ///    holds across nodes);
  /// 3. verify; a wrong password (or an unknown login, after a dummy
  ///    verification) becomes a failure everywhere, a right one frees the
  ///    address and login reservations. The account reservation is the
  ///    caller's to finish (login_finish / set_password / delete_account
  ///    resolve it; a lost one expires).
  /// Returns the match, or why not: 401 invalid_credentials with
  /// `wrong_message`, 429 rate_limited, or a routing error.
  result<password_ok> check_password(const std::string& login_key, std::optional<std::string> uid16,
                                                  const std::string& password, const char* method,
                                                  const char* wrong_message, const client_info& ci);

  /// The login by the identity of index key `key` (an email or a phone a
  /// code was sent to, a provider's subject, a custom id): its account
  /// (login_finish via the key, which verifies an email) or a new
  /// passwordless one holding that identity, set on the fresh record by
  /// `fill` (every index key of the filled record is claimed).
  result<device_signed_in> login_or_create(const std::string& key, const std::string& method, const client_info& ci,
                                           const std::function<void(user_record&)>& fill);
  result<device_signed_in> login_by_email(const std::string& email, const std::string& method, const client_info& ci);
  /// The rule of SPEC §3 for sensitive changes: the current `password` (a
  /// check under the login throttle, as `method`) or a session inside the
  /// sudo window; else 403 reauthentication_required ("... to `what`").
  status prove_recent(std::string_view uid16, const std::string& token_hash, const std::optional<std::string>& password,
                      const char* method, const char* what, const client_info& ci);
  /// A fresh record: new id, creation time, status per auth.require_activation.
  user_record new_record() const;
  /// Claims `keys`, then runs `prepare` (e.g. the password hash: work done
  /// only once the claims hold), writes the user, confirms the claims.
  result<signed_in> create_user(user_record rec, const std::string& session_method,
                                const std::vector<std::string>& keys, const client_info& ci,
                                const std::function<void(user_record&)>& prepare = {});
  errc claim(const std::string& key, const std::string& uid);
  void release_all(const std::vector<std::string>& keys, const std::string& uid);

  router_port& router_;
  auth_config auth_;
  argon2_params argon2_;
  attempt_throttle addresses_;  // password checks per client IP (node-local)
  attempt_throttle logins_;     // password logins per normalised login key (node-local)

  /// Device key → user id, as the index last answered (node-local). A hit
  /// saves the index round trip of a device login; it is only a hint: the
  /// login goes to that user with login_finish.via_key, and a user that no
  /// longer holds the key answers not_found (the entry is dropped and the
  /// index asked). Bounded: cleared whole when full.
  class key_hints {
   public:
    std::optional<std::string> find(const std::string& key);
    void remember(const std::string& key, const std::string& uid16);
    void forget(const std::string& key);

   private:
    static constexpr size_t capacity = 100'000;
    std::mutex mutex_;
    std::unordered_map<std::string, std::string> map_;
  };
  key_hints devices_;
};

} // namespace roster
