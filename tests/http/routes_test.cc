#include "http/routes.h"

#include <gtest/gtest.h>

#include "http/errors.h"

namespace roster::http {
namespace {

TEST(Routes, MatchBindsParametersAndPrefersLiterals) {
  auto routes = build_routes();
  auto m = match(routes, "GET", "/v1/users/abc");
  ASSERT_TRUE(m.found);
  EXPECT_EQ(m.found->pattern, "/v1/users/{id}");
  EXPECT_EQ(m.params["id"], "abc");
  auto cur = match(routes, "DELETE", "/v1/sessions/current");
  ASSERT_TRUE(cur.found);
  EXPECT_EQ(cur.found->pattern, "/v1/sessions/current");
  auto trailing = match(routes, "GET", "/v1/account/");
  EXPECT_TRUE(trailing.found);
}

TEST(Routes, UnknownPathIs404AndWrongMethodIs405) {
  auto routes = build_routes();
  auto none = match(routes, "GET", "/v2/whatever");
  EXPECT_FALSE(none.found);
  EXPECT_FALSE(none.path_known);
  auto wrong = match(routes, "PUT", "/v1/account");
  EXPECT_FALSE(wrong.found);
  EXPECT_TRUE(wrong.path_known);
  EXPECT_EQ(wrong.allowed.size(), 3u);
}

TEST(Errors, EveryCodeHasTheSpecStatus) {
  EXPECT_EQ(status_of(errc::invalid_json), 400);
  EXPECT_EQ(status_of(errc::session_expired), 401);
  EXPECT_EQ(status_of(errc::pending_activation), 403);
  EXPECT_EQ(status_of(errc::username_taken), 409);
  EXPECT_EQ(status_of(errc::payload_too_large), 413);
  EXPECT_EQ(status_of(errc::unsupported_media_type), 415);
  EXPECT_EQ(status_of(errc::rate_limited), 429);
  EXPECT_EQ(status_of(errc::partition_unavailable), 503);
  EXPECT_EQ(status_of(errc::internal), 500);
  EXPECT_EQ(status_of(errc::email_not_verified), 403);
  httplib::Response res;
  error e = make_error(errc::rate_limited, "slow down");
  e.retry_after = 7;
  write_error(res, e);
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.get_header_value("Retry-After"), "7");
  EXPECT_EQ(res.body, R"({"error":{"code":"rate_limited","message":"slow down"}})");
  httplib::Response internal;
  write_error(internal, make_error(errc::internal, "rocksdb: /secret/path corrupted"));
  EXPECT_EQ(internal.body.find("secret"), std::string::npos);
}

} // namespace
} // namespace roster::http

#include <atomic>
#include <chrono>
#include <thread>

#include "http/worker_pool.h"

namespace roster::http {
namespace {

TEST(WorkerPool, GrowsWhenEveryThreadIsHeld) {
  worker_pool pool(2, 64);
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  // Ten jobs that each hold their thread (like keep-alive connections).
  for (int i = 0; i < 10; ++i)
    pool.enqueue([&] {
      ++started;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  for (int i = 0; i < 2000 && started < 10; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(started, 10);  // a fixed pool of 2 would have run only 2
  EXPECT_GE(pool.threads(), 10u);
  release = true;
  pool.shutdown();
}

TEST(WorkerPool, StopsAtItsCeiling) {
  worker_pool pool(1, 3);
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  for (int i = 0; i < 6; ++i)
    pool.enqueue([&] {
      ++started;
      while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  for (int i = 0; i < 5000 && started < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a 4th would have started by now
  EXPECT_EQ(pool.threads(), 3u);
  EXPECT_EQ(started, 3);
  release = true;
  pool.shutdown();
  EXPECT_EQ(started, 6);  // queued jobs still ran before the threads exited
}

} // namespace
} // namespace roster::http
