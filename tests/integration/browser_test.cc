// One real browser against a real node: headless Chromium (Debian's `chromium`,
// installed by scripts/deps) loads tests/support/eventsource_page.html from a
// second loopback port (another origin, so CORS is exercised for real: the
// event stream, the admin preflight and POST), opens an EventSource with a
// ticket, and once it is open sends itself an admin notification, which must
// arrive on the stream (11-46 ms measured; bounded here at 1 s).
//
// chromium --dump-dom dumps the DOM once the page has loaded. An EventSource
// does not delay the load event (and --timeout only cuts a load short), so the
// page, given hold=1, inserts a script from /hold, which this test's page
// server keeps pending until the page POSTs /done with its result written:
// the document keeps loading until then. (--virtual-time-budget would wait too,
// but under virtual time performance.now() is not wall time.)
#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/support/roster_server.h"

using namespace roster::testing;

namespace {

/// Debian's chromium, or ROSTER_TEST_CHROMIUM; empty when it is not there.
std::string chromium_binary() {
  const char* p = std::getenv("ROSTER_TEST_CHROMIUM");
  std::string path = p && *p ? p : "/usr/bin/chromium";
  return ::access(path.c_str(), X_OK) == 0 ? path : "";
}

std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else out += {'%', hex[c >> 4], hex[c & 15]};
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}


/// Serves the page on its own loopback port, with /hold kept pending until /done.
class page_server {
 public:
  page_server() : port_(free_port()) {
    page_ = read_file(ROSTER_SOURCE_DIR "/tests/support/eventsource_page.html");
    server_.Get("/eventsource_page.html", [this](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(page_, "text/html; charset=utf-8");
    });
    server_.Get("/hold", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(20), [this] { return done_; });
      res.set_header("Cache-Control", "no-store");
      res.set_content("", "text/javascript");
    });
    server_.Post("/done", [this](const httplib::Request&, httplib::Response& res) {
      release();
      res.status = 204;
    });
    for (int i = 0; i < 100 && !server_.bind_to_port("127.0.0.1", port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~page_server() {
    release();
    server_.stop();
    thread_.join();
  }
  void release() {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  bool has_page() const { return !page_.empty(); }

 private:
  int port_;
  std::string page_;
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

/// The text of <title> in a dumped DOM, entities of text nodes undone.
std::string title_of(const std::string& dom) {
  auto a = dom.find("<title>"), b = dom.find("</title>");
  if (a == std::string::npos || b == std::string::npos || b < a) return {};
  std::string t = dom.substr(a + 7, b - a - 7);
  for (auto [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&nbsp;", "\xc2\xa0"}, {"&amp;", "&"}})
    for (size_t at = 0; (at = t.find(from, at)) != std::string::npos; at += std::strlen(to))
      t.replace(at, std::strlen(from), to);
  return t;
}

TEST(Browser, ChromiumEventSourceGetsAnAdminNotification) {
  auto chromium = chromium_binary();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/deps installs Debian's chromium)";
  auto started = std::chrono::steady_clock::now();

  page_server page;
  ASSERT_TRUE(page.has_page()) << "tests/support/eventsource_page.html not found";
  roster_server s(env{{"ROSTER_HTTP_CORS_ORIGINS", page.origin()}});
  auto reg = s.register_user("chromium@example.com", "chromium_page");
  ASSERT_EQ(reg.status, 201) << reg.raw;
  auto uid = reg.body["user"]["id"].get<std::string>();
  auto token = reg.body["session"]["token"].get<std::string>();
  auto t = s.as(token, "POST", "/v1/events/ticket");
  ASSERT_EQ(t.status, 201) << t.raw;
  auto ticket = t.body["ticket"].get<std::string>();

  std::string base = "http://127.0.0.1:" + std::to_string(s.port());
  std::string url = page.origin() + "/eventsource_page.html?base=" + url_encode(base) + "&ticket=" + url_encode(ticket) +
                    "&admin=" + url_encode(s.admin_key()) + "&user=" + url_encode(uid) + "&hold=1";
  char tmpl[] = "/tmp/roster-chromium-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  std::string err_file = dir + "/chromium.log";
  // A hard limit: timeout(1) kills a browser that hangs. --timeout stops a load that
  // never ends (the page then shows WAITING or ERROR).
  std::string cmd = "timeout -k 5 60 " + chromium + " --headless=new --no-sandbox --disable-gpu --no-first-run" +
                    " --disable-sync --disable-component-update --user-data-dir=" + dir + "/profile" +
                    " --timeout=20000 --dump-dom '" + url + "' 2>" + err_file;
  auto browser_started = std::chrono::steady_clock::now();
  auto [code, dom] = run_command(cmd);
  auto browser_secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - browser_started).count();
  std::string browser_log = read_file(err_file);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(code, 0) << "chromium exited " << code << "\n" << browser_log;

  auto title = title_of(dom);
  ASSERT_EQ(title.rfind("RESULT ", 0), 0u) << "the page says: " << title << "\n" << browser_log << "\n" << s.log();
  auto result = json::parse(title.substr(7), nullptr, false);
  ASSERT_TRUE(result.is_object()) << title;
  EXPECT_EQ(result["title"], "from-chromium") << title;
  EXPECT_EQ(result["type"], "notification") << title;
  EXPECT_EQ(result["user_id"], uid) << title;
  auto last_id = result.value("last_event_id", std::string());
  ASSERT_TRUE(std::regex_match(last_id, std::regex("[1-9][0-9]*"))) << "lastEventId " << last_id;
  EXPECT_EQ(result["seq"], std::stoull(last_id)) << title;
  ASSERT_TRUE(result["elapsed_ms"].is_number()) << title;
  double elapsed = result["elapsed_ms"].get<double>();
  EXPECT_GE(elapsed, 0);
  // Measured at 11-46 ms here; the figure is printed and recorded, and the
  // bound only catches a stream that stalls: a timed assertion at 100 ms
  // would fail a loaded CI machine now and then (bench/messages.sh measures
  // the latency's p99 under load).
  EXPECT_LT(elapsed, 1000) << "open to notification took " << elapsed << " ms";
  RecordProperty("elapsed_ms", std::to_string(elapsed));
  auto version = run_command(chromium + " --version 2>/dev/null").second;
  std::printf("[ browser  ] %s[ browser  ] the page: %s\n[ browser  ] stream open -> notification in %.1f ms; "
              "chromium ran %.2f s\n", version.c_str(), title.c_str(), elapsed, browser_secs);

  // The ticket was spent by the browser's stream: a second use is refused.
  auto cli = s.client();
  cli.set_read_timeout(5, 0);
  auto again = cli.Get(("/v1/events?ticket=" + url_encode(ticket)).c_str());
  ASSERT_TRUE(again) << "no answer to the second use of the ticket";
  EXPECT_EQ(again->status, 401) << again->body;
  std::printf("[ browser  ] whole test %.2f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

} // namespace
