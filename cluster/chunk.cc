#include "cluster/chunk.h"

namespace roster::chunk {

namespace {
void put_u32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
bool get_u32(std::string_view& in, uint32_t& v) {
  if (in.size() < 4) return false;
  v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(4);
  return true;
}
bool get_bytes(std::string_view& in, std::string& out) {
  uint32_t n = 0;
  if (!get_u32(in, n) || in.size() < n) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}
} // namespace

void append(std::string& out, std::string_view key, const std::optional<std::string_view>& value) {
  out.push_back(value ? 'p' : 'd');
  put_u32(out, static_cast<uint32_t>(key.size()));
  out.append(key);
  if (value) {
    put_u32(out, static_cast<uint32_t>(value->size()));
    out.append(*value);
  }
}

std::optional<std::vector<entry>> decode(std::string_view in) {
  std::vector<entry> out;
  while (!in.empty()) {
    char op = in.front();
    in.remove_prefix(1);
    entry e;
    if ((op != 'p' && op != 'd') || !get_bytes(in, e.key)) return std::nullopt;
    if (op == 'p') {
      std::string v;
      if (!get_bytes(in, v)) return std::nullopt;
      e.value = std::move(v);
    }
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace roster::chunk
