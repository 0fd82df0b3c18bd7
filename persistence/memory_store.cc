#include <map>
#include <mutex>

#include "persistence/store.h"

namespace roster {

namespace {

/// std::map + mutex. Checkpoints are not supported.
class memory_store final : public store {
 public:
  read_result get(std::string_view key) override {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = data_.find(std::string(key));
    if (it == data_.end()) return std::optional<std::string>{};
    return std::optional<std::string>{it->second};
  }

  std::vector<read_result> multi_get(const std::vector<std::string>& keys) override {
    std::vector<read_result> out;
    out.reserve(keys.size());
    for (auto& k : keys) out.push_back(get(k));
    return out;
  }

  status write(const write_batch& batch) override {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& op : batch.ops()) {
      if (op.is_delete) data_.erase(op.key);
      else data_[op.key] = op.value;
    }
    return {};
  }

  status scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    // Copy the range first so that `fn` may call back into the store.
    std::vector<std::pair<std::string, std::string>> range;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = data_.lower_bound(std::string(begin));
      for (; it != data_.end() && (end.empty() || it->first < end); ++it) range.emplace_back(*it);
    }
    for (auto& [k, v] : range)
      if (!fn(k, v)) return {};
    return {};
  }

  status checkpoint(const std::string&) override {
    return make_error(errc::internal, "memory store has no checkpoints");
  }

  std::map<std::string, uint64_t> stats() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return {{"estimate_num_keys", data_.size()}};
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> data_;
};

} // namespace

std::unique_ptr<store> make_memory_store() { return std::make_unique<memory_store>(); }

} // namespace roster
