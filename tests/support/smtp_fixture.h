#pragma once
// A real SMTP server for tests (tests/support/smtp_server.py on Debian's
// python3-aiosmtpd, STARTTLS required) and the throwaway PKI it needs, made by
// the openssl CLI: shared by tests/delivery/deliverer_test.cc (the sender
// alone) and tests/integration/codes_test.cc (mail a player receives).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

#ifndef ROSTER_TEST_PYTHON
#define ROSTER_TEST_PYTHON "/usr/bin/python3"
#endif

namespace roster::smtp_fixture {

namespace fs = std::filesystem;
using nlohmann::json;
using clock_type = std::chrono::steady_clock;

/// A temporary directory, removed with everything in it.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "roster-smtp-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released).
inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// A child process (the SMTP fixture), stopped and reaped by the destructor.
class child_process {
 public:
  child_process(const std::vector<std::string>& argv, const std::string& stderr_file) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    int rc = ::posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    out_ = fds[0];
    if (rc != 0) {
      pid_ = -1;
      throw std::runtime_error("cannot start " + argv[0]);
    }
  }
  ~child_process() {
    if (out_ >= 0) ::close(out_);
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 40; ++i) {  // 2 s to stop, then SIGKILL
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Reads stdout until a line equal to `line`; false on EOF or after `limit`.
  bool wait_for_line(const std::string& line, std::chrono::milliseconds limit) {
    auto deadline = clock_type::now() + limit;
    std::string buffer;
    while (clock_type::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
      if (::poll(&p, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0) continue;
      char buf[256];
      auto n = ::read(out_, buf, sizeof buf);
      if (n <= 0) return false;
      buffer.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        if (buffer.substr(0, nl) == line) return true;
        buffer.erase(0, nl + 1);
      }
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
};

/// Runs a shell command, its output into `log`; true on exit status 0.
inline bool run(const std::string& command, const std::string& log) {
  return std::system((command + " >>'" + log + "' 2>&1").c_str()) == 0;
}

/// A throwaway PKI made once for the suite by the openssl CLI: a CA and a server
/// certificate for 127.0.0.1/localhost it signed, a certificate for another name
/// signed by the same CA, and an unrelated CA.
struct test_pki {
  temp_dir dir;
  std::string ca, server_cert, server_key, other_name_cert, other_name_key, unrelated_ca;
  std::string log;
  bool ok = false;

  test_pki() {
    log = dir / "openssl.log";
    const std::string d = dir.path.string();
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    auto make_ca = [&](const std::string& name) {
      return run("openssl req -x509 " + ec + " -keyout '" + d + "/" + name + ".key' -out '" + d + "/" + name +
                     ".pem' -days 2 -subj /CN=" + name +
                     " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
                 log);
    };
    auto make_leaf = [&](const std::string& name, const std::string& san) {
      std::ofstream(d + "/" + name + ".ext") << "subjectAltName=" << san
                                             << "\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature"
                                                "\nextendedKeyUsage=serverAuth\n";
      return run("openssl req -new " + ec + " -keyout '" + d + "/" + name + ".key' -out '" + d + "/" + name +
                     ".csr' -subj /CN=" + name,
                 log) &&
             run("openssl x509 -req -in '" + d + "/" + name + ".csr' -CA '" + d + "/ca.pem' -CAkey '" + d +
                     "/ca.key' -CAcreateserial -days 2 -out '" + d + "/" + name + ".pem' -extfile '" + d + "/" +
                     name + ".ext'",
                 log);
    };
    ok = make_ca("ca") && make_ca("unrelated") && make_leaf("server", "IP:127.0.0.1,DNS:localhost") &&
         make_leaf("elsewhere", "DNS:elsewhere.example");
    ca = d + "/ca.pem";
    unrelated_ca = d + "/unrelated.pem";
    server_cert = d + "/server.pem";
    server_key = d + "/server.key";
    other_name_cert = d + "/elsewhere.pem";
    other_name_key = d + "/elsewhere.key";
  }
};

/// tests/support/smtp_server.py on a free port, writing what it receives into its own dir.
class smtp_server {
 public:
  struct options {
    std::string cert, key;
    std::string user, password;  // empty user: no AUTH
    bool plain = false;          // no STARTTLS offered
  };

  explicit smtp_server(const options& o) : port_(free_port()) {
    fs::create_directory(dir_.path / "out");
    std::vector<std::string> argv = {ROSTER_TEST_PYTHON, std::string(ROSTER_SOURCE_DIR) + "/tests/support/smtp_server.py",
                                     "--port", std::to_string(port_), "--out", dir_ / "out"};
    if (o.plain) argv.push_back("--plain");
    else argv.insert(argv.end(), {"--cert", o.cert, "--key", o.key});
    if (!o.user.empty()) argv.insert(argv.end(), {"--user", o.user, "--password", o.password});
    child_.emplace(argv, dir_ / "stderr.log");
    ready_ = child_->wait_for_line("ready", std::chrono::seconds(15));
  }
  bool ready() const { return ready_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::string stderr_text() const { return read_file(dir_ / "stderr.log"); }

  /// Messages received so far (their .json records), in order.
  std::vector<json> messages() const {
    std::vector<json> v;
    for (int n = 1;; ++n) {
      auto path = dir_ / ("out/" + std::to_string(n) + ".json");
      if (!fs::exists(path)) break;
      v.push_back(json::parse(read_file(path)));
    }
    return v;
  }
  std::string raw(int n) const { return read_file(dir_ / ("out/" + std::to_string(n) + ".eml")); }

 private:
  temp_dir dir_;
  int port_;
  std::optional<child_process> child_;  // destroyed (stopped) before dir_ is removed
  bool ready_ = false;
};


} // namespace roster::smtp_fixture
