#include "persistence/store.h"

namespace roster {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c != 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return end;
}

status store::scan_prefix(std::string_view prefix, const std::function<bool(std::string_view, std::string_view)>& fn) {
  return scan(prefix, prefix_end(prefix), fn);
}

} // namespace roster
