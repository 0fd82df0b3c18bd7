#include "http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

#include "base/crypto.h"
#include "domain/validation.h"
#include "http/errors.h"
#include "http/metrics.h"
#include "http/routes.h"
#include "http/edge.h"
#include "http/worker_pool.h"

namespace roster::http {

namespace {

// Ceiling of the elastic worker pool: beyond this many requests in progress
// at once, further ones wait for a free thread (idle connections hold none).
constexpr size_t max_http_threads = 2048;

/// cpp-httplib's server with its per-connection loop replaced: an accepted
/// socket goes to the edge (http/edge.h), which reads whole requests on one
/// thread and has a worker run each through httplib's parser
/// (process_request) and our handlers.
/// Set on a worker when its answer ends the connection (a refusal before the
/// body, an answer httplib produced for a malformed request): httplib's own
/// flag only reflects the request's Connection header.
thread_local bool close_after_answer = false;

class edge_server final : public httplib::Server {
 public:
  std::function<void(int)> adopt;
  bool serve_one(httplib::Stream& s, bool& closed) {
    close_after_answer = false;
    bool ok = process_request(s, false, closed, nullptr);
    closed = closed || close_after_answer;
    return ok;
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    adopt(sock);
    return true;
  }
};

/// httplib's accept loop hands each socket to its task queue: this one runs
/// the hand-off (edge::adopt, a few microseconds) on the accept thread.
class inline_queue final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

/// For a route that takes no body (route::bodiless) and got one: true if it
/// is `{}`; otherwise writes the 400 (or 415) and returns false.
bool empty_body(context& c) {
  auto body = c.body();
  if (!body) {
    write_error(c.res, body.err());
    return false;
  }
  if (body->empty()) return true;
  error e = make_error(errc::invalid_request, "this endpoint takes no body");
  for (auto& item : body->items()) e.fields[item.key()] = "unknown field";
  write_error(c.res, e);
  return false;
}

std::string request_id_of(const httplib::Request& req) {
  auto given = req.get_header_value("X-Request-Id");
  if (!given.empty() && given.size() <= 128 &&
      std::all_of(given.begin(), given.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    return given;
  // Unique and cheap (no CSPRNG call per request): a random prefix per
  // process, then a counter passed through a keyed bijection on 48 bits so
  // that ids do not reveal the node's request rate.
  static const std::string prefix = hex_encode(random_bytes(6));
  static const uint64_t key = [] {
    auto b = random_bytes(8);
    uint64_t k = 0;
    for (unsigned char c : b) k = (k << 8) | c;
    return k;
  }();
  static std::atomic<uint64_t> next{0};
  constexpr uint64_t mask = (uint64_t{1} << 48) - 1;
  uint64_t n = (next.fetch_add(1, std::memory_order_relaxed) ^ key) & mask;
  n = (n * 0x9E3779B97F4Bull) & mask;  // odd: invertible mod 2^48
  n ^= n >> 24;
  n = (n * 0xBF58476D1CE5ull) & mask;
  n ^= (key >> 16) & mask;
  std::string id = prefix;
  id.resize(prefix.size() + 12);
  for (size_t i = id.size(); i-- > prefix.size(); n >>= 4) id[i] = "0123456789abcdef"[n & 15];
  return id;
}

/// The User-Agent as stored with a session: valid UTF-8 (bad bytes become
/// U+FFFD), at most 512 bytes cut at a character boundary. (Control
/// characters never get this far: the edge refuses them in any header.)
std::string user_agent_of(const httplib::Request& req) { return utf8_clean(req.get_header_value("User-Agent"), 512); }

errc errc_for_status(int status) {
  switch (status) {
    case 404: return errc::not_found;
    case 405: return errc::method_not_allowed;
    case 411: return errc::length_required;
    case 413: return errc::payload_too_large;
    case 415: return errc::unsupported_media_type;
    case 429: return errc::rate_limited;
    case 503: return errc::partition_unavailable;
    default: return status >= 500 ? errc::internal : errc::invalid_request;
  }
}

} // namespace

struct server::impl {
  services& svc;
  http_config cfg;
  std::unique_ptr<httplib::Server> http;
  std::unique_ptr<worker_pool> workers;  // plaintext: runs the requests the edge has read
  std::unique_ptr<edge> front;
  std::vector<route> routes = build_routes();
  std::atomic<int> listen_fd{-1};
  std::atomic<bool> stopping{false};
  int bound_port = 0;

  impl(services& s, const http_config& c) : svc(s), cfg(c) {
    auto threads = static_cast<size_t>(cfg.threads);
    if (!cfg.tls_cert.empty()) {
      // HTTPS keeps httplib's own connection loop (a worker per open
      // connection, its read timeouts): terminate TLS in front of the node
      // for the edge's protections (docs/operations.md, "Security").
      http = std::make_unique<httplib::SSLServer>(cfg.tls_cert.c_str(), cfg.tls_key.c_str());
      http->new_task_queue = [threads] { return new worker_pool(threads, max_http_threads); };
    } else {
      auto srv = std::make_unique<edge_server>();
      workers = std::make_unique<worker_pool>(threads, max_http_threads);
      edge_limits limits;
      limits.head_timeout = cfg.head_timeout;
      limits.max_body = static_cast<size_t>(cfg.max_body_bytes);
      limits.max_connections = cfg.max_connections;
      // Past the descriptor limit, accept() fails before any cap could answer
      // (and the store and cluster links need descriptors too): keep a reserve.
      if (rlimit r{}; ::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
        auto room = static_cast<int64_t>(r.rlim_cur) - 512;
        if (limits.max_connections > room) {
          limits.max_connections = std::max<int64_t>(room, 16);
          spdlog::warn("http.max_connections is {}, but this process may open {} descriptors: serving at most {} "
                       "connections (raise the descriptor limit, e.g. LimitNOFILE=, to allow more)",
                       cfg.max_connections, r.rlim_cur, limits.max_connections);
        }
      }
      limits.max_per_address = cfg.max_connections_per_address;
      auto* raw = srv.get();
      front = std::make_unique<edge>(limits, [raw](httplib::Stream& s, bool& closed) { return raw->serve_one(s, closed); },
                                     *workers);
      srv->adopt = [this](int fd) { front->adopt(fd); };
      svc.stats.watch_edge([this] {
        auto& s = front->stats();
        return std::map<std::string, uint64_t>{
          {"open_connections", static_cast<uint64_t>(s.open.load())},
          {"refused_over_cap", static_cast<uint64_t>(s.refused_over_cap.load())},
          {"head_timeouts", static_cast<uint64_t>(s.head_timeouts.load())},
          {"heads_too_large", static_cast<uint64_t>(s.heads_too_large.load())},
          {"bad_heads", static_cast<uint64_t>(s.bad_heads.load())},
          {"worker_threads", workers->threads()}};
      });
      srv->new_task_queue = [] { return new inline_queue; };
      http = std::move(srv);
    }
    http->set_tcp_nodelay(true);
    http->set_keep_alive_max_count(1'000'000);
    http->set_keep_alive_timeout(5);
    http->set_read_timeout(5, 0);
    http->set_write_timeout(5, 0);
    http->set_payload_max_length(static_cast<size_t>(cfg.max_body_bytes));
    http->set_socket_options([this](socket_t fd) {
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      listen_fd = fd;
    });
    http->set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return pre_route(req, res);
    });
    auto entry = [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res); };
    // Every path, a decoded newline in it too ("." stops at one): the route
    // table decides, so /v1/account/metadata/a%0a is the key's 400, not a 404.
    const char* any = "[\\s\\S]*";
    http->Get(any, entry);
    http->Post(any, entry);
    http->Put(any, entry);
    http->Patch(any, entry);
    http->Delete(any, entry);
    http->Options(any, entry);
    http->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      // Only for answers httplib produced itself (bad request line, header
      // block too large, 413 from its own limit...): give them our shape.
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
      close_after_answer = true;  // what follows a malformed request is not one either
      res.set_header("Connection", "close");
      res.set_header("X-Request-Id", request_id_of(req));
      write_error(res, errc_for_status(res.status), res.status == 413 ? "body too large" : "malformed request");
      return httplib::Server::HandlerResponse::Handled;
    }));
    http->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
      write_error(res, errc::internal, "internal error");
    });
  }

  /// Runs after the headers are read and BEFORE the body is: refuse bodies
  /// we will not read.
  httplib::Server::HandlerResponse pre_route(const httplib::Request& req, httplib::Response& res) {
    auto refuse = [&](errc code, const std::string& msg) {
      res.set_header("X-Request-Id", request_id_of(req));
      res.set_header("Connection", "close");
      close_after_answer = true;
      write_error(res, code, msg);
      svc.stats.observe(req.method, "(refused)", res.status, 0);
      return httplib::Server::HandlerResponse::Handled;
    };
    if (req.has_header("Content-Length")) {
      auto text = req.get_header_value("Content-Length");
      char* end = nullptr;
      auto len = std::strtoull(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0') return refuse(errc::invalid_request, "bad Content-Length");
      if (len > static_cast<uint64_t>(cfg.max_body_bytes))
        return refuse(errc::payload_too_large, "body exceeds " + std::to_string(cfg.max_body_bytes) + " bytes");
      // Every body is JSON (SPEC §2): refuse others before reading them.
      if (len > 0 && !is_json_media_type(req.get_header_value("Content-Type")))
        return refuse(errc::unsupported_media_type, "Content-Type must be application/json");
    }
    auto te = req.get_header_value("Transfer-Encoding");
    if (!te.empty() && te != "identity")
      return refuse(errc::length_required, "chunked request bodies are not accepted; send Content-Length");
    // No body to read (most GETs, and a bodiless POST that httplib itself would
    // reject as malformed): dispatch right here, skipping httplib's regex routing.
    if (!req.has_header("Content-Length") || req.get_header_value("Content-Length") == "0") {
      dispatch(req, res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  }

  void cors(const httplib::Request& req, httplib::Response& res) {
    if (cfg.cors_origins.empty()) return;
    auto origin = req.get_header_value("Origin");
    if (origin.empty()) return;
    bool any = std::find(cfg.cors_origins.begin(), cfg.cors_origins.end(), "*") != cfg.cors_origins.end();
    if (!any && std::find(cfg.cors_origins.begin(), cfg.cors_origins.end(), origin) == cfg.cors_origins.end()) return;
    res.set_header("Access-Control-Allow-Origin", any ? "*" : origin);
    res.set_header("Vary", "Origin");
    res.set_header("Access-Control-Expose-Headers", "X-Request-Id, Retry-After");
  }

  void dispatch(const httplib::Request& req, httplib::Response& res) {
    auto start = std::chrono::steady_clock::now();
    res.set_header("X-Request-Id", request_id_of(req));
    cors(req, res);
    auto m = match(routes, req.method == "HEAD" ? "GET" : req.method, req.path);
    std::string route_name = m.found ? m.found->pattern : "(unmatched)";
    if (req.method == "OPTIONS" && m.path_known) {
      // CORS preflight.
      std::string allow;
      for (auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
      res.set_header("Allow", allow);
      res.set_header("Access-Control-Allow-Methods", allow);
      res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Admin-Key, X-Request-Id");
      res.set_header("Access-Control-Max-Age", "600");
      res.status = 204;
    } else if (!m.found) {
      if (m.path_known) {
        std::string allow;
        for (auto& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
        res.set_header("Allow", allow);
        write_error(res, errc::method_not_allowed, req.method + " is not allowed here");
      } else {
        write_error(res, errc::not_found, "no such endpoint");
      }
    } else {
      context c{req, res, svc, std::move(m.params), client_info{req.remote_addr, user_agent_of(req)}};
      try {
        if (!m.found->bodiless || req.body.empty() || empty_body(c)) m.found->fn(c);
      } catch (const std::exception& e) {
        spdlog::error("handler {} {} threw: {}", log_safe(req.method), route_name, log_safe(e.what()));
        res.headers.erase("Retry-After");
        write_error(res, errc::internal, "internal error");
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    svc.stats.observe(req.method, route_name, res.status, secs);
    SPDLOG_DEBUG("{} {} {} {:.3f}ms", req.method, route_name, res.status, secs * 1000);
  }
};

server::server(services& svc, const http_config& cfg) : impl_(std::make_unique<impl>(svc, cfg)) {}
server::~server() { stop(); }

status server::bind() {
  auto colon = impl_->cfg.listen.rfind(':');
  std::string host = impl_->cfg.listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(impl_->cfg.listen.substr(colon + 1));
  } catch (...) {
    return make_error(errc::invalid_request, "http.listen: bad port in " + impl_->cfg.listen);
  }
  if (port == 0) {
    impl_->bound_port = impl_->http->bind_to_any_port(host.c_str());
  } else {
    impl_->bound_port = impl_->http->bind_to_port(host.c_str(), port) ? port : -1;
  }
  if (impl_->bound_port <= 0) return make_error(errc::internal, "cannot listen on " + impl_->cfg.listen);
  // httplib listens with a backlog of 5; a burst of connections would be
  // dropped. Re-listen with a real backlog.
  if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 1024);
  return {};
}

int server::port() const { return impl_->bound_port; }

void server::run() {
  listen_loop();
  // No more connections: close the idle ones, finish the requests in progress.
  if (impl_->front) impl_->front->stop();
  if (impl_->workers) impl_->workers->shutdown();
}

void server::listen_loop() {
  // cpp-httplib 0.11 closes its listening socket and returns when accept()
  // fails with anything but EMFILE (a reset in the backlog, EINTR): rather
  // than let one such error end the node, listen again on the same port.
  for (int attempt = 0; !impl_->stopping;) {
    impl_->http->listen_after_bind();
    if (impl_->stopping) return;
    int err = errno;
    auto host = impl_->cfg.listen.substr(0, impl_->cfg.listen.rfind(':'));
    spdlog::error("http: the listener stopped ({}); listening again on port {}", std::strerror(err), impl_->bound_port);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (impl_->stopping) return;
    if (!impl_->http->bind_to_port(host.c_str(), impl_->bound_port)) {
      if (++attempt > 100) {
        spdlog::critical("http: cannot listen on port {} again; stopping", impl_->bound_port);
        return;
      }
      continue;
    }
    if (impl_->listen_fd >= 0) ::listen(impl_->listen_fd, 1024);
  }
}

void server::stop() {
  if (!impl_) return;
  impl_->stopping = true;
  if (impl_->http && impl_->http->is_running()) impl_->http->stop();
  // Also when the listener has not started yet (a signal during start-up):
  // its accept loop then ends at once.
  else if (impl_->listen_fd >= 0) ::shutdown(impl_->listen_fd, SHUT_RDWR);
}

} // namespace roster::http
