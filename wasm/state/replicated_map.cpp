#include "state/replicated_map.h"

#include <algorithm>
#include <functional>
#include <string_view>
#include <tuple>

#include "hashing/key_hash.h"
#include "state/fingerprint.h"

namespace pc {

namespace {

// The merge order (see the header): <0, 0 or >0 as a comes before, equals or
// comes after b.
int order(const Stamp& as, uint64_t aseq, std::optional<std::string_view> av, const Stamp& bs, uint64_t bseq,
          std::optional<std::string_view> bv) {
  if (as != bs) return as < bs ? -1 : 1;
  if (aseq != bseq) return aseq < bseq ? -1 : 1;
  if (av.has_value() != bv.has_value()) return av.has_value() ? 1 : -1;
  return av ? av->compare(*bv) : 0;
}

std::optional<std::string_view> viewOf(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return std::string_view(*v);
}

// Where each level of the tree starts in the one array: 16^level nodes each.
size_t levelOffset(unsigned level) { return ((size_t{1} << (4 * level)) - 1) / 15; }

}  // namespace

ReplicatedMap::ReplicatedMap(uint64_t replica, SeededStringHash hash)
    : replica_(replica), hash_(hash), leaves_(kFingerprintLeaves) {}
ReplicatedMap::~ReplicatedMap() = default;
ReplicatedMap::ReplicatedMap(ReplicatedMap&&) noexcept = default;
ReplicatedMap& ReplicatedMap::operator=(ReplicatedMap&&) noexcept = default;

ReplicatedMap::Leaf& ReplicatedMap::leafFor(std::string_view key) {
  std::unique_ptr<Leaf>& leaf = leaves_[fingerprintLeaf(stableKeyHash(key))];
  if (!leaf) leaf = std::make_unique<Leaf>(hash_);
  return *leaf;
}

const ReplicatedMap::Leaf* ReplicatedMap::findLeaf(std::string_view key) const {
  return leaves_[fingerprintLeaf(stableKeyHash(key))].get();
}

void ReplicatedMap::touch(size_t leaf) {
  ++stateVersion_;
  Leaf& l = *leaves_[leaf];
  if (l.dirty) return;
  l.dirty = true;
  dirtyLeaves_.push_back(static_cast<uint32_t>(leaf));
}

namespace {
// For each operation, whether a later one in the same transaction names its
// key (and so supersedes it). An open-addressing table of operation indices
// in one allocation: a node-based map would allocate once a key.
std::vector<bool> supersededOperations(const std::vector<Operation>& ops) {
  size_t capacity = 16;
  while (capacity < 2 * ops.size()) capacity *= 2;
  const size_t mask = capacity - 1;
  std::vector<uint32_t> slots(capacity, 0);  // 0: empty, else index + 1
  std::vector<bool> superseded;
  const std::hash<std::string_view> hash;
  for (size_t i = 0; i < ops.size(); ++i) {
    const std::string_view key = ops[i].first;
    for (size_t at = hash(key) & mask;; at = (at + 1) & mask) {
      if (slots[at] == 0) {
        slots[at] = static_cast<uint32_t>(i + 1);
        break;
      }
      if (ops[slots[at] - 1].first == key) {
        if (superseded.empty()) superseded.resize(ops.size(), false);
        superseded[slots[at] - 1] = true;
        slots[at] = static_cast<uint32_t>(i + 1);
        break;
      }
    }
  }
  return superseded;  // empty when no key repeats
}
}  // namespace

// Grows each leaf's table once for the keys a batch may add (those whose
// writes carry a value), instead of through a chain of rehashes.
template <typename HasValue>
void ReplicatedMap::reserveLeaves(const std::vector<uint32_t>& leafOf, HasValue hasValue) {
  std::vector<uint32_t> added(leaves_.size(), 0);
  for (size_t i = 0; i < leafOf.size(); ++i)
    if (hasValue(i)) ++added[leafOf[i]];
  for (size_t leaf = 0; leaf < leaves_.size(); ++leaf) {
    if (added[leaf] == 0) continue;
    if (!leaves_[leaf]) leaves_[leaf] = std::make_unique<Leaf>(hash_);
    leaves_[leaf]->live.reserve(leaves_[leaf]->live.size() + added[leaf]);
  }
}

std::vector<Write> ReplicatedMap::commitLocal(const std::vector<Operation>& ops, const Stamp& stamp,
                                              std::vector<KeyChange>* changes, bool keepWrites) {
  // A key written twice in one transaction keeps its last value only.
  const std::vector<bool> superseded = supersededOperations(ops);
  // Each key's leaf, once; a large transaction grows each leaf's table to
  // its final size at once rather than through a chain of rehashes.
  std::vector<uint32_t> leafOf(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) leafOf[i] = fingerprintLeaf(stableKeyHash(ops[i].first));
  if (ops.size() >= kReserveAbove) reserveLeaves(leafOf, [&](size_t i) { return ops[i].second.has_value(); });
  std::vector<Write> writes;
  if (keepWrites) writes.reserve(ops.size());
  Write w;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (!superseded.empty() && superseded[i]) continue;
    w.key = ops[i].first;
    w.value = ops[i].second;
    w.stamp = stamp;
    w.stamp.replica = replica_;
    w.seq = ++lastLocalSeq_;
    ++vectorVersion_;
    if (merge(w, leafOf[i]) == Merge::Visible && changes) changes->push_back({w.key, w.value});
    if (keepWrites) writes.push_back(std::move(w));
  }
  return writes;
}

ReplicatedMap::ApplyResult ReplicatedMap::applyRemote(const std::vector<Write>& writes) {
  ApplyResult result;
  std::vector<uint32_t> leafOf(writes.size());
  for (size_t i = 0; i < writes.size(); ++i) leafOf[i] = fingerprintLeaf(stableKeyHash(writes[i].key));
  if (writes.size() >= kReserveAbove) {
    reserveLeaves(leafOf, [&](size_t i) { return writes[i].value.has_value(); });
    result.changes.reserve(writes.size());
    result.won.reserve(writes.size());
  }
  for (size_t i = 0; i < writes.size(); ++i) {
    const Write& w = writes[i];
    Merge m = merge(w, leafOf[i]);
    if (m == Merge::Visible) result.changes.push_back({w.key, w.value});
    if (m != Merge::Lost) result.won.push_back(w);
    if (w.stamp.replica != replica_) noteSeen(w.stamp.replica, w.seq, &result.gap);
  }
  return result;
}

ReplicatedMap::Merge ReplicatedMap::merge(const Write& w) { return merge(w, fingerprintLeaf(stableKeyHash(w.key))); }

ReplicatedMap::Merge ReplicatedMap::merge(const Write& w, size_t leafIndex) {
  std::unique_ptr<Leaf>& leafPtr = leaves_[leafIndex];
  if (!leafPtr) leafPtr = std::make_unique<Leaf>(hash_);
  Leaf& leaf = *leafPtr;

  auto it = leaf.live.find(w.key);
  const bool wasLive = it != leaf.live.end();
  Tombstone tomb;
  const bool wasTomb = !wasLive && leaf.tombs.find(w.key, &tomb, writers_);
  if (wasLive && order(it->second.stamp, it->second.seq, it->second.value, w.stamp, w.seq, viewOf(w.value)) >= 0)
    return Merge::Lost;
  if (wasTomb && order(tomb.stamp, tomb.seq, std::nullopt, w.stamp, w.seq, viewOf(w.value)) >= 0) return Merge::Lost;

  if (w.value) {
    if (wasTomb) {
      leaf.tombs.erase(w.key);
      --tombstones_;
    }
    Slot& slot = wasLive ? it->second : leaf.live[w.key];
    slot.value = *w.value;
    slot.stamp = w.stamp;
    slot.seq = w.seq;
    if (!wasLive) ++live_;
  } else {
    if (wasLive) {
      leaf.live.erase(it);
      --live_;
      // A hash table keeps its buckets after erasures; give them back when
      // it is mostly empty, so memory follows the live keys.
      if (leaf.live.bucket_count() > 8 * (leaf.live.size() + 8)) leaf.live.rehash(0);
    }
    leaf.tombs.put(w.key, w.stamp, w.seq, writers_);
    if (!wasTomb) ++tombstones_;
  }
  touch(leafIndex);
  return wasLive || w.value ? Merge::Visible : Merge::Hidden;
}

void ReplicatedMap::noteSeen(uint64_t replica, uint64_t seq, bool* gap) {
  uint64_t& highest = highestSeq_[replica];
  highest = std::max(highest, seq);
  uint64_t& high = seen_[replica];
  if (seq == high + 1) {
    high = seq;
    ++vectorVersion_;
  } else if (seq > high + 1) {
    *gap = true;
  }
}

StateVector ReplicatedMap::stateVector() const {
  StateVector v = seen_;
  for (auto it = v.begin(); it != v.end();) it = it->second == 0 ? v.erase(it) : std::next(it);
  if (lastLocalSeq_ > 0) v[replica_] = lastLocalSeq_;
  return v;
}

void ReplicatedMap::mergeStateVector(const StateVector& seen) {
  for (const auto& [replica, seq] : seen) {
    if (replica == replica_) continue;
    auto highest = highestSeq_.find(replica);
    if (highest == highestSeq_.end()) continue;
    uint64_t claim = std::min(seq, highest->second);
    uint64_t& high = seen_[replica];
    if (claim > high) {
      high = claim;
      ++vectorVersion_;
    }
  }
}

std::vector<Write> ReplicatedMap::writesMissingFrom(const StateVector& theirs) const {
  auto known = [&](uint64_t replica) {
    auto it = theirs.find(replica);
    return it == theirs.end() ? 0 : it->second;
  };
  std::vector<Write> out;
  for (const auto& leaf : leaves_) {
    if (!leaf) continue;
    for (const auto& [key, slot] : leaf->live)
      if (slot.seq > known(slot.stamp.replica)) out.push_back({key, slot.value, slot.stamp, slot.seq});
    leaf->tombs.forEach(writers_, [&](const Tombstone& t) {
      if (t.seq > known(t.stamp.replica)) out.push_back({std::string(t.key), std::nullopt, t.stamp, t.seq});
    });
  }
  std::sort(out.begin(), out.end(), [](const Write& a, const Write& b) {
    return std::tie(a.stamp.replica, a.seq) < std::tie(b.stamp.replica, b.seq);
  });
  return out;
}

const std::string* ReplicatedMap::get(const std::string& key) const {
  const Leaf* leaf = findLeaf(key);
  if (!leaf) return nullptr;
  auto it = leaf->live.find(key);
  return it == leaf->live.end() ? nullptr : &it->second.value;
}

size_t ReplicatedMap::tombstoneBytes() const {
  size_t bytes = 0;
  for (const auto& leaf : leaves_)
    if (leaf) bytes += leaf->tombs.memoryBytes();
  return bytes;
}

std::vector<Operation> ReplicatedMap::deleteAllOperations() const {
  std::vector<Operation> ops;
  ops.reserve(live_);
  forEach([&](const std::string& key, const std::string&) { ops.emplace_back(key, std::nullopt); });
  return ops;
}

// ---- fingerprints ---------------------------------------------------------------

std::vector<std::pair<std::string_view, Digest128>> ReplicatedMap::entriesOf(Leaf& leaf) const {
  std::vector<std::pair<std::string_view, Digest128>> out;
  out.reserve(leaf.live.size() + leaf.tombs.size());
  for (const auto& [key, slot] : leaf.live) out.emplace_back(key, entryDigest(key, slot.stamp, slot.seq, std::string_view(slot.value)));
  leaf.tombs.forEach(writers_, [&](const Tombstone& t) {
    out.emplace_back(t.key, entryDigest(t.key, t.stamp, t.seq, std::nullopt));
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Digest128 ReplicatedMap::hashLeaf(Leaf& leaf) const {
  // The leaf's entries in the byte order of their keys.
  struct Entry {
    std::string_view key;
    const Slot* slot;
    Tombstone tomb;
  };
  std::vector<Entry> entries;
  entries.reserve(leaf.live.size() + leaf.tombs.size());
  for (const auto& [key, slot] : leaf.live) entries.push_back({key, &slot, {}});
  leaf.tombs.forEach(writers_, [&](const Tombstone& t) { entries.push_back({t.key, nullptr, t}); });
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
  LeafHasher h;
  for (const Entry& e : entries) {
    if (e.slot) h.add(e.key, e.slot->stamp, e.slot->seq, std::string_view(e.slot->value));
    else h.add(e.key, e.tomb.stamp, e.tomb.seq, std::nullopt);
  }
  return h.finish();
}

bool ReplicatedMap::refreshSome(size_t entries) const {
  if (tree_.empty()) tree_.assign(levelOffset(kFingerprintDepth + 1), Digest128{});
  if (dirtyLeaves_.empty()) return true;
  // The leaves done in this slice: taken from the end, the rest left dirty.
  std::vector<uint32_t> changed;
  size_t done = 0;
  while (!dirtyLeaves_.empty() && done < entries) {
    uint32_t i = dirtyLeaves_.back();
    dirtyLeaves_.pop_back();
    Leaf& leaf = *leaves_[i];
    leaf.dirty = false;
    done += leaf.live.size() + leaf.tombs.size() + 1;
    tree_[levelOffset(kFingerprintDepth) + i] = hashLeaf(leaf);
    changed.push_back(i);
  }
  // Then every ancestor of a changed leaf, level by level up to the root.
  std::sort(changed.begin(), changed.end());
  for (unsigned level = kFingerprintDepth; level-- > 0;) {
    for (uint32_t& i : changed) i /= kFingerprintFanout;
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    for (uint32_t i : changed)
      tree_[levelOffset(level) + i] = nodeDigest(&tree_[levelOffset(level + 1) + size_t{i} * kFingerprintFanout]);
  }
  return dirtyLeaves_.empty();
}

Digest128 ReplicatedMap::digest(unsigned level, size_t index) const {
  refresh();
  return tree_[levelOffset(level) + index];
}

std::vector<Digest128> ReplicatedMap::leafEntries(size_t leaf) const {
  std::vector<Digest128> out;
  if (!leaves_[leaf]) return out;
  for (const auto& [key, d] : entriesOf(*leaves_[leaf])) out.push_back(d);
  return out;
}

std::vector<Write> ReplicatedMap::leafWritesNotIn(size_t leaf, const std::vector<Digest128>& theirs) const {
  std::vector<Write> out;
  if (!leaves_[leaf]) return out;
  std::vector<Digest128> sorted = theirs;
  std::sort(sorted.begin(), sorted.end());
  Leaf& l = *leaves_[leaf];
  for (const auto& [key, d] : entriesOf(l)) {
    if (std::binary_search(sorted.begin(), sorted.end(), d)) continue;
    std::string k(key);
    if (auto it = l.live.find(k); it != l.live.end()) {
      out.push_back({k, it->second.value, it->second.stamp, it->second.seq});
    } else {
      Tombstone t;
      if (l.tombs.find(k, &t, writers_)) out.push_back({k, std::nullopt, t.stamp, t.seq});
    }
  }
  return out;
}

}  // namespace pc
