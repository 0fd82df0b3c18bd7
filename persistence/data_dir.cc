#include "persistence/data_dir.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/clock.h"
#include "persistence/store.h"

namespace roster {

namespace {

namespace fs = std::filesystem;

/// Owner-only: directories 0700, files 0600 (the data dir holds password hashes).
std::error_code make_private(const fs::path& p, bool directory) {
  std::error_code ec;
  fs::permissions(p, directory ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write,
                  fs::perm_options::replace, ec);
  return ec;
}

/// make_private on `root` and everything under it (symlinks are left alone).
std::error_code make_private_tree(const fs::path& root) {
  if (auto ec = make_private(root, true)) return ec;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    auto st = it->symlink_status(ec);
    if (ec) return ec;
    if (fs::is_directory(st) || fs::is_regular_file(st))
      if (auto e = make_private(it->path(), fs::is_directory(st))) return e;
  }
  return ec;
}

/// True if `inner` is `outer` or lies below it (both canonical).
bool within(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

} // namespace

result<data_dir_info> prepare_data_dir(const std::string& dir, uint32_t partitions) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error(errc::internal, "cannot create data dir " + dir + ": " + ec.message());
  // 0700 whether new or not (an older node left it 0755); files inside are
  // created 0600 under the process umask (077, set in main) and are out of
  // other users' reach through this directory either way.
  if (auto e = make_private(dir, true))
    return make_error(errc::internal, "cannot make data dir " + dir + " private (0700): " + e.message());
  if (fs::exists(fs::path(dir) / "db", ec))
    if (auto e = make_private(fs::path(dir) / "db", true))
      return make_error(errc::internal, "cannot make " + dir + "/db private (0700): " + e.message());
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
    make_private(tmp, false);
    fs::rename(tmp, meta, ec);
    if (ec) return make_error(errc::internal, "cannot write " + meta.string());
    // RocksDB would create db/ with 0755 & ~umask; make it ourselves, 0700.
    fs::create_directory(fs::path(dir) / "db", ec);
    if (ec || make_private(fs::path(dir) / "db", true))
      return make_error(errc::internal, "cannot create " + dir + "/db");
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

result<std::string> resolve_backup_target(const std::string& root, const std::string& to) {
  auto bad = [](const std::string& why) {
    error e = make_error(errc::invalid_request, "invalid backup target");
    e.fields["to"] = why;
    return e;
  };
  if (root.empty())
    return make_error(errc::forbidden, "online backups are disabled on this node: set admin.backup_root");
  std::error_code ec;
  fs::path root_real = fs::canonical(root, ec);
  if (ec || !fs::is_directory(root_real, ec))
    return make_error(errc::forbidden, "admin.backup_root " + root + " is not a directory on this node");
  fs::path target(to);
  if (!target.is_absolute()) return bad("must be an absolute path on the node");
  for (auto& part : target)
    if (part == "..") return bad("must not contain '..'");
  target = target.lexically_normal();
  if (!target.has_filename()) target = target.parent_path();  // a trailing '/'
  auto name = target.filename();
  if (name.empty() || name == "." || name == "..") return bad("must name a new directory");
  // The parent with every symlink resolved must still be inside the root: a
  // link under the root pointing elsewhere does not lead out of it.
  fs::path parent_real = fs::canonical(target.parent_path(), ec);
  if (ec || !fs::is_directory(parent_real, ec))
    return bad("its parent must be an existing directory inside admin.backup_root (" + root_real.string() + ")");
  if (!within(parent_real, root_real)) return bad("must be inside admin.backup_root (" + root_real.string() + ")");
  return (parent_real / name).string();
}

result<backup_info> write_backup(store& db, const std::string& dir, const std::string& to) {
  std::error_code ec;
  if (to.empty()) return make_error(errc::invalid_request, "the backup target is empty");
  fs::path target = fs::absolute(fs::path(to), ec).lexically_normal();
  if (ec) return make_error(errc::invalid_request, "bad backup target " + to);
  if (!target.has_filename()) target = target.parent_path();
  // symlink_status: a dangling symlink is "there" too; never write through it.
  if (fs::exists(fs::symlink_status(target, ec)))
    return make_error(errc::already_exists, "backup target " + target.string() + " already exists");
  if (!fs::is_directory(target.parent_path(), ec))
    return make_error(errc::invalid_request, "the parent of backup target " + target.string() + " is not a directory");
  if (!fs::create_directory(target, ec) || ec)
    return make_error(errc::internal, "cannot create " + target.string() + ": " + ec.message());
  auto undo = [&](error e) {
    std::error_code ignored;
    fs::remove_all(target, ignored);
    return e;
  };
  if (auto e = make_private(target, true)) return undo(make_error(errc::internal, "cannot chmod " + target.string()));
  if (auto st = db.checkpoint(db_path(target.string())); !st) return undo(st.err());
  fs::copy_file(fs::path(dir) / "roster.json", target / "roster.json", ec);
  if (ec) return undo(make_error(errc::internal, "cannot copy roster.json into " + target.string() + ": " + ec.message()));
  // Owner-only, whatever the umask: directories 0700, files 0600. (Files
  // hard-linked from the data dir share their mode with it, 0600 as well.)
  if (auto e = make_private_tree(target))
    return undo(make_error(errc::internal, "cannot make " + target.string() + " private: " + e.message()));
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
