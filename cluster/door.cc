#include "cluster/door.h"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace roster {

std::vector<uint64_t> door_closes(std::vector<door_connection> open, const door_policy& p) {
  std::vector<uint64_t> out;
  std::vector<door_connection> kept;
  for (auto& c : open) (c.silent_for > p.silent_limit ? out.push_back(c.inode) : kept.push_back(c));
  if (kept.size() > static_cast<size_t>(p.max_connections)) {
    std::stable_sort(kept.begin(), kept.end(),
                     [](const door_connection& a, const door_connection& b) { return a.first_seen < b.first_seen; });
    for (size_t i = static_cast<size_t>(p.max_connections); i < kept.size(); ++i) out.push_back(kept[i].inode);
  }
  return out;
}

namespace {

uint16_t local_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&a)->sin6_port);
  return 0;
}

} // namespace

size_t cluster_door::sweep() {
  auto now = now_ms();
  struct seen {
    int fd;
    door_connection c;
  };
  std::vector<seen> found;
  DIR* dir = ::opendir("/proc/self/fd");
  if (!dir) return 0;
  while (auto* e = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (*end != '\0' || fd < 0 || fd == ::dirfd(dir)) continue;
    // Our own reference to the socket, so a descriptor closed and reused
    // meanwhile cannot make us shut down something else.
    int own = ::fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 0);
    if (own < 0) continue;
    struct stat st {};
    int type = 0, listening = 0;
    socklen_t len = sizeof type;
    bool accepted = ::fstat(own, &st) == 0 && S_ISSOCK(st.st_mode) &&
                    ::getsockopt(own, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM &&
                    (len = sizeof listening, ::getsockopt(own, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0) &&
                    !listening && local_port(own) == port_;
    tcp_info info{};
    socklen_t ilen = sizeof info;
    if (!accepted || ::getsockopt(own, IPPROTO_TCP, TCP_INFO, &info, &ilen) != 0 || info.tcpi_state != TCP_ESTABLISHED) {
      ::close(own);
      continue;
    }
    auto inode = static_cast<uint64_t>(st.st_ino);
    auto [it, fresh] = first_seen_.emplace(inode, now);
    (void)fresh;
    found.push_back({own, {inode, it->second, static_cast<millis>(info.tcpi_last_data_recv)}});
  }
  ::closedir(dir);

  std::vector<door_connection> open;
  for (auto& s : found) open.push_back(s.c);
  auto close = door_closes(open, policy_);
  std::set<uint64_t> to_close(close.begin(), close.end());
  std::set<uint64_t> alive;
  size_t closed = 0;
  for (auto& s : found) {
    if (to_close.count(s.c.inode)) {
      ::shutdown(s.fd, SHUT_RDWR);  // the middleman sees the end and drops it
      ++closed;
    } else {
      alive.insert(s.c.inode);
    }
    ::close(s.fd);
  }
  for (auto it = first_seen_.begin(); it != first_seen_.end();)
    it = alive.count(it->first) ? std::next(it) : first_seen_.erase(it);
  if (closed > 0) {
    closed_total_ += closed;
    spdlog::warn("cluster: closed {} connection(s) on the cluster port that were silent for over {} ms or over the "
                 "cap of {} ({} open)", closed, policy_.silent_limit, policy_.max_connections, found.size());
  }
  return closed;
}

} // namespace roster
