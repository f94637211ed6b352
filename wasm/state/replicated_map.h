// ReplicatedMap: a last-writer-wins map from string keys to JSON values.
//
// Merge rule: for each key the write with the greatest Stamp (HLC wall,
// logical, then replica id) wins; a delete is a write of a tombstone and
// follows the same rule, so a delete concurrent with a write loses to a write
// with a greater stamp and beats one with a smaller stamp. The rule is a
// join, so replicas converge whatever the order, duplication or delay of
// delivery.
//
// Values are held as JSON text that has been validated by nlohmann::json. The
// kernel never looks inside a value, so it never pays to parse and print it
// again on the way through.
//
// Every write also carries its replica's sequence number. A StateVector holds,
// per replica, the highest sequence number up to which this map has seen
// everything (directly, or as overwritten by a winning write). Delta sync
// sends exactly the surviving writes whose sequence number is above the
// asker's vector; see wasm/wire/PROTOCOL.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "state/hybrid_logical_clock.h"

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
  explicit ReplicatedMap(uint64_t replica = 0) : replica_(replica) {}

  uint64_t replica() const { return replica_; }

  // Stamps and applies one local transaction. Later operations on the same key
  // replace earlier ones. Returns the writes to send to peers.
  std::vector<Write> commitLocal(const std::vector<Operation>& ops, const Stamp& stamp,
                                 std::vector<KeyChange>* changes);

  struct ApplyResult {
    std::vector<KeyChange> changes;
    std::vector<Write> won;  // the writes that replaced what a slot held
    bool gap = false;  // a write skipped sequence numbers: ask the sender to sync
  };
  // Applies writes from a peer. Idempotent and order-insensitive.
  ApplyResult applyRemote(const std::vector<Write>& writes);

  StateVector stateVector() const;
  void mergeStateVector(const StateVector& seen);
  std::vector<Write> writesMissingFrom(const StateVector& theirs) const;

  // Forgets the tombstones for which isStable(stamp, seq) holds, and gives
  // the memory back. Returns how many were forgotten.
  size_t collectTombstones(const std::function<bool(const Stamp& stamp, uint64_t seq)>& isStable);
  // Grows by one whenever the state vector may have changed.
  uint64_t vectorVersion() const { return vectorVersion_; }

  const std::string* get(const std::string& key) const;
  bool has(const std::string& key) const { return get(key) != nullptr; }
  size_t size() const { return live_; }
  size_t tombstones() const { return slots_.size() - live_; }
  std::vector<Operation> deleteAllOperations() const;

  template <typename Fn>
  void forEach(Fn&& fn) const {  // fn(key, jsonText) for each live key
    for (const auto& [key, slot] : slots_)
      if (slot.value) fn(key, *slot.value);
  }

 private:
  struct Slot {
    std::optional<std::string> value;
    Stamp stamp;
    uint64_t seq = 0;
    bool listed = false;  // in tombstoneKeys_
  };

  enum class Merge { Lost, Hidden, Visible };  // Hidden: a tombstone replaced a tombstone
  Merge merge(const Write& w);
  void noteSeen(uint64_t replica, uint64_t seq, bool* gap);

  uint64_t replica_;
  uint64_t lastLocalSeq_ = 0;
  std::unordered_map<std::string, Slot> slots_;
  size_t live_ = 0;
  StateVector seen_;
  uint64_t vectorVersion_ = 0;
  // Keys whose slot was a tombstone when listed; it may since have been written again.
  std::vector<std::string> tombstoneKeys_;
};

}  // namespace pc
