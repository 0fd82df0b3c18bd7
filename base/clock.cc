#include "base/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace roster {

millis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string format_time(millis t) {
  time_t secs = static_cast<time_t>(t / 1000);
  int ms = static_cast<int>(t % 1000);
  if (ms < 0) { ms += 1000; --secs; }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::optional<millis> parse_time(std::string_view s) {
  // Exactly YYYY-MM-DDTHH:MM:SS, digits where digits go (no signs or spaces).
  if (s.size() < 20) return std::nullopt;
  auto digits = [&](size_t at, size_t n) -> std::optional<int> {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2), mi = digits(14, 2), se = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !se) return std::nullopt;
  int ms = 0;
  std::string_view rest = s.substr(19);
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int count = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (count < 3) ms = ms * 10 + (rest.front() - '0');
      ++count;
      rest.remove_prefix(1);
    }
    if (count == 0) return std::nullopt;
    for (int i = count; i < 3; ++i) ms *= 10;
  }
  if (rest != "Z" && rest != "z" && rest != "+00:00") return std::nullopt;
  // A day the month has; no leap second (timegm would move either to another day).
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*mo < 1 || *mo > 12 || *h > 23 || *mi > 59 || *se > 59) return std::nullopt;
  bool leap = (*y % 4 == 0 && *y % 100 != 0) || *y % 400 == 0;
  int days = month_days[*mo - 1] + (*mo == 2 && leap ? 1 : 0);
  if (*d < 1 || *d > days) return std::nullopt;
  struct tm tm {};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *se;
  return static_cast<millis>(timegm(&tm)) * 1000 + ms;
}

std::optional<millis> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  int64_t n = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (n > 1'000'000'000) return std::nullopt;
    n = n * 10 + (s[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string_view unit = s.substr(i);
  if (unit == "ms") return n;
  if (unit == "s") return n * 1000;
  if (unit == "m") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  if (unit == "d") return n * 86'400'000;
  return std::nullopt;
}

} // namespace roster
