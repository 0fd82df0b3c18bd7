// kill -9 under a write load, restart on the same data dir: every write that
// was acknowledged is there.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

struct acked {
  std::string user_id;
  std::string token;
  int level = -1;  // last acknowledged metadata.level
};

TEST(Crash, Kill9UnderWriteLoadLosesNoAcknowledgedWrite) {
  char tmpl[] = "/tmp/roster-crash-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::vector<acked> done;
  std::mutex mutex;
  {
    roster_server s({}, dir);
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        for (int i = 0; !stop && i < 100'000; ++i) {
          auto r = s.call("POST", "/v1/sessions/device",
                          {{"device_id", "crash-device-" + std::to_string(w) + "-" + std::to_string(i)}});
          if (r.status != 201) continue;  // the node died mid-request: not acknowledged
          acked a{r.body["user"]["id"], r.body["session"]["token"], -1};
          for (int level = 1; level <= 3 && !stop; ++level) {
            auto p = s.as(a.token, "PATCH", "/v1/account", {{"metadata", {{"level", level}}}});
            if (p.status == 200) a.level = level;
            else break;
          }
          std::lock_guard<std::mutex> lock(mutex);
          done.push_back(a);
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    s.kill9();
    stop = true;
    for (auto& t : writers) t.join();
    ASSERT_GT(done.size(), 20u);
    s.start();
    int checked = 0;
    for (auto& a : done) {
      auto me = s.as(a.token, "GET", "/v1/account");
      ASSERT_EQ(me.status, 200) << "acknowledged user " << a.user_id << " lost: " << me.raw;
      if (a.level > 0) {
        // A later, unacknowledged write may also have landed: never less than acked.
        ASSERT_GE(me.body["metadata"].value("level", 0), a.level) << a.user_id;
      }
      ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(done.size()));
  }
  std::filesystem::remove_all(dir);
}

} // namespace
