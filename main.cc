// The composition root. `serve` wires one node bottom up: config → store →
// node runtime (actor system, fence, partition actors, gateway) → membership
// (node actor: found, resume or join) → router → services (account workflows,
// operator views, online backup) → HTTP; and shuts down in reverse.
// Subcommands: serve, cert, cluster, backup, version.
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <rocksdb/version.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <sys/stat.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>
#include <unistd.h>
#include <filesystem>
#include <iostream>
#include <thread>

#include "cluster/backup.h"
#include "cluster/certs.h"
#include "cluster/membership.h"
#include "cluster/operator_views.h"
#include "cluster/router.h"
#include "cluster/runtime.h"
#include "service/accounts.h"
#include "service/jwt_service.h"
#include "config/config.h"
#include "http/metrics.h"
#include "http/event_streams.h"
#include "http/server.h"
#include "actors/stream/stream_relay.h"
#include "cluster/context.h"
#include <caf/all.hpp>
#include "persistence/data_dir.h"
#include "persistence/store.h"

namespace {

using namespace roster;

struct serve_flags {
  std::string config_file, http_listen, data_dir, admin_key, node_name, cluster_listen, seeds, log_level;
  int64_t partitions = 0;
  bool insecure = false;
};

int fail(const std::string& msg) {
  std::cerr << "roster: " << msg << "\n";
  return 2;
}

int serve(const serve_flags& f) {
  std::map<std::string, std::string> flags;
  auto flag = [&](const char* key, const std::string& v) {
    if (!v.empty()) flags[key] = v;
  };
  flag("http.listen", f.http_listen);
  flag("store.data_dir", f.data_dir);
  flag("admin.keys", f.admin_key);
  flag("node_name", f.node_name);
  flag("cluster.listen", f.cluster_listen);
  flag("cluster.seeds", f.seeds);
  flag("log_level", f.log_level);
  if (f.partitions != 0) flags["cluster.partitions"] = std::to_string(f.partitions);
  if (f.insecure) flags["cluster.insecure"] = "true";

  std::vector<std::string> warnings;
  auto cfg = load_config(f.config_file, roster_environment(), flags, &warnings);
  if (!cfg) return fail(cfg.err().message);
  spdlog::set_level(spdlog::level::from_str(cfg->log_level));
  for (auto& w : warnings) spdlog::warn("{}", w);
  if (cfg->cluster.listen.empty() && !cfg->cluster.seeds.empty())
    return fail("cluster.seeds is set but cluster.listen is not: a cluster node needs a node-to-node address");

  // Block the stop signals in every thread we start; one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // Every open HTTP connection is a descriptor: use all the process may have.
  if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }

  auto info = prepare_data_dir(cfg->store.data_dir, static_cast<uint32_t>(cfg->cluster.partitions));
  if (!info) return fail(info.err().message);
  if (auto& root = cfg->admin.backup_root; !root.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(root, ec);  // 0700 under the umask
    if (ec || !std::filesystem::is_directory(root))
      return fail("admin.backup_root: cannot create directory " + root + (ec ? ": " + ec.message() : ""));
  }
  std::optional<jwt::key> jwt_key;
  if (!cfg->jwt.key_file.empty()) {
    try {
      jwt_key = jwt_service::read_key_file(cfg->jwt.key_file);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
  }
  auto db = open_rocksdb_store({db_path(cfg->store.data_dir), cfg->store.sync_writes});
  if (!db) return fail(db.err().message);

  // The node's actors, then its membership: alone, or admitted by the
  // cluster (start() blocks until then and throws if refused).
  std::unique_ptr<node_runtime> runtime;
  std::unique_ptr<membership> members;
  try {
    runtime = std::make_unique<node_runtime>(*cfg, **db);
    members = std::make_unique<membership>(*runtime);
    members->start();
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  // After a leave has handed off every partition, stop like on SIGTERM, a
  // moment later: the last view this node sent (it may be the coordinator)
  // must leave its sockets first.
  members->on_left([] {
    std::thread([] {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      ::kill(::getpid(), SIGTERM);
    }).detach();
  });
  router route(*runtime);
  // The services HTTP handlers call.
  accounts account(route, cfg->auth);
  providers identity(cfg->providers);
  operator_views views(*runtime, *members, route);
  online_backup backups(*runtime);
  http::metrics metrics;
  const auto& lim = cfg->limits;
  address_limits limits{{lim.registrations_per_minute, 60'000},
                        {lim.device_logins_per_minute, 60'000},
                        {lim.anonymous_logins_per_minute, 60'000},
                        {lim.username_lookups_per_minute, 60'000},
                        {lim.code_sends_per_minute, 60'000}};
  // Open event streams (GET /v1/events) and the relay that feeds them.
  auto streams = std::make_shared<http::event_streams>(http::stream_limits{cfg->http.max_connections, cfg->http.max_connections_per_address}, route);
  streams->set_relay(spawn_stream_relay(runtime->system(), runtime->context()->env, streams),
                     runtime->context()->env->credential);
  jwt_service jwt(route, jwt_service::options{cfg->jwt.ttl, std::move(jwt_key)});
  http::services svc{route, account, views, *members, backups, *cfg, metrics, limits, *streams, identity, jwt};
  http::server server(svc, cfg->http);
  if (auto st = server.bind(); !st) return fail(st.err().message);

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    spdlog::info("signal {}: stopping", sig);
    server.stop();
  });
  spdlog::info("roster {} node {} serving http on {}:{} ({} partitions, data in {})", ROSTER_VERSION, cfg->node_name,
               cfg->http.listen.substr(0, cfg->http.listen.rfind(':')), server.port(), cfg->cluster.partitions,
               cfg->store.data_dir);
  if (members->cluster_port() != 0) std::cout << "cluster listening on " << members->cluster_port() << std::endl;
  std::cout << "listening on " << server.port() << std::endl;
  server.run();
  // Streams end (their clients reconnect, with Last-Event-ID, to another node).
  streams->stop();
  caf::anon_send_exit(streams->relay(), caf::exit_reason::user_shutdown);
  // Reverse order: no more HTTP, then the router's blocking actors, the
  // membership threads, every actor, and last the store.
  route.stop();
  members->stop();
  runtime->stop();
  db->reset();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  spdlog::info("stopped");
  return 0;
}

int backup(const std::string& data_dir, const std::string& to) {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(data_dir) / "roster.json")) return fail(data_dir + " is not a Roster data dir");
  auto db = open_rocksdb_store({db_path(data_dir), false});
  if (!db)
    return fail(db.err().message +
                " (is the node running? back it up online: roster backup --http ADDR --admin-key KEY --to DIR)");
  auto info = write_backup(**db, data_dir, to);
  if (!info) return fail(info.err().message);
  std::cout << "backup of " << data_dir << " written to " << info->path << " (" << info->files << " files, "
            << info->bytes << " bytes)\n";
  return 0;
}

/// Online backup: the running node writes the checkpoint on its own machine.
int backup_online(const std::string& addr, const std::string& key, const std::string& to) {
  httplib::Client cli(addr.rfind("http", 0) == 0 ? addr : "http://" + addr);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(600, 0);
  auto path = std::filesystem::absolute(to).lexically_normal().string();
  auto r = cli.Post("/v1/admin/backup", {{"X-Admin-Key", key}}, nlohmann::json{{"to", path}}.dump(),
                    "application/json");
  if (!r) return fail("cannot reach " + addr);
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 201 || !j.is_object()) {
    std::cout << r->body << "\n";
    return 1;
  }
  std::cout << "backup of node " << j.value("node", "") << " written to " << j.value("path", "") << " ("
            << j.value("files", 0) << " files, " << j.value("bytes", 0) << " bytes, "
            << j.value("partitions_owned", 0) << " partitions owned, epoch " << j.value("epoch", 0) << ")\n";
  return 0;
}

void print_cluster_status(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) {
    std::cout << body << "\n";
    return;
  }
  std::cout << "epoch " << j.value("epoch", 0) << ", " << j.value("partitions", 0) << " partitions (seen from "
            << j.value("node", "") << ")\n\nmembers:\n";
  for (auto& m : j["members"])
    std::cout << "  " << m.value("name", "") << "  " << m.value("state", "") << (m.value("reachable", false) ? "" : " (unreachable)")
              << (m.value("coordinator", false) ? "  coordinator" : "") << "  http " << m.value("http_listen", "")
              << "  cluster " << m.value("cluster_listen", "") << "  owns " << m.value("partitions_owned", 0) << "\n";
  std::cout << "\npartition table:\n";
  for (auto& r : j["partition_table"]["ranges"])
    std::cout << "  " << r.value("first", 0) << "-" << r.value("last", 0) << "  " << r.value("owner", "") << "\n";
  std::cout << "\nhandoffs in progress: " << j["handoffs"].size() << "\n";
  for (auto& h : j["handoffs"])
    std::cout << "  partition " << h.value("partition", 0) << "  " << h.value("from", "") << " -> " << h.value("to", "")
              << "  " << h.value("phase", "") << "\n";
}

int cluster_command(const std::string& action, const std::string& addr, const std::string& key) {
  httplib::Client cli(addr.rfind("http", 0) == 0 ? addr : "http://" + addr);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(30, 0);
  httplib::Headers h{{"X-Admin-Key", key}};
  if (action == "status") {
    auto r = cli.Get("/debug/cluster", h);
    if (!r) return fail("cannot reach " + addr);
    if (r->status != 200) {
      std::cout << r->body << "\n";
      return 1;
    }
    print_cluster_status(r->body);
    return 0;
  }
  auto r = cli.Post("/v1/admin/cluster/leave", h, "", "application/json");
  if (!r) return fail("cannot reach " + addr);
  std::cout << r->body << "\n";
  if (r->status >= 300) return 1;
  // The node exits once its partitions have moved; wait for that.
  for (int i = 0; i < 600; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto s = cli.Get("/debug/cluster", h);
    if (!s) {
      std::cout << "the node has handed off its partitions and stopped\n";
      return 0;
    }
    auto j = nlohmann::json::parse(s->body, nullptr, false);
    if (j.is_object() && j.contains("handoffs")) std::cout << "handoffs pending: " << j["handoffs"].size() << "\n";
  }
  return fail("the node is still running after 5 minutes; see /debug/cluster");
}

int cert_command(const std::string& action, const std::string& name, const std::string& dir) {
  if (action == "create-ca") {
    auto made = create_cluster_ca(dir);
    if (!made) return fail(made.err().message);
    std::cout << "CA certificate " << made->cert << "\nCA key         " << made->key
              << "  (keep it offline; it signs node certificates)\n";
    return 0;
  }
  if (name.empty()) return fail("roster cert create-node needs a NAME (the node's --node-name)");
  auto made = create_node_cert(dir, name);
  if (!made) return fail(made.err().message);
  std::cout << "node certificate " << made->cert << "\nnode key         " << made->key
            << "\nstart the node with:\n  --node-name " << name << "  and  ROSTER_CLUSTER_TLS_CERT=" << made->cert
            << " ROSTER_CLUSTER_TLS_KEY=" << made->key << " ROSTER_CLUSTER_TLS_CA="
            << (std::filesystem::path(dir) / "ca.crt").string() << "\n";
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  // Everything this process creates (data dir, RocksDB files, backups, keys)
  // is owner-only: 0700 directories, 0600 files. The data dir holds password hashes.
  ::umask(077);
  CLI::App app{"Roster: player accounts backend"};
  app.require_subcommand(1);

  serve_flags sf;
  auto* serve_cmd = app.add_subcommand("serve", "run a node");
  serve_cmd->add_option("--config", sf.config_file, "TOML config file");
  serve_cmd->add_option("--http-listen", sf.http_listen, "HTTP listen address host:port");
  serve_cmd->add_option("--data-dir", sf.data_dir, "data directory");
  serve_cmd->add_option("--admin-key", sf.admin_key, "admin key (X-Admin-Key)");
  serve_cmd->add_option("--node-name", sf.node_name, "node name");
  serve_cmd->add_option("--cluster-listen", sf.cluster_listen, "node-to-node listen address");
  serve_cmd->add_option("--seeds", sf.seeds, "seed nodes host:port,host:port");
  serve_cmd->add_option("--partitions", sf.partitions, "partition count (fixed at data dir creation)");
  serve_cmd->add_option("--log-level", sf.log_level, "trace|debug|info|warn|error|off");
  serve_cmd->add_flag("--insecure", sf.insecure,
                      "plaintext node links (no TLS); refused unless --cluster-listen is a loopback address");

  std::string cert_action, cert_name, cert_dir = "./certs";
  auto* cert_cmd = app.add_subcommand("cert", "make the certificates of a cluster's mutual TLS");
  cert_cmd->add_option("action", cert_action, "create-ca | create-node")
      ->required()
      ->check(CLI::IsMember({"create-ca", "create-node"}));
  cert_cmd->add_option("name", cert_name, "node name (create-node)");
  cert_cmd->add_option("--dir", cert_dir, "where the CA lives and the files go (default ./certs)");

  std::string action, http_addr, admin_key;
  auto* cluster_cmd = app.add_subcommand("cluster", "cluster operations");
  cluster_cmd->add_option("action", action, "status | leave")->required()->check(CLI::IsMember({"status", "leave"}));
  cluster_cmd->add_option("--http", http_addr, "a node's HTTP address")->required();
  cluster_cmd->add_option("--admin-key", admin_key, "admin key")->required();

  std::string backup_dir, backup_to, backup_http, backup_key;
  auto* backup_cmd = app.add_subcommand(
      "backup", "consistent RocksDB checkpoint: of a stopped node's data dir (--data-dir), or of a running node (--http)");
  auto* backup_dir_opt = backup_cmd->add_option("--data-dir", backup_dir, "data directory of a stopped node");
  auto* backup_http_opt = backup_cmd->add_option("--http", backup_http, "a running node's HTTP address");
  backup_cmd->add_option("--admin-key", backup_key, "admin key (with --http)");
  backup_cmd->add_option("--to", backup_to, "target directory (must not exist; with --http, on the node's machine)")
      ->required();
  backup_dir_opt->excludes(backup_http_opt);

  auto* version_cmd = app.add_subcommand("version", "print the version");

  CLI11_PARSE(app, argc, argv);
  if (serve_cmd->parsed()) return serve(sf);
  if (cluster_cmd->parsed()) return cluster_command(action, http_addr, admin_key);
  if (backup_cmd->parsed()) {
    if (!backup_http.empty()) {
      if (backup_key.empty()) return fail("roster backup --http needs --admin-key");
      return backup_online(backup_http, backup_key, backup_to);
    }
    if (backup_dir.empty()) return fail("roster backup needs --data-dir DIR (stopped node) or --http ADDR (running node)");
    return backup(backup_dir, backup_to);
  }
  if (cert_cmd->parsed()) return cert_command(cert_action, cert_name, cert_dir);
  if (version_cmd->parsed()) {
    std::cout << "roster " << ROSTER_VERSION << " (CAF 0.17, RocksDB " << ROCKSDB_MAJOR << "." << ROCKSDB_MINOR << "."
              << ROCKSDB_PATCH << ", cpp-httplib " << CPPHTTPLIB_VERSION << ")\n";
    return 0;
  }
  return 0;
}
