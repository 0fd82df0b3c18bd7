#pragma once
// Test support: starts the real build/roster on a free loopback port with a
// temporary data dir, and talks HTTP/JSON to it.
#include <httplib.h>
#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace roster::testing {

using nlohmann::json;
using env = std::map<std::string, std::string>;

struct response {
  int status = 0;
  json body;
  std::string raw;
  httplib::Headers headers;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

/// A free TCP port on 127.0.0.1 (bound and released).
int free_port();

/// Runs the roster binary with `args` (a shell word list); returns its exit
/// code and combined stdout/stderr.
std::pair<int, std::string> run_roster(const std::string& args);

/// Runs a shell command; its exit status and stdout.
std::pair<int, std::string> run_command(const std::string& cmd);

class roster_server {
 public:
  /// `env`: extra ROSTER_* variables (e.g. {"ROSTER_AUTH_SUDO_WINDOW", "1s"}).
  /// ROSTER_ADMIN_KEYS replaces the node's admin keys (include admin_key()
  /// for admin() to keep working).
  /// The [limits] budgets are 0 (off) unless `env` sets them.
  explicit roster_server(std::map<std::string, std::string> env = {}, std::string data_dir = {});
  ~roster_server();

  void start();
  void stop();    // SIGTERM, wait
  void kill9();   // SIGKILL, wait
  void signal(int sig);  // e.g. SIGSTOP / SIGCONT
  bool running() const { return pid_ > 0; }

  response call(const std::string& method, const std::string& path, const json& body = nullptr,
                const httplib::Headers& headers = {}) const;
  response raw(const std::string& method, const std::string& path, const std::string& body,
               const std::string& content_type, const httplib::Headers& headers = {}) const;
  response as(const std::string& token, const std::string& method, const std::string& path,
              const json& body = nullptr) const;
  response admin(const std::string& method, const std::string& path, const json& body = nullptr) const;

  // Conveniences: each asserts nothing; callers check the status.
  response register_user(const std::string& email, const std::string& username,
                         const std::string& password = "correct-horse-9") const;
  response login(const std::string& login, const std::string& password = "correct-horse-9") const;

  /// A client for this server (HTTPS when ROSTER_HTTP_TLS_CERT is set).
  httplib::Client client() const;
  int port() const { return port_; }
  /// The port of ROSTER_CLUSTER_LISTEN (re-picked if it was taken at start), or 0.
  int cluster_port() const;
  const std::string& data_dir() const { return data_dir_; }
  /// Everything the node wrote to its log (stdout and stderr) so far.
  std::string log() const;
  /// The node process's resident memory (VmRSS), KiB; -1 if unknown.
  long rss_kib() const;
  const std::string& admin_key() const { return admin_key_; }

  /// Appends every answer that call()/raw() receive from now on to `file`, one JSON line
  /// each ({method, path, status, content_type, body}), for tests/support/openapi_check.py
  /// to check against docs/openapi.yaml. ROSTER_TEST_EXCHANGES=<file> in the test's
  /// environment records every server's answers that way.
  void record_to(std::string file) { record_file_ = std::move(file); }

 private:
  void start_once();
  std::map<std::string, std::string> env_;
  std::string data_dir_;
  bool own_dir_ = false;
  std::string admin_key_ = "test-admin-key-0123456789";
  int port_ = 0;
  pid_t pid_ = -1;
  std::string record_file_;
};

} // namespace roster::testing
