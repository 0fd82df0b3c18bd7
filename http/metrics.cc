#include "http/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <unordered_map>

namespace roster::http {

struct metrics::impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Counter>& requests =
    prometheus::BuildCounter().Name("roster_http_requests_total").Help("HTTP requests by route and status").Register(*registry);
  prometheus::Family<prometheus::Histogram>& latency = prometheus::BuildHistogram()
                                                         .Name("roster_http_request_duration_seconds")
                                                         .Help("HTTP request latency by route and status")
                                                         .Register(*registry);
  prometheus::Family<prometheus::Gauge>& actors =
    prometheus::BuildGauge().Name("roster_live_user_actors").Help("User actors alive on this node").Register(*registry);
  prometheus::Family<prometheus::Gauge>& store =
    prometheus::BuildGauge().Name("roster_store").Help("Store size figures (RocksDB properties)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& cluster =
    prometheus::BuildGauge().Name("roster_cluster").Help("Cluster figures as this node sees them").Register(*registry);
  prometheus::Family<prometheus::Gauge>& edge =
    prometheus::BuildGauge().Name("roster_http_edge").Help("HTTP edge: connections, refusals, workers").Register(*registry);
  prometheus::Family<prometheus::Gauge>& outbox = prometheus::BuildGauge()
                                                   .Name("roster_outbox")
                                                   .Help("Notification sender: pending, in flight, dead letters, oldest age, sends")
                                                   .Register(*registry);
  prometheus::Family<prometheus::Gauge>& moderation =
    prometheus::BuildGauge()
      .Name("roster_moderation_queue")
      .Help("Moderation queue of the partitions this node serves: users with pending reports (depth), flagged, pending reports")
      .Register(*registry);
  std::function<std::map<std::string, uint64_t>()> edge_sample;

  // prometheus-cpp's Add() takes a lock and hashes labels; cache the series.
  std::mutex mutex;
  std::unordered_map<std::string, std::pair<prometheus::Counter*, prometheus::Histogram*>> series;
};

metrics::metrics() : impl_(std::make_unique<impl>()) {}
metrics::~metrics() = default;

void metrics::observe(const std::string& method, const std::string& route, int status, double seconds) {
  std::string key = method + ' ' + route + ' ' + std::to_string(status);
  // Each HTTP thread keeps its own copy of the series pointers, so the hot
  // path takes no shared lock; the registry owns the series for its lifetime.
  thread_local const impl* owner = nullptr;
  thread_local std::unordered_map<std::string, std::pair<prometheus::Counter*, prometheus::Histogram*>> local;
  if (owner != impl_.get()) {
    local.clear();
    owner = impl_.get();
  }
  if (auto hit = local.find(key); hit != local.end()) {
    hit->second.first->Increment();
    hit->second.second->Observe(seconds);
    return;
  }
  std::pair<prometheus::Counter*, prometheus::Histogram*> s;
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    auto it = impl_->series.find(key);
    if (it == impl_->series.end()) {
      std::map<std::string, std::string> labels{{"method", method}, {"route", route}, {"status", std::to_string(status)}};
      auto& c = impl_->requests.Add(labels);
      auto& h = impl_->latency.Add(labels, prometheus::Histogram::BucketBoundaries{
                                             0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
      it = impl_->series.emplace(key, std::make_pair(&c, &h)).first;
    }
    s = it->second;
  }
  local.emplace(key, s);
  s.first->Increment();
  s.second->Observe(seconds);
}

void metrics::watch_edge(std::function<std::map<std::string, uint64_t>()> sample) {
  impl_->edge_sample = std::move(sample);
}

std::string metrics::render(int64_t live_user_actors, const std::map<std::string, uint64_t>& store_stats,
                            const std::map<std::string, uint64_t>& cluster_stats,
                            const std::map<std::string, uint64_t>& outbox_stats,
                            const std::map<std::string, uint64_t>& moderation_stats) {
  impl_->actors.Add({}).Set(static_cast<double>(live_user_actors));
  for (auto& [k, v] : store_stats) impl_->store.Add({{"figure", k}}).Set(static_cast<double>(v));
  for (auto& [k, v] : cluster_stats) impl_->cluster.Add({{"figure", k}}).Set(static_cast<double>(v));
  for (auto& [k, v] : outbox_stats) impl_->outbox.Add({{"figure", k}}).Set(static_cast<double>(v));
  for (auto& [k, v] : moderation_stats) impl_->moderation.Add({{"figure", k}}).Set(static_cast<double>(v));
  if (impl_->edge_sample)
    for (auto& [k, v] : impl_->edge_sample()) impl_->edge.Add({{"figure", k}}).Set(static_cast<double>(v));
  return prometheus::TextSerializer().Serialize(impl_->registry->Collect());
}

} // namespace roster::http
