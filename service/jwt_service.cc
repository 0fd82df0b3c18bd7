#include "service/jwt_service.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "base/crypto.h"
#include "domain/session_book.h"

namespace roster {

jwt::key jwt_service::read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("jwt.key_file: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto k = jwt::key_from_pem(ss.str());
  if (!k) throw std::runtime_error("jwt.key_file: " + path + " is not an Ed25519 private key (PEM)");
  return std::move(*k);
}

jwt_service::jwt_service(router_port& route, options o) : route_(route), opt_(std::move(o)) {
  file_key_ = std::move(opt_.file_key);
  if (file_key_) file_key_->pkey();  // built before any thread shares it
}

result<std::shared_ptr<const jwt_service::snapshot>> jwt_service::fetch(millis now, bool rotate) {
  auto r = route_.call_index(jwt_keyset{jwt_keyset_key, opt_.ttl, rotate});
  if (!r) return r.err();
  auto set = jwt::decode_key_set(r->detail);
  if (!set) return make_error(errc::internal, "internal error");
  auto s = std::make_shared<snapshot>();
  s->set = std::move(*set);
  s->fetched_at = now;
  for (auto& k : s->set.keys) k.pkey();  // built once, before the snapshot is shared
  std::vector<const jwt::key*> pub;
  if (file_key_) pub.push_back(&*file_key_);
  for (auto* k : jwt::published(s->set, now))
    if (!file_key_ || k->kid != file_key_->kid) pub.push_back(k);
  s->jwks_text = jwt::jwks(pub).dump();
  std::shared_ptr<const snapshot> out = s;
  std::atomic_store(&snap_, out);
  return out;
}

result<std::shared_ptr<const jwt_service::snapshot>> jwt_service::current(millis now, bool force, bool rotate) {
  auto s = std::atomic_load(&snap_);
  if (s && !force && now - s->fetched_at < opt_.refresh) return s;
  if (s && !force) {
    // Stale: one thread refreshes, the others go on with what they have.
    std::unique_lock<std::mutex> lock(fetch_mu_, std::try_to_lock);
    if (!lock.owns_lock()) return s;
    auto again = std::atomic_load(&snap_);
    if (again != s) return again;
    auto f = fetch(now, false);
    if (!f) {
      spdlog::warn("jwt: cannot refresh the key set ({}); using the one fetched {} s ago", f.err().message,
                   (now - s->fetched_at) / 1000);
      return s;
    }
    return f;
  }
  std::lock_guard<std::mutex> lock(fetch_mu_);
  if (!force) {
    if (auto again = std::atomic_load(&snap_); again && now - again->fetched_at < opt_.refresh) return again;
  }
  return fetch(now, rotate);
}

result<minted_jwt> jwt_service::mint(const std::string& user_id, const std::string& session_id, millis now) {
  const jwt::key* k = nullptr;
  std::shared_ptr<const snapshot> s;
  if (file_key_) {
    k = &*file_key_;
  } else {
    auto cur = current(now);
    if (!cur) return cur.err();
    s = std::move(*cur);
    k = jwt::signing_key(s->set, now);
    if (!k) return make_error(errc::internal, "internal error");
  }
  jwt::claims c;
  c.sub = user_id;
  c.sid = session_id;
  c.iat = now / 1000;
  c.exp = c.iat + std::max<int64_t>(1, opt_.ttl / 1000);
  auto token = jwt::sign(*k, c);
  if (token.empty()) return make_error(errc::internal, "internal error");
  return minted_jwt{std::move(token), c.exp * 1000};
}

result<std::string> jwt_service::jwks(millis now) {
  auto s = current(now);
  if (!s) return s.err();
  return (*s)->jwks_text;
}

result<std::string> jwt_service::rotate(millis now) {
  auto s = current(now, true, true);
  if (!s) return s.err();
  return (*s)->jwks_text;
}

result<jwt_identity> jwt_service::verify(std::string_view token, millis now) {
  auto expired = [] { return make_error(errc::session_expired, "token expired"); };
  auto invalid = [] { return make_error(errc::unauthorized, "invalid token"); };
  auto& sh = cache_[(token_hash{}(token) >> 48) % shards];
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    auto it = sh.map.find(token);
    if (it != sh.map.end()) {
      if (it->second.exp * 1000 + jwt::leeway_s * 1000 <= now) {
        sh.map.erase(it);
        return expired();
      }
      return jwt_identity{it->second.uid16, it->second.session_key};
    }
  }
  auto cur = current(now);
  if (!cur) return cur.err();
  auto s = std::move(*cur);
  auto finder = [&](const std::string& kid) -> const jwt::key* {
    if (file_key_ && constant_time_equal(kid, file_key_->kid)) return &*file_key_;
    for (auto* k : jwt::published(s->set, now))
      if (k->kid == kid) return k;
    return nullptr;
  };
  auto v = jwt::verify(token, now, finder);
  if (v.v == jwt::verdict::unknown_kid) {
    // A key this node has not seen yet (minted elsewhere after a rotation):
    // ask again, at most once a second.
    auto last = last_forced_.load();
    if (now - last >= 1000 && last_forced_.compare_exchange_strong(last, now)) {
      if (auto again = current(now, true)) {
        s = std::move(*again);
        v = jwt::verify(token, now, finder);
      }
    }
  }
  if (v.v == jwt::verdict::expired) return expired();
  if (v.v != jwt::verdict::ok) return invalid();
  auto uid16 = uuid_from_string(v.c.sub);
  if (!uid16 || !uuid_from_string(v.c.sid)) return invalid();
  cached entry{*uid16, jwt_session_key(v.c.sid), v.c.exp};
  {
    std::lock_guard<std::mutex> lock(sh.mu);
    if (sh.map.size() >= shard_cap) sh.map.clear();
    sh.map.emplace(std::string(token), entry);
  }
  return jwt_identity{std::move(entry.uid16), std::move(entry.session_key)};
}

} // namespace roster
