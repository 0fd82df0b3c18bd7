#pragma once
// Prometheus metrics (prometheus-cpp registry, text format served by our own
// httplib server at /metrics): request counts and latency by route and status,
// live user actors, store sizes.
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace roster::http {

class metrics {
 public:
  metrics();
  ~metrics();
  /// Records one finished request. `route` is the route pattern, never the raw path.
  void observe(const std::string& method, const std::string& route, int status, double seconds);
  /// Figures of the HTTP edge, sampled at each render as roster_http_edge{figure}.
  void watch_edge(std::function<std::map<std::string, uint64_t>()> sample);
  /// Prometheus text exposition, with the given gauges sampled now.
  std::string render(int64_t live_user_actors, const std::map<std::string, uint64_t>& store_stats,
                     const std::map<std::string, uint64_t>& cluster_stats = {},
                     const std::map<std::string, uint64_t>& outbox_stats = {},
                     const std::map<std::string, uint64_t>& moderation_stats = {});

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace roster::http
