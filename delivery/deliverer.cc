#include "delivery/deliverer.h"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/json_text.h"
#include "domain/message_text.h"
#include "domain/validation.h"

namespace roster {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

struct upload {
  const std::string* data;
  size_t at = 0;
};
size_t read_upload(char* buf, size_t size, size_t n, void* user) {
  auto* u = static_cast<upload*>(user);
  size_t len = std::min(size * n, u->data->size() - u->at);
  std::memcpy(buf, u->data->data() + u->at, len);
  u->at += len;
  return len;
}

int abort_if_stopping(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* stopping = static_cast<const std::atomic<bool>*>(user);
  return stopping && stopping->load(std::memory_order_relaxed) ? 1 : 0;
}

/// The address inside "Name <addr>", or the whole value.
std::string address_of(const std::string& from) {
  auto open = from.find('<');
  auto close = from.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) return from.substr(open + 1, close - open - 1);
  return from;
}

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string curl_failure(CURLcode rc) { return std::string("send failed: ") + curl_easy_strerror(rc); }

} // namespace

delivery_config delivery_config_of(const node_config& c) {
  delivery_config d;
  d.messages_dir = c.store.data_dir + "/messages";
  d.mail = c.mail;
  d.sms = c.sms;
  d.webhook_secret = c.webhooks.secret;
  return d;
}

deliverer::deliverer(const delivery_config& cfg, const std::atomic<bool>* stopping)
    : cfg_(cfg), stopping_(stopping) {
  global_init();
  curl_ = curl_easy_init();
}

deliverer::~deliverer() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void deliverer::common_options() {
  auto* c = static_cast<CURL*>(curl_);
  curl_easy_reset(c);  // options only: the connection cache stays
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(cfg_.connect_timeout));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(cfg_.timeout));
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_if_stopping);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(stopping_));
}

delivery_outcome deliverer::deliver(const outbox_entry& e) {
  if (!curl_) return {false, "libcurl could not be initialised"};
  switch (e.kind) {
    case outbox_kind::webhook: return post(e.to, e.text, e);
    case outbox_kind::email: return cfg_.mail.sender == "smtp" ? smtp(e) : to_file(e);
    case outbox_kind::sms: {
      if (cfg_.sms.sender != "webhook") return to_file(e);
      json_text body(128 + e.text.size());
      body.open_object()
          .key("delivery_id").string(outbox_id_text(e.id))
          .key("purpose").string(e.purpose)
          .key("text").string(e.text)
          .key("to").string(e.to)
          .close_object();
      return post(cfg_.sms.webhook_url, body.take(), e);
    }
  }
  return {false, "unknown kind"};
}

delivery_outcome deliverer::post(const std::string& url, const std::string& body, const outbox_entry& e) {
  common_options();
  auto* c = static_cast<CURL*>(curl_);
  curl_slist* headers = nullptr;
  auto add = [&](const std::string& h) { headers = curl_slist_append(headers, h.c_str()); };
  add("Content-Type: application/json");
  add("X-Roster-Delivery-Id: " + outbox_id_text(e.id));
  add("X-Roster-Event: " + e.purpose);
  add("X-Roster-Signature: " + webhook_signature(cfg_.webhook_secret, unix_now(), body));
  add("Expect:");  // no 100-continue round trip
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "roster-webhooks/1");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  auto rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) return {false, curl_failure(rc)};
  if (status < 200 || status > 299) return {false, "receiver answered HTTP " + std::to_string(status)};
  return {true, {}};
}

delivery_outcome deliverer::smtp(const outbox_entry& e) {
  common_options();
  auto* c = static_cast<CURL*>(curl_);
  auto message = mime_message(outbox_id_text(e.id), cfg_.mail.from, e.to, e.subject, e.text, e.html, unix_now());
  upload up{&message};
  curl_slist* rcpt = curl_slist_append(nullptr, ("<" + e.to + ">").c_str());
  curl_easy_setopt(c, CURLOPT_URL, cfg_.mail.smtp_url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  // smtp://: STARTTLS or no send at all; smtps://: TLS from the first byte.
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  if (!cfg_.mail.smtp_ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, cfg_.mail.smtp_ca_file.c_str());
  if (!cfg_.mail.smtp_user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, cfg_.mail.smtp_user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, cfg_.mail.smtp_password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, ("<" + address_of(cfg_.mail.from) + ">").c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  auto rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, nullptr);
  curl_slist_free_all(rcpt);
  if (rc != CURLE_OK) return {false, curl_failure(rc)};
  return {true, {}};
}

delivery_outcome deliverer::to_file(const outbox_entry& e) {
  // The log sender: the message in a file a developer opens (it holds the
  // code or link), and a log line that says where — never the body itself.
  ::mkdir(cfg_.messages_dir.c_str(), 0700);
  auto path = cfg_.messages_dir + "/" + outbox_id_text(e.id) + (e.kind == outbox_kind::email ? ".eml.txt" : ".sms.txt");
  std::string content = "To: " + e.to + "\n";
  if (e.kind == outbox_kind::email) content += "Subject: " + e.subject + "\n";
  content += "Purpose: " + e.purpose + "\nDelivery-Id: " + outbox_id_text(e.id) + "\n\n" + e.text + "\n";
  if (!e.html.empty()) content += "\n--- HTML ---\n" + e.html + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return {false, std::string("cannot write the message file: ") + std::strerror(errno)};
  size_t at = 0;
  while (at < content.size()) {
    auto n = ::write(fd, content.data() + at, content.size() - at);
    if (n <= 0) {
      ::close(fd);
      return {false, std::string("cannot write the message file: ") + std::strerror(errno)};
    }
    at += static_cast<size_t>(n);
  }
  ::close(fd);
  spdlog::info("{} to {} ({}) written to {} by the log sender", e.kind == outbox_kind::email ? "mail" : "sms",
               log_safe(e.to), log_safe(e.purpose), path);
  return {true, {}};
}

} // namespace roster
