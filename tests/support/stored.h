#pragma once
// Test support: the value of a store read that must succeed (a failed read
// fails the test instead of passing for "absent").
#include <gtest/gtest.h>

#include <atomic>

#include "persistence/store.h"

namespace roster::testing {

inline std::optional<std::string> stored(const read_result& r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? std::string() : r.err().message);
  return r.ok() ? r.value() : std::nullopt;
}

} // namespace roster::testing

namespace roster::testing {

/// A store whose reads fail while `failing` is set (a disk error, as RocksDB
/// would report it): for the callers that must not take "could not read" for
/// "absent". Writes pass through, but for `failing_writes`.
class faulty_store final : public store {
 public:
  explicit faulty_store(store& inner) : inner_(inner) {}
  std::atomic<bool> failing{false};

  read_result get(std::string_view key) override {
    if (failing) return make_error(errc::internal, "store: IO error (injected)");
    return inner_.get(key);
  }
  std::vector<read_result> multi_get(const std::vector<std::string>& keys) override {
    if (failing) return std::vector<read_result>(keys.size(), read_result(make_error(errc::internal, "injected")));
    return inner_.multi_get(keys);
  }
  /// While set, a batch that writes under `write_fail_prefix` fails (set the
  /// prefix first): one user's writes fail, the others' pass.
  std::atomic<bool> failing_writes{false};
  std::string write_fail_prefix;

  status write(const write_batch& b) override {
    if (failing_writes)
      for (auto& op : b.ops())
        if (op.key.rfind(write_fail_prefix, 0) == 0) return make_error(errc::internal, "store: IO error (injected)");
    return inner_.write(b);
  }
  status scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    if (failing) return make_error(errc::internal, "store: IO error (injected)");
    return inner_.scan(begin, end, fn);
  }
  status checkpoint(const std::string& dir) override { return inner_.checkpoint(dir); }
  std::map<std::string, uint64_t> stats() override { return inner_.stats(); }

 private:
  store& inner_;
};

} // namespace roster::testing
