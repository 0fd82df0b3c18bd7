#pragma once
// Time helpers. Domain code never reads the clock itself: callers pass `now`
// (milliseconds since the Unix epoch) so that rules are testable.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roster {

using millis = int64_t;

/// Wall clock, milliseconds since the epoch. Only actors and http/ call it.
millis now_ms();

/// RFC 3339 UTC with milliseconds: 2026-11-25T03:30:00.123Z.
std::string format_time(millis t);

/// Parses the format above (and without milliseconds); nullopt if malformed.
std::optional<millis> parse_time(std::string_view s);

/// Parses durations such as "30d", "7d", "20m", "15m", "24h", "90s", "500ms".
std::optional<millis> parse_duration(std::string_view s);

} // namespace roster
