#include "service/providers.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace roster {

namespace {

constexpr millis jwks_ttl = 3'600'000;       // keys are used this long before they are fetched again

error unavailable(const std::string& provider) {
  return make_error(errc::provider_unavailable, provider + " could not be reached; retry later");
}
error refused(const std::string& provider) {
  return make_error(errc::invalid_credentials, provider + " did not accept the token");
}
error not_configured(const std::string& provider) {
  return make_error(errc::forbidden, provider + " login is not configured on this server");
}

size_t collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  // An answer larger than any provider's (1 MiB) is not read on.
  if (body->size() + size * n > (1u << 20)) return 0;
  body->append(data, size * n);
  return size * n;
}

std::string escape(const std::string& s) {
  std::unique_ptr<char, void (*)(void*)> out(curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size())), curl_free);
  return out ? std::string(out.get()) : std::string();
}

std::string text(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_unsigned()) return std::to_string(it->get<uint64_t>());
  return {};
}

/// A boolean field; false when absent or of another type (a provider's
/// answer is not trusted to be well-typed: json::value would throw).
bool flag(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

} // namespace

providers::providers(const providers_config& cfg, millis timeout) : cfg_(cfg), timeout_(timeout) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

result<providers::answer> providers::get(const std::string& provider, const std::string& url,
                                         const std::vector<std::string>& headers) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return unavailable(provider);
  answer a;
  curl_slist* list = nullptr;
  for (auto& h : headers) list = curl_slist_append(list, h.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_list(list, curl_slist_free_all);
  auto* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<millis>(timeout_, 3'000)));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "roster");
  auto rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    // The URL may carry a token or a key in its query: only the provider is named.
    spdlog::warn("provider {}: request failed: {}", provider, curl_easy_strerror(rc));
    return unavailable(provider);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
  return a;
}

result<nlohmann::json> providers::get_json(const std::string& provider, const std::string& url,
                                           const std::vector<std::string>& headers) {
  auto a = get(provider, url, headers);
  if (!a) return a.err();
  if (a->status == 400 || a->status == 401 || a->status == 403) return refused(provider);
  if (a->status != 200) {
    spdlog::warn("provider {}: answered HTTP {}", provider, a->status);
    return unavailable(provider);
  }
  auto j = nlohmann::json::parse(a->body, nullptr, false);
  if (!j.is_object()) {
    spdlog::warn("provider {}: answered something that is not a JSON object", provider);
    return unavailable(provider);
  }
  return j;
}

result<provider_identity> providers::verify(const std::string& p, const std::string& token) {
  if (p == "google") return oidc(p, cfg_.google, google_keys_, token);
  if (p == "apple") return oidc(p, cfg_.apple, apple_keys_, token);
  if (p == "discord") return discord(token);
  if (p == "facebook") return facebook(token);
  if (p == "steam") return steam(token);
  return make_error(errc::not_found, "no such provider");
}

result<provider_identity> providers::oidc(const std::string& name, const oidc_provider_config& c, key_cache& cache,
                                          const std::string& token) {
  if (c.client_ids.empty() || c.jwks_url.empty()) return not_configured(name);
  auto header = peek_jwt_header(token);
  if (!header) return header.err();
  auto now = now_ms();
  // The key the token names, from the cached JWKS; fetched when the cache is
  // empty or old, or again for an unknown kid (at most once a minute, so a
  // stream of made-up kids cannot turn us into a load on the provider).
  std::optional<jwk_key> key;
  {
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto find = [&] {
      for (auto& k : cache.keys)
        if (k.kid == header->kid) return std::optional<jwk_key>(k);
      return std::optional<jwk_key>();
    };
    bool stale = cache.fetched_at == 0 || now - cache.fetched_at > jwks_ttl;
    key = stale ? std::nullopt : find();
    if (!key && (stale || now - cache.attempted_at >= cfg_.jwks_refetch_interval)) {
      cache.attempted_at = now;
      auto jwks = get_json(name, c.jwks_url);
      if (jwks) {
        cache.keys = parse_jwks(*jwks);
        cache.fetched_at = now;
      } else if (stale) {
        return unavailable(name);  // no keys we may still trust
      }
      key = find();
    }
  }
  if (!key) return make_error(errc::invalid_credentials, "provider token refused: unknown key");
  auto claims = verify_id_token(token, *key, {c.issuer, c.client_ids, now / 1000, 60});
  if (!claims) return claims.err();
  provider_identity id;
  id.provider = name;
  id.subject = text(*claims, "sub");
  auto verified = claims->find("email_verified");
  // Apple sends "true" as a string.
  bool email_ok = verified != claims->end() && ((verified->is_boolean() && verified->get<bool>()) ||
                                                (verified->is_string() && verified->get<std::string>() == "true"));
  if (email_ok) id.email = text(*claims, "email");
  id.display_name = text(*claims, "name");
  id.avatar_url = text(*claims, "picture");
  return id;
}

result<provider_identity> providers::discord(const std::string& token) {
  if (cfg_.discord_api_url.empty() || cfg_.discord_client_id.empty()) return not_configured("discord");
  std::vector<std::string> auth = {"Authorization: Bearer " + token};
  // Whose token is it? /users/@me answers for a token of any Discord app; a
  // token the player gave another app must not log in here.
  auto grant = get_json("discord", cfg_.discord_api_url + "/oauth2/@me", auth);
  if (!grant) return grant.err();
  auto app = grant->find("application");
  if (app == grant->end() || !app->is_object()) return unavailable("discord");
  if (text(*app, "id") != cfg_.discord_client_id) return refused("discord");
  auto me = get_json("discord", cfg_.discord_api_url + "/users/@me", auth);
  if (!me) return me.err();
  provider_identity id;
  id.provider = "discord";
  id.subject = text(*me, "id");
  if (id.subject.empty()) return unavailable("discord");
  id.display_name = text(*me, "global_name");
  if (id.display_name.empty()) id.display_name = text(*me, "username");
  if (auto avatar = text(*me, "avatar"); !avatar.empty())
    id.avatar_url = "https://cdn.discordapp.com/avatars/" + id.subject + "/" + avatar + ".png";
  if (flag(*me, "verified")) id.email = text(*me, "email");
  return id;
}

result<provider_identity> providers::facebook(const std::string& token) {
  if (cfg_.facebook_app_id.empty() || cfg_.facebook_app_secret.empty()) return not_configured("facebook");
  auto debug = get_json("facebook", cfg_.facebook_graph_url + "/debug_token?input_token=" + escape(token) +
                                        "&access_token=" + escape(cfg_.facebook_app_id + "|" + cfg_.facebook_app_secret));
  if (!debug) return debug.err();
  auto data = debug->find("data");
  if (data == debug->end() || !data->is_object()) return unavailable("facebook");
  // A token of another app is somebody else's login, not ours.
  if (!flag(*data, "is_valid") || text(*data, "app_id") != cfg_.facebook_app_id) return refused("facebook");
  provider_identity id;
  id.provider = "facebook";
  id.subject = text(*data, "user_id");
  if (id.subject.empty()) return unavailable("facebook");
  auto me = get_json("facebook", cfg_.facebook_graph_url + "/me?fields=id,name,email,picture&access_token=" + escape(token));
  if (!me) return me.err();
  if (text(*me, "id") != id.subject) return refused("facebook");
  id.display_name = text(*me, "name");
  id.email = text(*me, "email");  // Facebook gives only confirmed addresses
  if (auto pic = me->find("picture"); pic != me->end() && pic->is_object() && pic->contains("data") &&
                                       (*pic)["data"].is_object())
    id.avatar_url = text((*pic)["data"], "url");
  return id;
}

result<provider_identity> providers::steam(const std::string& token) {
  if (cfg_.steam_app_id.empty() || cfg_.steam_web_api_key.empty()) return not_configured("steam");
  auto r = get_json("steam", cfg_.steam_api_url + "/ISteamUserAuth/AuthenticateUserTicket/v1/?key=" +
                                 escape(cfg_.steam_web_api_key) + "&appid=" + escape(cfg_.steam_app_id) +
                                 "&ticket=" + escape(token));
  if (!r) return r.err();
  auto response = r->find("response");
  if (response == r->end() || !response->is_object()) return unavailable("steam");
  if (response->contains("error")) return refused("steam");
  auto params = response->find("params");
  if (params == response->end() || !params->is_object()) return unavailable("steam");
  if (text(*params, "result") != "OK" || flag(*params, "publisherbanned")) return refused("steam");
  provider_identity id;
  id.provider = "steam";
  id.subject = text(*params, "steamid");
  if (id.subject.empty()) return unavailable("steam");
  return id;
}

} // namespace roster
