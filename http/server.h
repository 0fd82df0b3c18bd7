#pragma once
// The HTTP front end: a tuned cpp-httplib server (thread pool, TCP_NODELAY,
// long keep-alive, listen backlog 1024) whose every route goes through one
// dispatch function: request id, CORS, size limits, route match (404/405),
// handler, catch-all for exceptions (500 without detail), metrics.
#include <memory>
#include <string>

#include "base/errc.h"
#include "http/context.h"

namespace roster::http {

class server {
 public:
  server(services& svc, const http_config& cfg);
  ~server();

  /// Binds the listen address; an error names the address.
  status bind();
  /// The bound port (after bind()).
  int port() const;
  /// Serves until stop() is called (from any thread).
  void run();
  void stop();

 private:
  void listen_loop();
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace roster::http
