// The floor for bench/: a bare cpp-httplib server answering a 2-byte body,
// tuned exactly like Roster's server (thread pool, TCP_NODELAY, keep-alive,
// backlog). Usage: floor_server PORT THREADS
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdlib>

int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 18080;
  size_t threads = argc > 2 ? static_cast<size_t>(std::atoi(argv[2])) : 96;
  httplib::Server svr;
  int fd_seen = -1;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(1'000'000);
  svr.set_socket_options([&](socket_t fd) {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_seen = fd;
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  // A webhook receiver for bench/messages.sh: any POST, the same 2 bytes.
  svr.Post(".*", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
  if (!svr.bind_to_port("127.0.0.1", port)) return 1;
  if (fd_seen >= 0) ::listen(fd_seen, 1024);
  svr.listen_after_bind();
}
