// One contract, two stores: the RocksDB store (real, in a temp dir) and the
// in-memory fake must behave the same.
#include <gtest/gtest.h>

#include "tests/support/stored.h"
#include <unistd.h>

#include <filesystem>

#include "persistence/data_dir.h"
#include "persistence/keys.h"
#include "persistence/store.h"

namespace roster {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/roster-store-XXXXXX";
  return ::mkdtemp(tmpl);
}

struct rocksdb_factory {
  std::string dir = temp_dir();
  std::unique_ptr<store> make() { return std::move(*open_rocksdb_store({dir + "/db", false})); }
  ~rocksdb_factory() { std::filesystem::remove_all(dir); }
};
struct memory_factory {
  std::unique_ptr<store> make() { return make_memory_store(); }
};

template <class Factory>
class StoreContract : public ::testing::Test {
 protected:
  Factory factory;
  std::unique_ptr<store> db = factory.make();
};

using factories = ::testing::Types<rocksdb_factory, memory_factory>;
TYPED_TEST_SUITE(StoreContract, factories);

TYPED_TEST(StoreContract, GetPutRemove) {
  auto& db = *this->db;
  EXPECT_FALSE(testing::stored(db.get("k")));
  write_batch b;
  b.put("k", "v");
  ASSERT_TRUE(db.write(b));
  EXPECT_EQ(testing::stored(db.get("k")), "v");
  write_batch d;
  d.remove("k");
  ASSERT_TRUE(db.write(d));
  EXPECT_FALSE(testing::stored(db.get("k")));
}

TYPED_TEST(StoreContract, BatchesApplyInOrder) {
  auto& db = *this->db;
  write_batch b;
  b.put("a", "1");
  b.put("b", "2");
  b.remove("a");
  b.put("c", std::string("\0x", 2));
  ASSERT_TRUE(db.write(b));
  EXPECT_FALSE(testing::stored(db.get("a")));
  EXPECT_EQ(testing::stored(db.get("b")), "2");
  EXPECT_EQ(testing::stored(db.get("c")), std::string("\0x", 2));
  auto many = db.multi_get({"a", "b", "c", "zz"});
  ASSERT_EQ(many.size(), 4u);
  EXPECT_FALSE(testing::stored(many[0]));
  EXPECT_EQ(testing::stored(many[1]), "2");
  EXPECT_FALSE(testing::stored(many[3]));
}

TYPED_TEST(StoreContract, ScansArePartitionRanges) {
  auto& db = *this->db;
  write_batch b;
  std::string uid(16, '\x07');
  for (uint16_t p : {0, 1, 2, 255, 256}) {
    b.put(keys::user_record(p, uid), "u" + std::to_string(p));
    b.put(keys::session(p, uid, std::string(16, 's')), "s");
  }
  b.put(keys::meta("format"), "1");
  ASSERT_TRUE(db.write(b));
  std::vector<std::string> seen;
  db.scan_prefix(keys::partition_prefix(1), [&](std::string_view k, std::string_view v) {
    EXPECT_EQ(keys::partition_of_key(k), 1);
    seen.emplace_back(v);
    return true;
  });
  EXPECT_EQ(seen.size(), 2u);
  int in_range = 0;
  db.scan(keys::partition_prefix(1), keys::partition_prefix(256), [&](std::string_view, std::string_view) {
    ++in_range;
    return true;
  });
  EXPECT_EQ(in_range, 6);  // partitions 1, 2 and 255
  int first_only = 0;
  db.scan("", "", [&](std::string_view, std::string_view) { return ++first_only < 3; });
  EXPECT_EQ(first_only, 3);
  // partition 256 sorts after 255 (big-endian)
  EXPECT_LT(keys::partition_prefix(255), keys::partition_prefix(256));
}

TEST(RocksdbStore, SurvivesReopenAndCheckpoints) {
  auto dir = temp_dir();
  {
    auto db = std::move(*open_rocksdb_store({dir + "/db", true}));
    write_batch b;
    b.put("durable", "yes");
    ASSERT_TRUE(db->write(b));
    ASSERT_TRUE(db->checkpoint(dir + "/snap"));
    EXPECT_FALSE(db->checkpoint(dir + "/snap"));  // target exists
    EXPECT_TRUE(db->stats().count("estimate_num_keys"));
  }
  auto again = std::move(*open_rocksdb_store({dir + "/db", false}));
  EXPECT_EQ(testing::stored(again->get("durable")), "yes");
  auto snap = std::move(*open_rocksdb_store({dir + "/snap", false}));
  EXPECT_EQ(testing::stored(snap->get("durable")), "yes");
  std::filesystem::remove_all(dir);
}

TEST(DataDir, RecordsThePartitionCountAndRefusesAnother) {
  auto dir = temp_dir() + "/data";
  auto first = prepare_data_dir(dir, 64);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->partitions, 64u);
  EXPECT_TRUE(std::filesystem::exists(dir + "/roster.json"));
  EXPECT_TRUE(prepare_data_dir(dir, 64));
  auto other = prepare_data_dir(dir, 128);
  ASSERT_FALSE(other);
  EXPECT_NE(other.err().message.find("64"), std::string::npos);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST(DataDir, BackupIsAStartableDataDirAndRefusesBadTargets) {
  auto root = temp_dir();
  auto dir = root + "/data";
  ASSERT_TRUE(prepare_data_dir(dir, 64));
  auto db = std::move(*open_rocksdb_store({db_path(dir), false}));
  write_batch b;
  b.put("unsynced", "in the memtable only");  // sync off: the checkpoint must flush it
  ASSERT_TRUE(db->write(b));

  auto info = write_backup(*db, dir, root + "/copy/");
  ASSERT_TRUE(info) << info.err().message;
  EXPECT_EQ(info->path, root + "/copy");
  EXPECT_GT(info->files, 1u);
  EXPECT_GT(info->bytes, 0u);
  EXPECT_TRUE(prepare_data_dir(root + "/copy", 64));  // roster.json came along
  EXPECT_EQ(testing::stored(std::move(*open_rocksdb_store({db_path(root + "/copy"), false}))->get("unsynced")), "in the memtable only");

  auto again = write_backup(*db, dir, root + "/copy");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.err().code, errc::already_exists);
  auto orphan = write_backup(*db, dir, root + "/no/such/parent");
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.err().code, errc::invalid_request);
  // A checkpoint that fails leaves nothing behind.
  auto memory = make_memory_store();
  EXPECT_FALSE(write_backup(*memory, dir, root + "/from-memory"));
  EXPECT_FALSE(std::filesystem::exists(root + "/from-memory"));
  std::filesystem::remove_all(root);
}

} // namespace
} // namespace roster

#include "persistence/fenced_store.h"
#include "persistence/keys.h"

namespace roster {
namespace {

TEST(FencedStore, WritesOnlyToGrantedPartitionsAndMetadataAlways) {
  auto inner = make_memory_store();
  fenced_store fs(*inner, 8);
  write_batch b;
  b.put(keys::user_record(3, std::string(16, 'a')), "x");
  auto st = fs.write(b);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.err().code, errc::partition_unavailable);
  EXPECT_FALSE(testing::stored(inner->get(keys::user_record(3, std::string(16, 'a')))));
  fs.grant(3, 1);
  EXPECT_TRUE(fs.write(b));
  fs.revoke(3, 2);
  EXPECT_FALSE(fs.write(b));
  fs.grant(3, 1);  // a stale grant (older epoch) does not reopen it
  EXPECT_FALSE(fs.writable(3));
  fs.grant(3, 3);
  EXPECT_TRUE(fs.writable(3));
  // Each turn from fenced to writable counts once: readers reload on a change.
  EXPECT_EQ(fs.grants(3), 2u);
  fs.grant(3, 4);  // already writable
  EXPECT_EQ(fs.grants(3), 2u);
  EXPECT_EQ(fs.grants(5), 0u);
  write_batch meta;
  meta.put(keys::meta("cluster_view"), "{}");
  EXPECT_TRUE(fs.write(meta));
  // A batch spanning a granted and a fenced partition applies nothing.
  write_batch mixed;
  mixed.put(keys::user_record(3, std::string(16, 'b')), "y");
  mixed.put(keys::user_record(4, std::string(16, 'b')), "y");
  EXPECT_FALSE(fs.write(mixed));
  EXPECT_FALSE(testing::stored(inner->get(keys::user_record(3, std::string(16, 'b')))));
}

TEST(FencedStore, TracksKeysWrittenDuringAHandoffAndErasesAPartition) {
  auto inner = make_memory_store();
  fenced_store fs(*inner, 4);
  fs.grant(1, 1);
  fs.grant(2, 1);
  write_batch before;
  before.put(keys::index_entry(1, "email:a@b.c"), "1");
  ASSERT_TRUE(fs.write(before));
  fs.track(1);
  write_batch during;
  during.put(keys::index_entry(1, "email:x@y.z"), "2");
  during.remove(keys::index_entry(1, "email:a@b.c"));
  ASSERT_TRUE(fs.write(during));
  write_batch other;
  other.put(keys::index_entry(2, "email:q@r.s"), "3");
  ASSERT_TRUE(fs.write(other));
  auto dirty = fs.take_dirty(1);
  EXPECT_EQ(dirty.size(), 2u);
  EXPECT_TRUE(dirty.count(keys::index_entry(1, "email:a@b.c")));
  EXPECT_TRUE(fs.take_dirty(1).empty());
  EXPECT_TRUE(fs.take_dirty(2).empty());
  EXPECT_EQ(fs.erase_partition(1), 1u);
  EXPECT_FALSE(testing::stored(inner->get(keys::index_entry(1, "email:x@y.z"))));
  EXPECT_TRUE(testing::stored(inner->get(keys::index_entry(2, "email:q@r.s"))));
}

} // namespace
} // namespace roster
