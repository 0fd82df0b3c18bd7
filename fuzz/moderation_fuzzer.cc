// Reports and the moderation queue (domain/moderation.cc). The first byte
// picks the mode:
//   0: parse_report(body)      — POST /v1/reports, a client's JSON
//   1: parse_resolve(body)     — POST /v1/admin/moderation/queue/{id}/resolve
//   2: decode_entry(bytes)     — a queue entry read back from the store
//   3: decode_report(bytes) / decode_report_made(bytes)
// Parsing never throws; "accepted" means the documented limits hold; a
// decoded entry re-encodes to a fixed point, renders as JSON and ranks
// consistently with its sort key; reports folded into it keep its counts.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/moderation.h"
#include "domain/validation.h"
#include "fuzz/fuzz_check.h"

using namespace roster;
using namespace roster::moderation;

namespace {

bool word(const std::string& s) {
  if (s.empty() || s.size() > max_category) return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) return false;
  return true;
}

void reports(std::string_view text) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded()) return;
  auto r = parse_report(body);
  if (!r) {
    FUZZ_CHECK(r.err().code == errc::invalid_request);
    return;
  }
  FUZZ_CHECK(word(r->category));
  FUZZ_CHECK(r->reason.size() <= max_reason && valid_utf8(r->reason) && !has_control_chars(r->reason));
  FUZZ_CHECK(r->user_id.size() == 36);
}

void decisions(std::string_view text) {
  auto body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded()) return;
  auto d = parse_resolve(body);
  if (!d) {
    FUZZ_CHECK(d.err().code == errc::invalid_request);
    return;
  }
  FUZZ_CHECK(d->action == "ban" || d->action == "warn" || d->action == "clean");
  FUZZ_CHECK(d->action == "clean" || !d->reason.empty());
  FUZZ_CHECK(d->duration >= 0 && (d->duration == 0 || d->action == "ban"));
  FUZZ_CHECK(d->reason.size() <= max_reason && valid_utf8(d->reason));
}

void entries(std::string_view bytes, FuzzedDataProvider& in) {
  auto e = decode_entry(bytes);
  if (!e) return;
  auto once = encode_entry(*e);
  auto back = decode_entry(once);
  FUZZ_CHECK(back && encode_entry(*back) == once);
  flag_rule rule{in.ConsumeIntegralInRange<uint64_t>(0, 8), in.ConsumeIntegralInRange<millis>(1, 1LL << 40)};
  millis now = in.ConsumeIntegralInRange<millis>(0, 1LL << 45);
  // What the queue renders is JSON (names and categories came from the store).
  if (valid_utf8(e->username) && valid_utf8(e->user_id)) {
    bool text_ok = true;
    for (auto& [c, n] : e->categories) text_ok = text_ok && valid_utf8(c);
    if (e->last) text_ok = text_ok && valid_utf8(e->last->action) && valid_utf8(e->last->by) && valid_utf8(e->last->reason);
    if (text_ok) FUZZ_CHECK(!nlohmann::json::parse(queue_item(*e, now, rule), nullptr, false).is_discarded());
  }
  FUZZ_CHECK(flagged(*e, now, rule) == (rule.distinct_reporters > 0 && e->pending > 0 &&
                                        recent_reporters(*e, now, rule) >= rule.distinct_reporters));
  auto a = rank_of(*e, flagged(*e, now, rule));
  FUZZ_CHECK(sort_key(a).size() == sort_key_size);
  auto before_pending = e->pending;
  auto reporters = e->reporters.size();
  add_report(*e, report{"r", "", "spam", "", now});
  FUZZ_CHECK(e->pending == before_pending + 1 && e->reporters.size() <= reporters + 1 && e->reporters.count("r"));
  resolve(*e, decision{"clean", "", "ops", now});
  FUZZ_CHECK(e->pending == 0 && e->reporters.empty() && e->last && e->last->reports == before_pending + 1);
}

void stored_reports(std::string_view bytes) {
  if (auto r = decode_report(bytes)) {
    auto back = decode_report(encode_report(*r));
    FUZZ_CHECK(back && back->reporter_id == r->reporter_id && back->at == r->at && back->category == r->category);
  }
  if (auto m = decode_report_made(bytes)) {
    auto back = decode_report_made(encode_report_made(*m));
    FUZZ_CHECK(back && back->username == m->username && back->at == m->at);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // byte 0: the mode; bytes 1-16: the knobs (rule, time); the rest: the text.
  if (size < 17) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 17, size - 17);
  FuzzedDataProvider k(data + 1, 16);
  switch (data[0] % 4) {
    case 0: reports(text); break;
    case 1: decisions(text); break;
    case 2: entries(text, k); break;
    default: stored_reports(text); break;
  }
  return 0;
}
