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
    w.stamp.replica = replica_;
    if (merge(w) && changes) changes->push_back({w.key, w.value});
    writes.push_back(std::move(w));
  }
  return writes;
}

ReplicatedMap::ApplyResult ReplicatedMap::applyRemote(const std::vector<Write>& writes) {
  ApplyResult result;
  for (const Write& w : writes) {
    if (merge(w)) result.changes.push_back({w.key, w.value});
    if (w.stamp.replica != replica_) noteSeen(w.stamp.replica, w.seq, &result.gap);
  }
  return result;
}

bool ReplicatedMap::merge(const Write& w) {
  auto [it, inserted] = slots_.try_emplace(w.key);
  Slot& slot = it->second;
  if (!inserted && !(slot.stamp < w.stamp)) return false;
  bool wasLive = slot.value.has_value();
  bool visible = wasLive || w.value.has_value();
  slot.value = w.value;
  slot.stamp = w.stamp;
  slot.seq = w.seq;
  live_ += slot.value.has_value();
  live_ -= wasLive;
  return visible;
}

void ReplicatedMap::noteSeen(uint64_t replica, uint64_t seq, bool* gap) {
  uint64_t& high = seen_[replica];
  if (seq == high + 1) {
    high = seq;
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
    high = std::max(high, seq);
  }
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
