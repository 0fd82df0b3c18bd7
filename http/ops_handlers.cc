// Liveness, readiness and metrics: unauthenticated, cheap, never touch actors
// beyond reading counters.
#include "http/errors.h"
#include "http/metrics.h"
#include "http/routes.h"

namespace roster::http::handlers {

void healthz(context& c) { write_json(c.res, 200, R"({"status":"ok"})"); }

void readyz(context& c) {
  bool store_ok = !c.svc.views.store_stats().empty();
  bool ready = store_ok && c.svc.views.ready();
  nlohmann::json j = {{"status", ready ? "ready" : "not_ready"},
                      {"store", store_ok},
                      {"partitions_owned", c.svc.views.partitions_owned()},
                      {"node", c.svc.views.node_name()}};
  if (ready) {
    write_json(c.res, 200, j.dump());
  } else {
    c.res.set_header("Retry-After", "1");
    write_json(c.res, 503, j.dump());
  }
}

void metrics(context& c) {
  c.res.status = 200;
  c.res.set_content(c.svc.stats.render(c.svc.views.live_user_actors(), c.svc.views.store_stats(), c.svc.views.cluster_stats(),
                                       c.svc.views.outbox_stats(), c.svc.views.moderation_stats()),
                    "text/plain; version=0.0.4");
}

} // namespace roster::http::handlers
