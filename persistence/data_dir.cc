#include "persistence/data_dir.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "domain/clock.h"
#include "persistence/store.h"

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

result<backup_info> write_backup(store& db, const std::string& dir, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (to.empty()) return make_error(errc::invalid_request, "the backup target is empty");
  fs::path target = fs::absolute(fs::path(to), ec).lexically_normal();
  if (ec) return make_error(errc::invalid_request, "bad backup target " + to);
  if (!target.has_filename()) target = target.parent_path();
  if (fs::exists(target, ec)) return make_error(errc::already_exists, "backup target " + target.string() + " already exists");
  if (!fs::is_directory(target.parent_path(), ec))
    return make_error(errc::invalid_request, "the parent of backup target " + target.string() + " is not a directory");
  if (!fs::create_directory(target, ec) || ec)
    return make_error(errc::internal, "cannot create " + target.string() + ": " + ec.message());
  auto undo = [&](error e) {
    std::error_code ignored;
    fs::remove_all(target, ignored);
    return e;
  };
  if (auto st = db.checkpoint(db_path(target.string())); !st) return undo(st.err());
  fs::copy_file(fs::path(dir) / "roster.json", target / "roster.json", ec);
  if (ec) return undo(make_error(errc::internal, "cannot copy roster.json into " + target.string() + ": " + ec.message()));
  backup_info info{target.string()};
  for (auto it = fs::recursive_directory_iterator(target, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    info.files += 1;
    info.bytes += it->file_size(ec);
  }
  return info;
}

} // namespace roster
