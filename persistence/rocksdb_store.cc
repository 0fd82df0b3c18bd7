#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "persistence/store.h"

namespace roster {

namespace {

error store_error(const rocksdb::Status& s) {
  // The status text names files, not data: safe for the log, never sent to clients.
  return make_error(errc::internal, "store: " + s.ToString());
}

class rocksdb_store final : public store {
 public:
  rocksdb_store(std::unique_ptr<rocksdb::DB> db, bool sync) : db_(std::move(db)) {
    write_options_.sync = sync;
  }

  read_result get(std::string_view key) override {
    std::string value;
    auto s = db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>{};
    if (!s.ok()) return store_error(s);
    return std::optional<std::string>{std::move(value)};
  }

  std::vector<read_result> multi_get(const std::vector<std::string>& keys) override {
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<std::string> values;
    auto statuses = db_->MultiGet(rocksdb::ReadOptions(), slices, &values);
    std::vector<read_result> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) out.emplace_back(std::optional<std::string>{});
      else if (!statuses[i].ok()) out.emplace_back(store_error(statuses[i]));
      else out.emplace_back(std::optional<std::string>{std::move(values[i])});
    }
    return out;
  }

  status write(const write_batch& batch) override {
    rocksdb::WriteBatch wb;
    for (auto& op : batch.ops()) {
      if (op.is_delete) wb.Delete(op.key);
      else wb.Put(op.key, op.value);
    }
    auto s = db_->Write(write_options_, &wb);
    if (!s.ok()) return store_error(s);
    return {};
  }

  status scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    rocksdb::ReadOptions ro;
    rocksdb::Slice upper(end.data(), end.size());
    if (!end.empty()) ro.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    for (it->Seek(rocksdb::Slice(begin.data(), begin.size())); it->Valid(); it->Next()) {
      auto k = it->key();
      auto v = it->value();
      if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) return {};
    }
    // Valid() is false at the end of the range and after a failed read: tell them apart.
    if (!it->status().ok()) return store_error(it->status());
    return {};
  }

  status checkpoint(const std::string& dir) override {
    rocksdb::Checkpoint* cp = nullptr;
    auto s = rocksdb::Checkpoint::Create(db_.get(), &cp);
    if (!s.ok()) return store_error(s);
    std::unique_ptr<rocksdb::Checkpoint> owner(cp);
    s = cp->CreateCheckpoint(dir);
    if (!s.ok()) return store_error(s);
    return {};
  }

  std::map<std::string, uint64_t> stats() override {
    std::map<std::string, uint64_t> out;
    uint64_t v = 0;
    if (db_->GetIntProperty("rocksdb.estimate-num-keys", &v)) out["estimate_num_keys"] = v;
    if (db_->GetIntProperty("rocksdb.estimate-live-data-size", &v)) out["live_data_bytes"] = v;
    if (db_->GetIntProperty("rocksdb.total-sst-files-size", &v)) out["sst_files_bytes"] = v;
    if (db_->GetIntProperty("rocksdb.cur-size-all-mem-tables", &v)) out["memtable_bytes"] = v;
    if (db_->GetIntProperty("rocksdb.block-cache-usage", &v)) out["block_cache_bytes"] = v;
    return out;
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
};

} // namespace

result<std::unique_ptr<store>> open_rocksdb_store(const rocksdb_options& opts) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  o.compression = rocksdb::kLZ4Compression;
  o.write_buffer_size = opts.write_buffer_bytes;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, opts.path, &raw);
  if (!s.ok()) return store_error(s);
  return std::unique_ptr<store>(std::make_unique<rocksdb_store>(std::unique_ptr<rocksdb::DB>(raw), opts.sync_writes));
}

} // namespace roster
