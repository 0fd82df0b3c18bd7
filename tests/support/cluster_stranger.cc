// A stranger on the cluster port, for tests: it speaks CAF's wire protocol
// (BASP) but knows no cluster secret and holds no certificate.
//
//   cluster_stranger login HOST PORT USER_UUID
//     connects as a CAF node, builds handles for the actor ids around the
//     published node actor (where the gateway, partition hosts and index
//     actors sit) and sends each a login_finish and an admin_get for the
//     user, as an attacker who read docs/architecture.md would.
//   cluster_stranger huge HOST PORT
//     opens a TCP connection and sends one BASP header that announces a
//     payload of almost 4 GiB, then holds the connection for 3 s.
//
// Prints one JSON line: {"connected":..., "sessions":N, "reads":N,
// "refused":N, "other":N}. Exits 0 unless the arguments are wrong.
#include <arpa/inet.h>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp/header.hpp>
#include <caf/io/basp_broker.hpp>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "actors/user/user_protocol.h"
#include "cluster/node_protocol.h"
#include "base/crypto.h"
#include "domain/user.h"

using namespace roster;

namespace {

int login(caf::actor_system& sys, const std::string& host, uint16_t port, const std::string& uuid) {
  auto node = sys.middleman().remote_actor<node_actor_hdl>(host, port);
  if (!node) {
    std::printf("{\"connected\":false,\"sessions\":0,\"reads\":0,\"refused\":0,\"other\":0}\n");
    return 0;
  }
  auto uid16 = uuid_from_string(uuid);
  if (!uid16) return 2;
  auto nid = node->node();
  auto base = node->id();
  auto broker = sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
  caf::scoped_actor self{sys};
  int sessions = 0, reads = 0, refused = 0, other = 0;
  for (caf::actor_id aid = base > 400 ? base - 400 : 1; aid <= base + 50; ++aid) {
    caf::actor_config acfg;
    auto proxy = caf::make_actor<caf::forwarding_actor_proxy, caf::strong_actor_ptr>(aid, nid, &sys, acfg, broker);
    auto target = caf::actor_cast<caf::actor>(proxy);
    for (int which = 0; which < 2; ++which) {
      user_request req;
      if (which == 0) req.op = login_finish{"password", std::nullopt, 0};
      else req.op = admin_get{};
      req.user_id = *uid16;
      self->request(target, std::chrono::seconds(2), req)
        .receive([&](user_reply&) { ++(which == 0 ? sessions : reads); },
                 [&](caf::error& e) {
                   // A timeout or an unknown actor id is no answer at all.
                   if (e.category() != caf::atom("roster")) return;
                   if (from_caf(e).code == errc::forbidden) ++refused;
                   else ++other;
                 });
    }
  }
  std::printf("{\"connected\":true,\"sessions\":%d,\"reads\":%d,\"refused\":%d,\"other\":%d}\n", sessions, reads,
              refused, other);
  return 0;
}

int huge(caf::actor_system& sys, const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::printf("{\"connected\":false}\n");
    return 0;
  }
  caf::io::basp::header hdr{caf::io::basp::message_type::client_handshake, 0, 0xFFFFFFF0u, 0,
                            caf::invalid_actor_id, caf::invalid_actor_id};
  std::vector<char> buf;
  caf::binary_serializer bs{sys, buf};
  if (auto err = bs(hdr)) return 2;
  bool sent = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(buf.size());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::close(fd);
  std::printf("{\"connected\":true,\"sent\":%s}\n", sent ? "true" : "false");
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 4) return 2;
  std::string mode = argv[1], host = argv[2];
  auto port = static_cast<uint16_t>(std::stoi(argv[3]));
  caf::actor_system_config cfg;
  register_actor_types(cfg);
  cfg.add_message_types<caf::id_block::roster_node>();
  cfg.load<caf::io::middleman>();
  cfg.set("logger.console", caf::atom("none"));
  cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{cfg};
  if (mode == "login" && argc == 5) return login(sys, host, port, argv[4]);
  if (mode == "huge") return huge(sys, host, port);
  return 2;
}
