#include "cluster/handoff.h"

#include <spdlog/spdlog.h>

#include "cluster/node_protocol.h"
#include "cluster/chunk.h"
#include "persistence/keys.h"

namespace roster {

namespace {

constexpr size_t chunk_bytes = 256 * 1024;
constexpr auto chunk_timeout = std::chrono::seconds(30);
// Once sealed, the partition serves nobody until the switch: if the target
// stops answering then, give up quickly and reopen it here.
constexpr auto sealed_chunk_timeout = std::chrono::seconds(3);

void set_progress(cluster_context& ctx, uint32_t p, const std::string& to, const char* phase, uint64_t keys,
                  uint64_t bytes) {
  std::lock_guard<std::mutex> lock(ctx.progress_mutex);
  auto& h = ctx.outgoing[p];
  if (h.started_at == 0) h.started_at = now_ms();
  h.to = to;
  h.phase = phase;
  h.keys = keys;
  h.bytes = bytes;
}

} // namespace

void handoff_sender(caf::blocking_actor* self, std::shared_ptr<cluster_context> ctx, node_actor_hdl node,
                    node_actor_hdl target, uint32_t p, std::string to) {
  auto& fence = *ctx->fence;
  auto part = static_cast<uint16_t>(p);
  auto started = now_ms();
  uint64_t keys = 0, bytes = 0, caught_up = 0, rounds = 0;
  bool sealed = false;
  bool ok = true;
  fence.track(part);
  set_progress(*ctx, p, to, "copying", 0, 0);

  auto send = [&](std::string& blob, bool reset) {
    bool good = false;
    bytes += blob.size();
    self->request(target, sealed ? sealed_chunk_timeout : chunk_timeout,
                  handoff_chunk{ctx->env->credential, p, reset, blob})
      .receive([&](done) { good = true; },
               [&](caf::error& e) { spdlog::warn("handoff {}: chunk failed: {}", p, caf::to_string(e)); });
    blob.clear();
    return good;
  };
  auto send_keys = [&](const std::set<std::string>& dirty) {
    std::string blob;
    for (auto& k : dirty) {
      auto v = fence.get(k);
      // A key that could not be read is not a deleted key: stop; the
      // coordinator retries the handoff later.
      if (!v) {
        spdlog::error("handoff {}: cannot read a key written during the copy: {}", p, v.err().message);
        return false;
      }
      chunk::append(blob, k, v->has_value() ? std::optional<std::string_view>(**v) : std::nullopt);
      ++keys;
      if (blob.size() >= chunk_bytes && !send(blob, false)) return false;
    }
    return blob.empty() || send(blob, false);
  };

  // 1. The range copy, one chunk at a time.
  auto cursor = keys::partition_prefix(part);
  auto end = prefix_end(cursor);
  for (bool first = true; ok;) {
    std::string blob, last;
    bool more = false;
    uint64_t n = 0;
    auto scanned = fence.scan(cursor, end, [&](std::string_view k, std::string_view v) {
      chunk::append(blob, k, v);
      last.assign(k);
      ++n;
      if (blob.size() >= chunk_bytes) {
        more = true;
        return false;
      }
      return true;
    });
    keys += n;
    if (!scanned) {
      spdlog::error("handoff {}: the range copy stopped on a read error: {}", p, scanned.err().message);
      ok = false;
      break;
    }
    ok = send(blob, first);
    first = false;
    set_progress(*ctx, p, to, "copying", keys, bytes);
    if (!more) break;
    cursor = last + '\0';
  }
  // 2. The writes made during the copy, until few are left.
  for (int round = 0; ok && round < 8; ++round) {
    auto dirty = fence.take_dirty(part);
    set_progress(*ctx, p, to, "catching_up", keys, bytes);
    if (dirty.empty()) break;
    ok = send_keys(dirty);
    caught_up += dirty.size();
    ++rounds;
    if (dirty.size() < 64) break;
  }
  // 3. Seal, 4. the last writes.
  if (ok) {
    self->request(node, chunk_timeout, seal_partition{ctx->env->credential, p})
      .receive([&](bool done) { ok = sealed = done; }, [&](caf::error&) { ok = false; });
    set_progress(*ctx, p, to, "sealed", keys, bytes);
    if (ok) {
      auto last = fence.take_dirty(part);
      ok = send_keys(last);
      caught_up += last.size();
    }
  }
  fence.untrack(part);
  auto ms = now_ms() - started;
  {
    std::lock_guard<std::mutex> lock(ctx->progress_mutex);
    ctx->outgoing.erase(p);
    ctx->finished.push_back({{"partition", p}, {"to", to}, {"ok", ok}, {"keys", keys}, {"bytes", bytes},
                             {"caught_up_keys", caught_up}, {"catch_up_rounds", rounds},
                             {"millis", ms}, {"finished_at", format_time(now_ms())}});
    if (ctx->finished.size() > 32) ctx->finished.erase(ctx->finished.begin());
  }
  if (!ok) {
    spdlog::warn("handoff of partition {} to {} failed after {} ms; it stays here and will be retried", p, to, ms);
    // The node actor reopens p (if it was sealed) when it hears of the failure.
    self->send(node, handoff_failed{ctx->env->credential, p});
    return;
  }
  spdlog::info("handoff of partition {} to {}: {} keys ({} written during the copy), {} bytes in {} ms", p, to, keys,
               caught_up, bytes, ms);
  self->send(node, partition_moved{ctx->env->credential, p, to});
}

status receive_chunk(fenced_store& fence, uint32_t p, bool reset, const std::string& blob) {
  auto entries = chunk::decode(blob);
  if (!entries) return make_error(errc::invalid_request, "malformed chunk");
  auto part = static_cast<uint16_t>(p);
  write_batch b;
  for (auto& e : *entries) {
    if (e.key.size() < 2 || keys::partition_of_key(e.key) != part)
      return make_error(errc::invalid_request, "key outside the partition");
    if (e.value) b.put(std::move(e.key), std::move(*e.value));
    else b.remove(std::move(e.key));
  }
  if (reset) fence.erase_partition(part);
  if (auto s = fence.import(b); !s) return make_error(errc::internal, "store");
  return {};
}

} // namespace roster
