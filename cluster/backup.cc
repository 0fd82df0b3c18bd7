#include "cluster/backup.h"

#include <spdlog/spdlog.h>

#include "actors/env.h"
#include "cluster/context.h"
#include "cluster/runtime.h"
#include "domain/validation.h"
#include "persistence/data_dir.h"

namespace roster {

online_backup::online_backup(node_runtime& rt) : rt_(rt) {}

result<std::string> online_backup::take(const std::string& to) {
  auto& config = rt_.config();
  auto& ctx = *rt_.context();
  auto& env = *ctx.env;
  auto target = resolve_backup_target(config.admin.backup_root, to);
  if (!target) {
    spdlog::warn("backup: refused target {}: {}", log_safe(to), log_safe(target.err().message));
    return target.err();
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto snap = ctx.snapshot();
  auto started = now_ms();
  auto info = write_backup(*env.db, config.store.data_dir, *target);
  if (!info) return info.err();
  auto took = now_ms() - started;
  nlohmann::json out = {{"node", env.node_name},
                        {"path", info->path},
                        {"files", info->files},
                        {"bytes", info->bytes},
                        {"epoch", snap->epoch},
                        {"partitions_owned", env.partitions_served()},
                        {"handoffs_in_progress", snap->view.moves().size()},
                        {"taken_at", format_time(started)},
                        {"took_ms", took}};
  spdlog::info("backup: {} files, {} bytes written to {} in {} ms", info->files, info->bytes, log_safe(info->path), took);
  return out.dump();
}

} // namespace roster
