// The handoff chunk codec (cluster/chunk.h): the bytes a peer node sends when
// a partition moves. decode() must reject malformed input as a whole and
// never read past the end; what it accepts re-encodes to the same bytes, and
// what append() writes decodes to the same entries.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/chunk.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view blob(reinterpret_cast<const char*>(data), size);
  if (auto entries = chunk::decode(blob)) {
    std::string again;
    for (auto& e : *entries) {
      std::optional<std::string_view> v;
      if (e.value) v = *e.value;
      chunk::append(again, e.key, v);
    }
    FUZZ_CHECK(again == blob);
  }

  FuzzedDataProvider in(data, size);
  std::vector<chunk::entry> written;
  std::string out;
  while (in.remaining_bytes() > 0 && written.size() < 64) {
    chunk::entry e;
    e.key = in.ConsumeRandomLengthString(64);
    if (in.ConsumeBool()) e.value = in.ConsumeRandomLengthString(256);
    std::optional<std::string_view> v;
    if (e.value) v = *e.value;
    chunk::append(out, e.key, v);
    written.push_back(std::move(e));
  }
  auto read = chunk::decode(out);
  FUZZ_CHECK(read && read->size() == written.size());
  for (size_t i = 0; i < written.size(); ++i)
    FUZZ_CHECK((*read)[i].key == written[i].key && (*read)[i].value == written[i].value);
  return 0;
}
