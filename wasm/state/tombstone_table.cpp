#include "state/tombstone_table.h"

#include <cstring>

namespace pc {

namespace {
// Spreads a replica id over the index (ids are random, but a peer picks them).
uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return x;
}
}  // namespace

uint32_t WriterTable::intern(uint64_t replica) {
  if (index_.size() < 2 * (ids_.size() + 1)) {
    std::vector<uint32_t> bigger(index_.empty() ? 16 : 2 * index_.size(), 0);
    const size_t mask = bigger.size() - 1;
    for (uint32_t i = 0; i < ids_.size(); ++i) {
      size_t s = mix(ids_[i]) & mask;
      while (bigger[s] != 0) s = (s + 1) & mask;
      bigger[s] = i + 1;
    }
    index_.swap(bigger);
  }
  const size_t mask = index_.size() - 1;
  size_t s = mix(replica) & mask;
  while (index_[s] != 0) {
    if (ids_[index_[s] - 1] == replica) return index_[s] - 1;
    s = (s + 1) & mask;
  }
  ids_.push_back(replica);
  index_[s] = static_cast<uint32_t>(ids_.size());
  return static_cast<uint32_t>(ids_.size() - 1);
}

size_t TombstoneTable::slotOf(std::string_view key) const {
  const size_t mask = index_.size() - 1;
  size_t s = sipHash13(hash_.k0, hash_.k1, key.data(), key.size()) & mask;
  while (index_[s] != 0 && keyOf(entries_[index_[s] - 1]) != key) s = (s + 1) & mask;
  return s;
}

bool TombstoneTable::find(std::string_view key, Tombstone* out, const WriterTable& writers) const {
  if (entries_.empty()) return false;
  size_t s = slotOf(key);
  if (index_[s] == 0) return false;
  if (out) *out = toTombstone(entries_[index_[s] - 1], writers);
  return true;
}

void TombstoneTable::grow() {
  // At most half full, so probes stay short.
  if (index_.size() >= 2 * (entries_.size() + 1)) return;
  index_.assign(index_.empty() ? 8 : 2 * index_.size(), 0);
  const size_t mask = index_.size() - 1;
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    std::string_view key = keyOf(entries_[i]);
    size_t s = sipHash13(hash_.k0, hash_.k1, key.data(), key.size()) & mask;
    while (index_[s] != 0) s = (s + 1) & mask;
    index_[s] = i + 1;
  }
}

void TombstoneTable::put(std::string_view key, const Stamp& stamp, uint64_t seq, WriterTable& writers) {
  grow();
  size_t s = slotOf(key);
  Entry* e;
  if (index_[s] != 0) {
    e = &entries_[index_[s] - 1];
  } else {
    Entry fresh;
    fresh.keyOffset = static_cast<uint32_t>(arena_.size());
    fresh.keyLength = static_cast<uint32_t>(key.size());
    arena_.append(key.data(), key.size());
    entries_.push_back(fresh);
    index_[s] = static_cast<uint32_t>(entries_.size());
    e = &entries_.back();
  }
  e->wall = stamp.wall;
  e->logical = stamp.logical;
  e->writer = writers.intern(stamp.replica);
  e->seq = seq;
}

bool TombstoneTable::erase(std::string_view key) {
  if (entries_.empty()) return false;
  size_t s = slotOf(key);
  if (index_[s] == 0) return false;
  const uint32_t position = index_[s] - 1;
  garbage_ += entries_[position].keyLength;
  // Backward-shift deletion keeps every probe chain unbroken.
  const size_t mask = index_.size() - 1;
  size_t hole = s;
  for (size_t next = (hole + 1) & mask; index_[next] != 0; next = (next + 1) & mask) {
    std::string_view k = keyOf(entries_[index_[next] - 1]);
    size_t home = sipHash13(hash_.k0, hash_.k1, k.data(), k.size()) & mask;
    // Move it into the hole unless its home lies cyclically in (hole, next].
    bool stays = hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
    if (!stays) {
      index_[hole] = index_[next];
      hole = next;
    }
  }
  index_[hole] = 0;
  // Keep entries dense: the last one takes the erased one's place.
  const uint32_t last = static_cast<uint32_t>(entries_.size() - 1);
  if (position != last) {
    entries_[position] = entries_[last];
    index_[slotOf(keyOf(entries_[position]))] = position + 1;
  }
  entries_.pop_back();
  if (garbage_ > 4096 && garbage_ > arena_.size() / 2) compactArena();
  return true;
}

void TombstoneTable::compactArena() {
  std::string packed;
  packed.reserve(arena_.size() - garbage_);
  for (Entry& e : entries_) {
    uint32_t offset = static_cast<uint32_t>(packed.size());
    packed.append(arena_, e.keyOffset, e.keyLength);
    e.keyOffset = offset;
  }
  arena_.swap(packed);
  garbage_ = 0;
}

size_t TombstoneTable::memoryBytes() const {
  return entries_.capacity() * sizeof(Entry) + index_.capacity() * sizeof(uint32_t) + arena_.capacity();
}

}  // namespace pc
