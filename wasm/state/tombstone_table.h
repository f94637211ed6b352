// TombstoneTable: the record of deleted keys, kept for good and kept small.
//
// A replica that was away for a day may still hold writes that a delete
// made meanwhile must beat, so a delete is never forgotten (PROTOCOL.md,
// "Deletes"). What it costs is its key plus one fixed-size entry and its
// share of the index: no value, no per-entry allocation. Keys live in one
// arena; entries sit in a dense array behind an open-addressing index probed
// with a seeded hash, so keys chosen by a peer cannot pile onto one chain.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hashing/seeded_hash.h"
#include "state/hybrid_logical_clock.h"

namespace pc {

// Replica ids named by tombstones, interned so an entry stores 4 bytes.
class WriterTable {
 public:
  uint32_t intern(uint64_t replica);
  uint64_t id(uint32_t index) const { return ids_[index]; }

 private:
  std::vector<uint64_t> ids_;
  std::vector<uint32_t> index_;  // open addressing over ids_, 0 = empty
};

struct Tombstone {
  std::string_view key;  // valid until the table next changes
  Stamp stamp;
  uint64_t seq = 0;
};

class TombstoneTable {
 public:
  // The bytes one entry costs beyond its key, at the fullest the index gets.
  static constexpr size_t kBytesPerEntry = 32 + 2 * sizeof(uint32_t) * 2;

  explicit TombstoneTable(SeededStringHash hash = {}) : hash_(hash) {}

  bool find(std::string_view key, Tombstone* out, const WriterTable& writers) const;
  // Inserts, or replaces the entry of the same key.
  void put(std::string_view key, const Stamp& stamp, uint64_t seq, WriterTable& writers);
  bool erase(std::string_view key);

  size_t size() const { return entries_.size(); }
  // What the table holds in memory: entries, index and key bytes.
  size_t memoryBytes() const;

  template <typename Fn>
  void forEach(const WriterTable& writers, Fn&& fn) const {  // fn(const Tombstone&)
    for (const Entry& e : entries_) fn(toTombstone(e, writers));
  }

 private:
  struct Entry {
    uint32_t keyOffset = 0, keyLength = 0;
    uint64_t wall = 0;
    uint32_t logical = 0;
    uint32_t writer = 0;
    uint64_t seq = 0;
  };
  static_assert(sizeof(Entry) == 32, "an entry's size is documented in PROTOCOL.md");

  std::string_view keyOf(const Entry& e) const { return std::string_view(arena_).substr(e.keyOffset, e.keyLength); }
  Tombstone toTombstone(const Entry& e, const WriterTable& writers) const {
    return {keyOf(e), Stamp{e.wall, e.logical, writers.id(e.writer)}, e.seq};
  }
  size_t slotOf(std::string_view key) const;  // the index slot holding key, or an empty one
  void grow();
  void compactArena();

  SeededStringHash hash_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> index_;  // entry position + 1; 0 = empty; size a power of two
  std::string arena_;
  size_t garbage_ = 0;  // arena bytes of erased keys
};

}  // namespace pc
