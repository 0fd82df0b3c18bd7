// The config loader (config/config.cc) on a hostile TOML document:
// load_config_text runs the same steps as load_config on a file (toml++
// parse, key table walk, typed values, validation). Lines after a line
// "#flags" are not TOML but `section.key=value` flags, which go through the
// textual path that environment variables and --set flags take.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/config.h"
#include "fuzz/fuzz_check.h"

using namespace roster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view toml_text = in, flag_text;
  if (auto cut = in.find("#flags\n"); cut != std::string_view::npos) {
    toml_text = in.substr(0, cut);
    flag_text = in.substr(cut + 7);
  }
  std::map<std::string, std::string> flags;
  while (!flag_text.empty()) {
    auto nl = flag_text.find('\n');
    auto line = flag_text.substr(0, nl);
    flag_text = nl == std::string_view::npos ? std::string_view() : flag_text.substr(nl + 1);
    if (auto eq = line.find('='); eq != std::string_view::npos)
      flags[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  std::vector<std::string> warnings;
  auto c = load_config_text(toml_text, "fuzz.toml", {}, flags, &warnings);
  if (!c) {
    FUZZ_CHECK(!c.err().message.empty());
    return 0;
  }
  // Accepted means validated.
  FUZZ_CHECK(c->http.threads >= 2 && c->http.threads <= 10000);
  FUZZ_CHECK(!c->admin.keys.empty() && !c->store.data_dir.empty());
  FUZZ_CHECK(c->cluster.partitions >= 1 && c->cluster.partitions <= 4096);
  FUZZ_CHECK(c->auth.session_ttl > 0 && c->actors.idle_passivation >= 100);
  // Integers land unchanged in their (narrower) fields.
  auto t = toml::parse(toml_text);
  if (auto v = t["http"]["threads"].value_exact<int64_t>(); v && !flags.count("http.threads"))
    FUZZ_CHECK(*v == c->http.threads);
  if (auto v = t["auth"]["max_failed_logins"].value_exact<int64_t>(); v && !flags.count("auth.max_failed_logins"))
    FUZZ_CHECK(*v == c->auth.max_failed_logins);
  return 0;
}
