#include "state/replicated_map.h"

#include <algorithm>
#include <tuple>

namespace pc {

std::vector<Write> ReplicatedMap::commitLocal(const std::vector<Operation>& ops, const Stamp& stamp,
                                              std::vector<KeyChange>* changes) {
  std::unordered_map<std::string, size_t> lastIndex;
  for (size_t i = 0; i < ops.size(); ++i) lastIndex[ops[i].first] = i;

  std::vector<Write> writes;
  writes.reserve(lastIndex.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    if (lastIndex[ops[i].first] != i) continue;
    Write w{ops[i].first, ops[i].second, stamp, ++lastLocalSeq_};
    ++vectorVersion_;
    w.stamp.replica = replica_;
    if (merge(w) == Merge::Visible && changes) changes->push_back({w.key, w.value});
    writes.push_back(std::move(w));
  }
  return writes;
}

ReplicatedMap::ApplyResult ReplicatedMap::applyRemote(const std::vector<Write>& writes) {
  ApplyResult result;
  for (const Write& w : writes) {
    Merge m = merge(w);
    if (m == Merge::Visible) result.changes.push_back({w.key, w.value});
    if (m != Merge::Lost) result.won.push_back(w);
    if (w.stamp.replica != replica_) noteSeen(w.stamp.replica, w.seq, &result.gap);
  }
  return result;
}

ReplicatedMap::Merge ReplicatedMap::merge(const Write& w) {
  auto [it, inserted] = slots_.try_emplace(w.key);
  Slot& slot = it->second;
  if (!inserted && !(slot.stamp < w.stamp)) return Merge::Lost;
  bool wasLive = slot.value.has_value();
  bool visible = wasLive || w.value.has_value();
  slot.value = w.value;
  slot.stamp = w.stamp;
  slot.seq = w.seq;
  live_ += slot.value.has_value();
  live_ -= wasLive;
  if (!slot.value && !slot.listed) {
    slot.listed = true;
    tombstoneKeys_.push_back(w.key);
  }
  return visible ? Merge::Visible : Merge::Hidden;
}

void ReplicatedMap::noteSeen(uint64_t replica, uint64_t seq, bool* gap) {
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
  if (lastLocalSeq_ > 0) v[replica_] = lastLocalSeq_;
  return v;
}

void ReplicatedMap::mergeStateVector(const StateVector& seen) {
  for (const auto& [replica, seq] : seen) {
    if (replica == replica_) continue;
    uint64_t& high = seen_[replica];
    if (seq > high) {
      high = seq;
      ++vectorVersion_;
    }
  }
}

size_t ReplicatedMap::collectTombstones(const std::function<bool(const Stamp&, uint64_t)>& isStable) {
  size_t collected = 0;
  size_t kept = 0;
  for (size_t i = 0; i < tombstoneKeys_.size(); ++i) {
    auto it = slots_.find(tombstoneKeys_[i]);
    if (it == slots_.end()) continue;
    if (it->second.value) {  // written again since
      it->second.listed = false;
      continue;
    }
    if (isStable(it->second.stamp, it->second.seq)) {
      slots_.erase(it);
      ++collected;
    } else {
      if (kept != i) tombstoneKeys_[kept] = std::move(tombstoneKeys_[i]);  // a self-move would empty it
      ++kept;
    }
  }
  tombstoneKeys_.resize(kept);
  if (tombstoneKeys_.capacity() > 4 * kept + 64) tombstoneKeys_.shrink_to_fit();
  // A hash table keeps its buckets after erasures; give them back when the
  // table is mostly empty, so memory follows the live keys.
  if (collected > 0 && slots_.bucket_count() > 8 * (slots_.size() + 16)) slots_.rehash(0);
  return collected;
}

std::vector<Write> ReplicatedMap::writesMissingFrom(const StateVector& theirs) const {
  std::vector<Write> out;
  for (const auto& [key, slot] : slots_) {
    auto it = theirs.find(slot.stamp.replica);
    uint64_t known = it == theirs.end() ? 0 : it->second;
    if (slot.seq > known) out.push_back({key, slot.value, slot.stamp, slot.seq});
  }
  std::sort(out.begin(), out.end(), [](const Write& a, const Write& b) {
    return std::tie(a.stamp.replica, a.seq) < std::tie(b.stamp.replica, b.seq);
  });
  return out;
}

const std::string* ReplicatedMap::get(const std::string& key) const {
  auto it = slots_.find(key);
  if (it == slots_.end() || !it->second.value) return nullptr;
  return &*it->second.value;
}

std::vector<Operation> ReplicatedMap::deleteAllOperations() const {
  std::vector<Operation> ops;
  ops.reserve(live_);
  forEach([&](const std::string& key, const std::string&) { ops.emplace_back(key, std::nullopt); });
  return ops;
}

}  // namespace pc
