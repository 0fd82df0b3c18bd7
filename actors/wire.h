#pragma once
// What every actor protocol shares (actors/*/..._protocol.h, cluster/node_protocol.h):
//
//  - errors: `errc` is a CAF error code enum (category "roster"). A handler
//    answers with a roster::error; to_caf() turns it into a caf::error whose
//    context carries the message, the per-field problems, Retry-After and
//    (only when there are any) the details, and
//    from_caf() turns it back on the requesting side, on any node. CAF's own
//    errors (timeouts, a dead receiver) become partition_unavailable.
//  - field adapters for inspect(): CAF 0.17 serialises neither std::optional,
//    std::variant nor nlohmann::json; opt_field / json_field / the variant
//    overload below give them a wire form (a flag, a one-byte tag, JSON text).
//  - the `roster_core` type-ID block (fixed range 200–299): the types and
//    atoms every component uses. Each actor kind has its own block in its
//    protocol header, in its own range; register_actor_types() (actors/wire.cc)
//    registers the blocks of actors/, the cluster runtime adds its own.
//
// Lightweight on purpose: it includes CAF's error and type-ID headers only,
// so headers that declare messages stay cheap to include.
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>
#include <caf/sec.hpp>
#include <caf/type_id.hpp>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/errc.h"
#include "domain/request.h"

CAF_ERROR_CODE_ENUM(roster::errc, "roster")

namespace roster {

/// A roster error as a CAF error (never call it with errc::ok).
caf::error to_caf(const error& e);
/// The roster error a CAF error stands for: a roster-category error comes back
/// as it was sent; anything else (timeout, receiver down, a broken link) is
/// partition_unavailable with Retry-After 1 — the request may or may not
/// have run.
error from_caf(const caf::error& e);

/// The answer to a partition this node does not (or no longer) serve: the
/// request was not run (errc::partition_moving, Retry-After 1).
error moving_error();
/// The answer when a partition's owner cannot be reached.
error unavailable_error();
/// The answer to a message without the cluster credential (actor_env::accept).
error refused_error();

/// Protocol version of the routable envelopes (riak_core's
/// riak_vnode_req_v1 idea): a node refuses an envelope of another version
/// with invalid_request instead of misreading it. Bump it when a message's
/// fields change. 2: user_record keeps activation and blocking apart and its
/// login methods, admin_set_status carries a status_change, user_counts has
/// no blocked count. 3: user_record and profile_patch carry a phone. 4:
/// user_record carries the MFA state and linked identities, signed_in an MFA
/// challenge; new user ops for identities, prefs and MFA. 5: index_op has
/// jwt_keyset.
constexpr uint8_t protocol_version = 7;

// -- inspect() adapters ---------------------------------------------------------

/// An std::optional field on the wire: a flag, then the value if set.
template <class T>
struct opt_field {
  std::optional<T>& x;
};

template <class T>
struct opt_value {
  bool& set;
  T& value;
};

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, opt_value<T>& x) {
  return x.set ? f(x.value) : f();
}

template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, opt_field<T>& x) {
  if constexpr (Inspector::reads_state) {
    bool set = x.x.has_value();
    T tmp = set ? *x.x : T{};
    opt_value<T> v{set, tmp};
    return f(set, v);
  } else {
    bool set = false;
    T tmp{};
    opt_value<T> v{set, tmp};
    auto done = caf::meta::load_callback([&]() -> caf::error {
      if (set) x.x = std::move(tmp);
      else x.x.reset();
      return caf::none;
    });
    return f(set, v, done);
  }
}

/// A JSON value on the wire: its text.
struct json_field {
  nlohmann::json& x;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, json_field& x) {
  if constexpr (Inspector::reads_state) {
    std::string text = x.x.dump();
    return f(text);
  } else {
    std::string text;
    auto done = caf::meta::load_callback([&]() -> caf::error {
      auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_discarded()) return caf::make_error(caf::sec::invalid_argument, "malformed JSON on the wire");
      x.x = std::move(j);
      return caf::none;
    });
    return f(text, done);
  }
}

namespace wire_detail {

template <class Variant, size_t... Is>
bool emplace_index(Variant& v, size_t i, std::index_sequence<Is...>) {
  return ((i == Is ? (v.template emplace<Is>(), true) : false) || ...);
}

template <class Variant>
struct alternative {
  Variant& v;
};

template <class Inspector, class Variant>
typename Inspector::result_type inspect(Inspector& f, alternative<Variant>& a) {
  return std::visit([&](auto& x) { return f(x); }, a.v);
}

} // namespace wire_detail

/// A variant of roster types on the wire: a one-byte tag (the alternative's
/// index), then the alternative. Found by ADL through its roster types; the
/// order of alternatives is therefore part of the protocol: append only.
template <class Inspector, class... Ts>
typename Inspector::result_type inspect(Inspector& f, std::variant<Ts...>& x) {
  static_assert(sizeof...(Ts) <= 255, "a wire variant has a one-byte tag");
  wire_detail::alternative<std::variant<Ts...>> alt{x};
  if constexpr (Inspector::reads_state) {
    auto tag = static_cast<uint8_t>(x.index());
    return f(tag, alt);
  } else {
    uint8_t tag = 0;
    // The tag is read first; the callback then makes that alternative the
    // active one before the alternative's own fields are read.
    auto pick = caf::meta::load_callback([&]() -> caf::error {
      if (!wire_detail::emplace_index(x, tag, std::index_sequence_for<Ts...>{}))
        return caf::make_error(caf::sec::invalid_argument, "unknown message alternative");
      return caf::none;
    });
    return f(tag, pick, alt);
  }
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, client_info& x) {
  return f(caf::meta::type_name("client_info"), x.ip, x.user_agent);
}

/// Nothing to say but "done".
struct done {};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, done&) {
  return f(caf::meta::type_name("done"));
}

/// Registers the type-ID blocks of actors/ (core, user, partition, index)
/// with an actor system config. Every node must, or remote messages do not
/// deserialise.
void register_actor_types(caf::actor_system_config& cfg);

} // namespace roster

// Fixed ranges, one block per component: core 200–299, user actor 300–349,
// partition host 350–399, index actor 400–449, node (cluster) 450–549,
// notification sender 550–599, stream relay 600–649.
CAF_BEGIN_TYPE_ID_BLOCK(roster_core, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(roster_core, (std::map<std::string, std::string>))
  CAF_ADD_TYPE_ID(roster_core, (std::vector<std::string>))
  CAF_ADD_TYPE_ID(roster_core, (roster::done))
  CAF_ADD_ATOM(roster_core, roster, stop_atom, "stop")
  CAF_ADD_ATOM(roster_core, roster, stats_atom, "stats")
  CAF_ADD_ATOM(roster_core, roster, idle_atom, "idle")
  CAF_ADD_ATOM(roster_core, roster, seal_atom, "seal")
  CAF_ADD_ATOM(roster_core, roster, passivate_atom, "passivate")
  CAF_ADD_ATOM(roster_core, roster, resume_atom, "resume")
CAF_END_TYPE_ID_BLOCK(roster_core)
