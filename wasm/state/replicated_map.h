// ReplicatedMap: a last-writer-wins map from string keys to JSON values.
//
// Merge rule: for each key the greatest write wins, ordered by its stamp (HLC
// wall, logical, replica id), then its sequence number, then a value over a
// delete, then the value's bytes. The order is total, so two writes that
// claim the same stamp (a peer that equivocates) still resolve alike
// everywhere. A delete is a write of a tombstone and follows the same rule.
// The rule is a join, so replicas converge whatever the order, duplication
// or delay of delivery.
//
// Deletes are kept for good, in a compact table (state/tombstone_table.h):
// a replica may come back after any absence with writes that a delete made
// meanwhile must beat. Values are JSON text validated on the way in; the
// kernel never parses them again.
//
// Every write carries its replica's sequence number. A StateVector holds,
// per replica, the highest sequence number up to which this map has seen
// everything (directly, or as overwritten by a winning write). Delta sync
// sends the surviving writes whose sequence number is above the asker's
// vector. Vectors are an optimization that trusts the sender; the
// fingerprint tree (state/fingerprint.h) is what guarantees convergence.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hashing/seeded_hash.h"
#include "hashing/sha256.h"
#include "state/hybrid_logical_clock.h"
#include "state/tombstone_table.h"

namespace pc {

struct Write {
  std::string key;
  std::optional<std::string> value;  // JSON text; nullopt is a delete
  Stamp stamp;                       // stamp.replica is the writer
  uint64_t seq = 0;                  // the writer's sequence number
};

struct KeyChange {
  std::string key;
  std::optional<std::string> value;  // nullopt: the key was deleted
};

using StateVector = std::map<uint64_t, uint64_t>;
using Operation = std::pair<std::string, std::optional<std::string>>;

class ReplicatedMap {
 public:
  // `hash` keys this node's tables; its seed comes from the host's
  // randomness, so a peer cannot pick keys that collide here.
  explicit ReplicatedMap(uint64_t replica = 0, SeededStringHash hash = {});
  ~ReplicatedMap();
  ReplicatedMap(ReplicatedMap&&) noexcept;
  ReplicatedMap& operator=(ReplicatedMap&&) noexcept;

  uint64_t replica() const { return replica_; }

  // Stamps and applies one local transaction. Later operations on the same key
  // replace earlier ones. Returns the writes to send to peers (none when
  // !keepWrites: nothing will store or send them).
  std::vector<Write> commitLocal(const std::vector<Operation>& ops, const Stamp& stamp,
                                 std::vector<KeyChange>* changes, bool keepWrites = true);

  struct ApplyResult {
    std::vector<KeyChange> changes;
    std::vector<Write> won;  // the writes that replaced what a slot held
    bool gap = false;  // a write skipped sequence numbers: ask the sender to sync
  };
  // Applies writes from a peer. Idempotent and order-insensitive.
  ApplyResult applyRemote(const std::vector<Write>& writes);

  StateVector stateVector() const;
  // Adopts a peer's claim of what it has covered, but never past the highest
  // sequence number this map has itself seen of that writer, and never for
  // this replica: an inflated claim hides nothing it has not seen exist.
  void mergeStateVector(const StateVector& seen);
  std::vector<Write> writesMissingFrom(const StateVector& theirs) const;
  // Grows by one whenever the state vector may have changed.
  uint64_t vectorVersion() const { return vectorVersion_; }
  // Grows by one whenever any key's winning write changes.
  uint64_t stateVersion() const { return stateVersion_; }

  const std::string* get(const std::string& key) const;
  bool has(const std::string& key) const { return get(key) != nullptr; }
  size_t size() const { return live_; }
  size_t tombstones() const { return tombstones_; }
  // Memory held for deleted keys: their keys and fixed-size entries.
  size_t tombstoneBytes() const;
  std::vector<Operation> deleteAllOperations() const;

  template <typename Fn>
  void forEach(Fn&& fn) const {  // fn(key, jsonText) for each live key
    for (const auto& leaf : leaves_)
      if (leaf)
        for (const auto& [key, slot] : leaf->live) fn(key, slot.value);
  }

  // ---- the fingerprint tree (state/fingerprint.h) ----
  // Digest of node `index` at `level` (0: the root, 3: leaves), computed
  // lazily: only leaves changed since the last call are hashed again.
  Digest128 digest(unsigned level, size_t index) const;
  Digest128 root() const { return digest(0, 0); }
  // The tree without hashing anything: true when no leaf changed since it
  // was last brought up to date.
  bool fingerprintCurrent() const { return !tree_.empty() && dirtyLeaves_.empty(); }
  // Brings the tree up to date a slice at a time, hashing the changed leaves
  // until about `entries` keys are done; true when it is current. So a
  // state of a million keys is fingerprinted without one long task.
  bool refreshSome(size_t entries) const;
  // The digests of a leaf's entries, in the order the leaf digest takes them.
  std::vector<Digest128> leafEntries(size_t leaf) const;
  // The leaf's writes whose digests are not in `theirs` (sorted).
  std::vector<Write> leafWritesNotIn(size_t leaf, const std::vector<Digest128>& theirs) const;

 private:
  struct Slot {
    std::string value;
    Stamp stamp;
    uint64_t seq = 0;
  };
  // Keys are kept by fingerprint leaf, so a leaf's digest is recomputed from
  // its own keys only.
  struct Leaf {
    explicit Leaf(SeededStringHash hash) : live(0, hash), tombs(hash) {}
    std::unordered_map<std::string, Slot, SeededStringHash> live;
    TombstoneTable tombs;
    bool dirty = false;
  };

  enum class Merge { Lost, Hidden, Visible };  // Hidden: a tombstone replaced a tombstone
  Merge merge(const Write& w);
  Merge merge(const Write& w, size_t leafIndex);  // leafIndex: the key's leaf, already known
  // Transactions of at least this many operations reserve room in their leaves first.
  static constexpr size_t kReserveAbove = 256;
  template <typename HasValue>
  void reserveLeaves(const std::vector<uint32_t>& leafOf, HasValue hasValue);
  void noteSeen(uint64_t replica, uint64_t seq, bool* gap);
  Leaf& leafFor(std::string_view key);
  const Leaf* findLeaf(std::string_view key) const;
  void touch(size_t leaf);
  void refresh() const { refreshSome(SIZE_MAX); }  // the tree is a cache of the state, so this is const
  Digest128 hashLeaf(Leaf& leaf) const;
  // (key, entry digest) of every key in the leaf, sorted by key.
  std::vector<std::pair<std::string_view, Digest128>> entriesOf(Leaf& leaf) const;

  uint64_t replica_;
  SeededStringHash hash_;
  uint64_t lastLocalSeq_ = 0;
  std::vector<std::unique_ptr<Leaf>> leaves_;
  WriterTable writers_;
  size_t live_ = 0;
  size_t tombstones_ = 0;
  StateVector seen_;
  std::unordered_map<uint64_t, uint64_t> highestSeq_;  // per writer, of every write seen
  uint64_t vectorVersion_ = 0;
  uint64_t stateVersion_ = 0;
  mutable std::vector<Digest128> tree_;  // levels 0..3 in one array, allocated on first use
  mutable std::vector<uint32_t> dirtyLeaves_;
};

}  // namespace pc
