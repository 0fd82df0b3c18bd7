#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/support/roster_server.h"

namespace roster::testing {

int free_port() {
  // Ports from the kernel's ephemeral range can be taken between our probe and
  // the server's bind by any client socket of a test running alongside (its
  // connect() picks a local port from that range), and a listener cannot bind
  // a port a connected socket holds. So pick below that range, where only
  // listeners live, and never hand out one port twice in this process.
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  int lo = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> lo;
  int first = lo > 12000 ? lo - 11000 : 1024, count = lo > 12000 ? 10000 : 1000;
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int port = first + static_cast<int>(rng() % static_cast<unsigned>(count));
    if (given.count(port)) continue;
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (!free) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("no free loopback port below the ephemeral range");
}

std::pair<int, std::string> run_roster(const std::string& args) {
  return run_command(std::string(ROSTER_BINARY) + " " + args + " 2>&1");
}

std::pair<int, std::string> run_command(const std::string& cmd) {
  std::array<char, 4096> buf{};
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  while (p && std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  int status = p ? ::pclose(p) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

roster_server::roster_server(std::map<std::string, std::string> env, std::string data_dir)
    : env_(std::move(env)), data_dir_(std::move(data_dir)) {
  // Every test talks from 127.0.0.1, and many create users by the dozen: the
  // per-address budgets of [limits] are off unless a test sets them
  // (tests/integration/throttle_test.cc does).
  for (const char* k : {"ROSTER_LIMITS_REGISTRATIONS_PER_MINUTE", "ROSTER_LIMITS_DEVICE_LOGINS_PER_MINUTE",
                        "ROSTER_LIMITS_ANONYMOUS_LOGINS_PER_MINUTE", "ROSTER_LIMITS_USERNAME_LOOKUPS_PER_MINUTE",
                        "ROSTER_LIMITS_CODE_SENDS_PER_MINUTE"})
    env_.emplace(k, "0");
  if (const char* file = std::getenv("ROSTER_TEST_EXCHANGES"); file && *file) record_file_ = file;
  if (data_dir_.empty()) {
    char tmpl[] = "/tmp/roster-test-XXXXXX";
    data_dir_ = ::mkdtemp(tmpl);
    own_dir_ = true;
  }
  try {
    start();
  } catch (...) {
    if (own_dir_) std::filesystem::remove_all(data_dir_);
    throw;
  }
}

roster_server::~roster_server() {
  // Never throw from a destructor (it would abort the whole test binary):
  // stop() has already killed a node that ignored SIGTERM; say so and go on.
  try {
    if (running()) stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "roster_server: %s (data dir %s)\n", e.what(), data_dir_.c_str());
  }
  if (own_dir_) std::filesystem::remove_all(data_dir_);
}

long roster_server::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string roster_server::log() const {
  std::ifstream in(data_dir_ + "/server.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

int roster_server::cluster_port() const {
  auto it = env_.find("ROSTER_CLUSTER_LISTEN");
  if (it == env_.end()) return 0;
  return std::atoi(it->second.substr(it->second.rfind(':') + 1).c_str());
}

void roster_server::start() {
  // A port can still be taken by another test's listener between our probe
  // and the server's bind: then pick fresh ports and start again.
  for (int attempt = 1;; ++attempt) {
    try {
      return start_once();
    } catch (const std::runtime_error&) {
      if (attempt == 3 || log().find("cannot listen") == std::string::npos) throw;
      if (auto it = env_.find("ROSTER_CLUSTER_LISTEN"); it != env_.end() && cluster_port() != 0)
        it->second = it->second.substr(0, it->second.rfind(':') + 1) + std::to_string(free_port());
    }
  }
}

void roster_server::start_once() {
  port_ = free_port();
  pid_ = ::fork();
  if (pid_ == 0) {
    for (auto& [k, v] : env_) ::setenv(k.c_str(), v.c_str(), 1);
    std::string listen = "127.0.0.1:" + std::to_string(port_);
    std::string log = data_dir_ + "/server.log";
    int fd = ::open(log.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    // 64 partitions unless the test sets ROSTER_CLUSTER_PARTITIONS.
    auto parts = env_.count("ROSTER_CLUSTER_PARTITIONS") ? env_["ROSTER_CLUSTER_PARTITIONS"] : std::string("64");
    // The flag outranks the environment: a test that sets ROSTER_ADMIN_KEYS
    // (named keys, "name:key") passes them here, admin_key() among them.
    auto keys = env_.count("ROSTER_ADMIN_KEYS") ? env_["ROSTER_ADMIN_KEYS"] : admin_key_;
    ::execl(ROSTER_BINARY, ROSTER_BINARY, "serve", "--http-listen", listen.c_str(), "--data-dir",
            data_dir_.c_str(), "--admin-key", keys.c_str(), "--partitions", parts.c_str(), "--log-level", "warn",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("roster exited during start; see " + data_dir_ + "/server.log");
    }
    auto cli = client();
    cli.set_connection_timeout(0, 200'000);
    if (auto r = cli.Get("/healthz"); r && r->status == 200) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("roster did not become healthy");
}

httplib::Client roster_server::client() const {
  bool tls = env_.count("ROSTER_HTTP_TLS_CERT") > 0;
  httplib::Client cli((tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(port_));
  if (tls) cli.enable_server_certificate_verification(false);  // self-signed test certificate
  return cli;
}

void roster_server::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (::waitpid(pid_, &status, WNOHANG) != pid_) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      throw std::runtime_error("roster did not stop on SIGTERM within 20 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
}

void roster_server::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void roster_server::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

response roster_server::raw(const std::string& method, const std::string& path, const std::string& body,
                            const std::string& content_type, const httplib::Headers& headers) const {
  auto cli = client();
  cli.set_read_timeout(30, 0);
  httplib::Result r{nullptr, httplib::Error::Unknown};
  if (method == "GET") r = cli.Get(path.c_str(), headers);
  else if (method == "POST") r = cli.Post(path.c_str(), headers, body, content_type.c_str());
  else if (method == "PUT") r = cli.Put(path.c_str(), headers, body, content_type.c_str());
  else if (method == "PATCH") r = cli.Patch(path.c_str(), headers, body, content_type.c_str());
  else if (method == "DELETE") r = cli.Delete(path.c_str(), headers, body, content_type.c_str());
  else if (method == "OPTIONS") r = cli.Options(path.c_str(), headers);
  response out;
  if (!r) return out;
  out.status = r->status;
  out.raw = r->body;
  out.headers = r->headers;
  out.body = json::parse(r->body, nullptr, false);
  if (!record_file_.empty()) {
    json line = {{"method", method},
                 {"path", path.substr(0, path.find('?'))},
                 {"status", out.status},
                 {"content_type", r->get_header_value("Content-Type")},
                 {"body", r->body}};
    // One write per line, appended: tests running in parallel may share the file.
    auto text = line.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    int fd = ::open(record_file_.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0644);
    if (fd >= 0) {
      (void)!::write(fd, text.data(), text.size());
      ::close(fd);
    }
  }
  return out;
}

response roster_server::call(const std::string& method, const std::string& path, const json& body,
                             const httplib::Headers& headers) const {
  return raw(method, path, body.is_null() ? std::string() : body.dump(), "application/json", headers);
}

response roster_server::as(const std::string& token, const std::string& method, const std::string& path,
                           const json& body) const {
  return call(method, path, body, {{"Authorization", "Bearer " + token}});
}

response roster_server::admin(const std::string& method, const std::string& path, const json& body) const {
  return call(method, path, body, {{"X-Admin-Key", admin_key_}});
}

response roster_server::register_user(const std::string& email, const std::string& username,
                                      const std::string& password) const {
  json body = {{"password", password}};
  if (!email.empty()) body["email"] = email;
  if (!username.empty()) body["username"] = username;
  return call("POST", "/v1/accounts", body);
}

response roster_server::login(const std::string& login, const std::string& password) const {
  return call("POST", "/v1/sessions/password", {{"login", login}, {"password", password}});
}

} // namespace roster::testing
