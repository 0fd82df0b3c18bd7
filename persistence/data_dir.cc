#include "persistence/data_dir.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "domain/clock.h"

namespace roster {

result<data_dir_info> prepare_data_dir(const std::string& dir, uint32_t partitions) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(errc::internal, "cannot create data dir " + dir + ": " + ec.message());
  fs::path meta = fs::path(dir) / "roster.json";
  if (!fs::exists(meta)) {
    if (fs::exists(fs::path(dir) / "db"))
      return make_error(errc::internal, "data dir " + dir + " has a db/ but no roster.json");
    nlohmann::json j = {{"format_version", data_format_version},
                        {"partitions", partitions},
                        {"created_at", format_time(now_ms())}};
    fs::path tmp = fs::path(dir) / "roster.json.tmp";
    {
      std::ofstream out(tmp);
      out << j.dump(2) << "\n";
      if (!out) return make_error(errc::internal, "cannot write " + tmp.string());
    }
    fs::rename(tmp, meta, ec);
    if (ec) return make_error(errc::internal, "cannot write " + meta.string());
    return data_dir_info{data_format_version, partitions};
  }
  std::ifstream in(meta);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("partitions") || !j.contains("format_version"))
    return make_error(errc::internal, meta.string() + " is not a Roster data dir description");
  data_dir_info info;
  info.format_version = j["format_version"].get<int>();
  info.partitions = j["partitions"].get<uint32_t>();
  if (info.format_version != data_format_version)
    return make_error(errc::internal, "data dir " + dir + " has format version " +
                                          std::to_string(info.format_version) + ", this build reads " +
                                          std::to_string(data_format_version));
  if (info.partitions != partitions)
    return make_error(errc::internal, "data dir " + dir + " was created with " +
                                          std::to_string(info.partitions) +
                                          " partitions; cluster.partitions is " + std::to_string(partitions) +
                                          " (the count can never change)");
  return info;
}

} // namespace roster
