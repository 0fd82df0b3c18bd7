#pragma once
// Test support: a real HTTP receiver of Roster's webhooks on 127.0.0.1. It
// checks each call's X-Roster-Signature with OpenSSL's HMAC (not Roster's
// code), records every delivery, and answers `status` (settable while it
// runs). Stopped and started again on the same port, it plays a receiver
// that goes down and comes back.
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace roster::testing {

struct delivery {
  std::string id;     // X-Roster-Delivery-Id
  std::string event;  // X-Roster-Event
  std::string body;
  bool signature_ok = false;
  int answered = 0;
};

class webhook_receiver {
 public:
  webhook_receiver(int port, std::string secret) : port_(port), secret_(std::move(secret)) {}
  ~webhook_receiver() { stop(); }

  void start() {
    server_ = std::make_unique<httplib::Server>();
    // A thread per connection for every sender thread Roster may run (each
    // keeps its connection alive): httplib's default pool is smaller.
    server_->new_task_queue = [] { return new httplib::ThreadPool(80); };
    server_->Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      delivery d;
      d.id = req.get_header_value("X-Roster-Delivery-Id");
      d.event = req.get_header_value("X-Roster-Event");
      d.body = req.body;
      d.signature_ok = verify(req.get_header_value("X-Roster-Signature"), req.body);
      d.answered = status.load();
      res.status = d.answered;
      std::lock_guard<std::mutex> lock(mutex_);
      all_.push_back(std::move(d));
    });
    auto* s = server_.get();
    // Bound before start() returns: a send right after finds it listening.
    for (int i = 0; i < 100 && !s->bind_to_port("127.0.0.1", port_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    thread_ = std::thread([s] { s->listen_after_bind(); });
  }

  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  std::vector<delivery> deliveries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return all_;
  }
  /// Deliveries answered 2xx, each id once.
  std::vector<delivery> accepted() const {
    std::vector<delivery> out;
    std::set<std::string> seen;
    for (auto& d : deliveries())
      if (d.answered >= 200 && d.answered < 300 && seen.insert(d.id).second) out.push_back(d);
    return out;
  }
  /// Waits until `pred(accepted())` holds or `timeout` passes.
  bool wait_for(const std::function<bool(const std::vector<delivery>&)>& pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      if (pred(accepted())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return pred(accepted());
  }

  std::atomic<int> status{200};
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hooks"; }

 private:
  /// "t=<unix>,v1=<hex>": HMAC-SHA256(secret, "<t>.<body>"), t within 5 minutes.
  bool verify(const std::string& header, const std::string& body) const {
    auto comma = header.find(",v1=");
    if (header.rfind("t=", 0) != 0 || comma == std::string::npos) return false;
    auto t = header.substr(2, comma - 2);
    auto given = header.substr(comma + 4);
    long long when = 0;
    try {
      when = std::stoll(t);
    } catch (...) {
      return false;
    }
    if (std::llabs(static_cast<long long>(std::time(nullptr)) - when) > 300) return false;
    std::string signed_text = t + "." + body;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char*>(signed_text.data()), signed_text.size(), mac, &len);
    static const char* hex = "0123456789abcdef";
    std::string expected;
    for (unsigned i = 0; i < len; ++i) {
      expected.push_back(hex[mac[i] >> 4]);
      expected.push_back(hex[mac[i] & 15]);
    }
    return expected == given;
  }

  int port_;
  std::string secret_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<delivery> all_;
};

} // namespace roster::testing
