#pragma once
// Sends one outbox entry (SPEC §5) through the sender config names:
//   email    mail.sender = log   a log line and a file under <data_dir>/messages
//                          smtp  libcurl SMTP: STARTTLS required on smtp://, TLS on smtps://
//   sms      sms.sender  = log   as for email
//                          webhook  a signed POST of {delivery_id, to, text, purpose} to sms.webhook_url
//   webhook                      a signed POST of the event to the entry's URL
// A webhook call carries X-Roster-Delivery-Id (the entry's id: the same on
// every retry, so a receiver de-duplicates an at-least-once delivery),
// X-Roster-Event and X-Roster-Signature (domain/outbox.h); a mail carries the
// id as its Message-ID. Blocking: run only on the notification sender's own
// threads (delivery/sender_pool.h), never on a CAF scheduler thread.
#include <atomic>
#include <string>

#include "config/config.h"
#include "domain/outbox.h"

namespace roster {

struct delivery_config {
  std::string messages_dir;  // the log sender's files; created 0700 on first use
  mail_config mail;
  sms_config sms;
  std::string webhook_secret;
  millis connect_timeout = 5'000;
  millis timeout = 10'000;  // a whole send
};

delivery_config delivery_config_of(const node_config& c);

struct delivery_outcome {
  bool ok = false;
  std::string error;  // why not (never a secret: no body, no credentials, no URL)
};

/// One sender's connection state (a libcurl handle that keeps its connections
/// alive between sends). Not thread-safe: one per thread.
class deliverer {
 public:
  /// `stopping`, when set, aborts a send in progress (shutdown).
  deliverer(const delivery_config& cfg, const std::atomic<bool>* stopping = nullptr);
  ~deliverer();
  deliverer(const deliverer&) = delete;
  deliverer& operator=(const deliverer&) = delete;

  delivery_outcome deliver(const outbox_entry& e);

 private:
  delivery_outcome post(const std::string& url, const std::string& body, const outbox_entry& e);
  delivery_outcome smtp(const outbox_entry& e);
  delivery_outcome to_file(const outbox_entry& e);
  void common_options();

  const delivery_config& cfg_;
  const std::atomic<bool>* stopping_;
  void* curl_;
};

} // namespace roster
