#pragma once
// Login providers (SPEC §3, POST /v1/sessions/provider/{p}): who a provider
// says a token's holder is.
//
//   google, apple    an OIDC ID token, verified here (domain/oidc.h) against
//                    the provider's JWKS (providers.<p>.jwks_url), fetched
//                    with libcurl and cached for an hour; an unknown `kid`
//                    fetches it again, at most once per
//                    providers.jwks_refetch_interval (1 min)
//   discord          an OAuth2 access token: GET <api_url>/oauth2/@me (issued to
//                    providers.discord.client_id?), then /users/@me
//   facebook         a user access token: GET <graph_url>/debug_token (is it
//                    valid, for our app?) then /me for the profile
//   steam            a session ticket (hex): GET <api_url>/ISteamUserAuth/
//                    AuthenticateUserTicket/v1/
//
// Calls run on the calling HTTP worker thread (never on a CAF thread), one
// libcurl handle each, with a connect and a total timeout. A provider that
// refuses the token → 401 invalid_credentials; one that cannot be asked
// (down, timeout, 5xx, an unreadable answer) → 503 provider_unavailable;
// a provider this server has no settings for → 403 forbidden. Tokens and
// secrets never reach a log line or an error body.
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "config/config.h"
#include "domain/oidc.h"
#include "service/accounts.h"

namespace roster {

class providers {
 public:
  explicit providers(const providers_config& cfg, millis timeout = 5'000);

  /// The identity behind `token` at provider `p` (known_provider(p)).
  result<provider_identity> verify(const std::string& p, const std::string& token);

 private:
  struct answer {
    long status = 0;
    std::string body;
  };
  /// A GET; provider_unavailable unless an HTTP answer came back.
  result<answer> get(const std::string& provider, const std::string& url, const std::vector<std::string>& headers);
  /// The JSON object of a 200 answer: invalid_credentials for 400/401/403,
  /// provider_unavailable for anything else or an unreadable body.
  result<nlohmann::json> get_json(const std::string& provider, const std::string& url,
                                  const std::vector<std::string>& headers = {});

  struct key_cache {
    std::mutex mutex;
    std::vector<jwk_key> keys;
    millis fetched_at = 0;     // last successful fetch
    millis attempted_at = 0;   // last fetch, successful or not
  };
  result<provider_identity> oidc(const std::string& name, const oidc_provider_config& c, key_cache& cache,
                                 const std::string& token);
  result<provider_identity> discord(const std::string& token);
  result<provider_identity> facebook(const std::string& token);
  result<provider_identity> steam(const std::string& token);

  providers_config cfg_;
  millis timeout_;
  key_cache google_keys_, apple_keys_;
};

} // namespace roster
