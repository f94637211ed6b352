// State sync and anti-entropy: the half of NodeKernel that keeps a peer's
// replica equal to ours. Delta sync by state vectors does the common work
// cheaply; the fingerprint tree then checks that the two states are in fact
// equal, and repairs whatever the vectors missed, whatever any peer claimed
// (PROTOCOL.md, "Anti-entropy").
#include <algorithm>

#include "kernel/node_kernel.h"
#include "state/fingerprint.h"

namespace pc {

namespace {

constexpr Millis kSyncAnswerIntervalMs = 1000;  // a peer gets at most one sync answer a second
constexpr Millis kSyncAckTimeoutMs = 10'000;    // an answer it never acknowledged stops blocking the next
// Anti-entropy frames a peer may send at once, and then per second: a walk
// from the root to every leaf of two wholly different states takes about a
// hundred frames each way.
constexpr double kReconcileBurst = 256;
constexpr double kReconcilePerSecond = 64;
constexpr size_t kChunkWrites = 16'384;         // writes per sync frame
constexpr size_t kChunkBytes = size_t{1} << 20;  // about this many bytes of keys and values per frame
constexpr size_t kFingerprintSlice = 8192;      // keys hashed per slice (a few ms in wasm)
constexpr Millis kFingerprintSliceGapMs = 4;

size_t weight(const Write& w) { return w.key.size() + (w.value ? w.value->size() : 0) + 16; }

}  // namespace

void NodeKernel::requestSync(PeerRecord& peer) {
  peer.syncOutstanding = true;
  sendFrame(peer, wire::SyncRequest{map_.stateVector()});
}

void NodeKernel::sendStateAck(PeerRecord& peer, Millis now) {
  peer.ackedAt = now;
  // The root only once the fingerprint is current: computing it all at once
  // for a large state would be one long task (fingerprintTimers slices it).
  if (!map_.fingerprintCurrent()) return sendFrame(peer, wire::StateAck{});
  peer.ackedVectorVersion = map_.vectorVersion();
  peer.ackedStateVersion = map_.stateVersion();
  sendFrame(peer, wire::StateAck{map_.root()});
}

// The fingerprint is brought up to date in slices, a few milliseconds of
// hashing each, with the event loop free in between.
void NodeKernel::fingerprintTimers(Millis now) {
  if (map_.refreshSome(kFingerprintSlice)) {
    fingerprintDueAt_.reset();
    return;
  }
  fingerprintDueAt_ = now + kFingerprintSliceGapMs;
}

// On the ping tick: when our state changed since the last ack, and, while
// the peer's fingerprint differed from ours, every anti-entropy interval
// even when nothing changes (a write one of us refused for its stamp may be
// acceptable now; a round may have been cut short).
bool NodeKernel::stateAckDue(const PeerRecord& peer, Millis now) const {
  if (peer.syncOutstanding || !map_.fingerprintCurrent()) return false;
  if (peer.ackedVectorVersion != map_.vectorVersion() || peer.ackedStateVersion != map_.stateVersion()) return true;
  return peer.rootsDiffer && now >= peer.ackedAt + config_.antiEntropyIntervalMs;
}

// Writes go in frames of a bounded size, so neither side ever builds or
// decodes one giant frame; the last carries the vector when it ends a sync.
void NodeKernel::sendWrites(PeerRecord& peer, std::vector<Write>&& writes, const StateVector* finalVector) {
  size_t begin = 0;
  do {
    size_t end = begin, bytes = 0;
    while (end < writes.size() && end - begin < kChunkWrites && (end == begin || bytes + weight(writes[end]) <= kChunkBytes))
      bytes += weight(writes[end++]);
    std::vector<Write> part(std::make_move_iterator(writes.begin() + begin), std::make_move_iterator(writes.begin() + end));
    if (finalVector && end == writes.size()) sendFrame(peer, wire::SyncResponse{*finalVector, std::move(part)});
    else if (!part.empty()) sendFrame(peer, wire::SyncWrites{std::move(part)});
    begin = end;
  } while (begin < writes.size());
}

// A request is answered at once unless this peer was answered less than a
// second ago or has not acknowledged the last answer: then only its latest
// request waits. So one request can never be multiplied into a stream of
// full states, and a peer that stops reading gets no more than one.
void NodeKernel::onSyncRequest(PeerRecord& peer, StateVector&& seen, Millis now) {
  peer.deferredRequest = std::move(seen);
  syncTimers(peer, now);
}

void NodeKernel::syncTimers(PeerRecord& peer, Millis now) {
  if (peer.syncAnswering && now >= peer.syncAnsweredAt + kSyncAckTimeoutMs) peer.syncAnswering = false;
  if (!peer.deferredRequest || peer.syncAnswering || now < peer.syncAnsweredAt + kSyncAnswerIntervalMs) return;
  StateVector seen = std::move(*peer.deferredRequest);
  peer.deferredRequest.reset();
  answerSync(peer, seen, now);
}

std::optional<Millis> NodeKernel::syncDeadline(const PeerRecord& peer) const {
  if (!peer.deferredRequest) return std::nullopt;
  return peer.syncAnswering ? peer.syncAnsweredAt + kSyncAckTimeoutMs : peer.syncAnsweredAt + kSyncAnswerIntervalMs;
}

void NodeKernel::answerSync(PeerRecord& peer, const StateVector& seen, Millis now) {
  peer.syncAnswering = true;
  peer.syncAnsweredAt = now;
  StateVector vector = map_.stateVector();
  sendWrites(peer, map_.writesMissingFrom(seen), &vector);
}

void NodeKernel::onSyncWrites(PeerRecord& peer, wire::SyncWrites&& f, Millis now) {
  applyRemoteWrites(peer, f.writes, peer.syncOutstanding ? WritesFrom::Sync : WritesFrom::Repair, now);
}

void NodeKernel::onSyncResponse(PeerRecord& peer, wire::SyncResponse&& f, Millis now) {
  applyRemoteWrites(peer, f.writes, WritesFrom::Sync, now);
  peer.syncOutstanding = false;
  map_.mergeStateVector(f.seen);
  // The acknowledgement the peer waits for before it answers us again, and
  // our fingerprint, which it compares with its own.
  sendStateAck(peer, now);
}

void NodeKernel::onStateAck(PeerRecord& peer, const wire::StateAck& f, Millis now) {
  peer.syncAnswering = false;
  syncTimers(peer, now);
  // Compared once both fingerprints are current (ours is sent when it is,
  // and the peer compares then).
  if (peer.syncOutstanding || !f.root || !map_.fingerprintCurrent()) return;
  // Its state differs from ours (a write lost with a channel whose writer
  // left, a vector a peer lied in, a stamp one of us refused until now):
  // walk the two trees down to the keys that differ.
  peer.rootsDiffer = *f.root != map_.root();
  if (!peer.rootsDiffer || now < peer.reconcileStartedAt + config_.antiEntropyIntervalMs) return;
  peer.reconcileStartedAt = now;
  ++counters_.reconciliations;
  wire::ReconcileNodes children{1, {}};
  for (uint32_t i = 0; i < kFingerprintFanout; ++i) children.nodes.emplace_back(i, map_.digest(1, i));
  sendFrame(peer, children);
}

bool NodeKernel::spendReconcileBudget(PeerRecord& peer, Millis now) {
  peer.reconcileBudget = std::min(kReconcileBurst, peer.reconcileBudget + (now - peer.reconcileBudgetAt) / 1000 *
                                                                               kReconcilePerSecond);
  peer.reconcileBudgetAt = now;
  peer.reconcileHeardAt = now;
  if (peer.reconcileBudget < 1) {
    reject(peer, "anti-entropy frames beyond their rate");
    return false;
  }
  peer.reconcileBudget -= 1;
  return true;
}

void NodeKernel::onReconcileNodes(PeerRecord& peer, const wire::ReconcileNodes& f, Millis now) {
  if (!spendReconcileBudget(peer, now)) return;
  std::vector<uint32_t> differing;
  for (const auto& [index, digest] : f.nodes)
    if (map_.digest(f.level, index) != digest) differing.push_back(index);
  if (differing.empty()) return;
  if (f.level < kFingerprintDepth) {
    // Their children, so the peer can look one level further down.
    for (size_t begin = 0; begin < differing.size(); begin += wire::kMaxReconcileNodes / kFingerprintFanout) {
      size_t end = std::min(differing.size(), begin + wire::kMaxReconcileNodes / kFingerprintFanout);
      wire::ReconcileNodes next{static_cast<uint8_t>(f.level + 1), {}};
      for (size_t k = begin; k < end; ++k)
        for (uint32_t c = 0; c < kFingerprintFanout; ++c) {
          uint32_t child = differing[k] * kFingerprintFanout + c;
          next.nodes.emplace_back(child, map_.digest(f.level + 1, child));
        }
      sendFrame(peer, next);
    }
    return;
  }
  // Leaves that differ: list our entries, so the peer sends what we lack.
  wire::ReconcileEntries entries;
  size_t digests = 0;
  std::vector<Write> unlisted;
  for (uint32_t leaf : differing) {
    std::vector<Digest128> mine = map_.leafEntries(leaf);
    if (mine.size() > wire::kMaxReconcileDigests) {
      // Too many keys in one leaf to list: send them all, and list none, so
      // the peer sends all of its own.
      std::vector<Write> all = map_.leafWritesNotIn(leaf, {});
      std::move(all.begin(), all.end(), std::back_inserter(unlisted));
      mine.clear();
    }
    if (entries.leaves.size() == wire::kMaxReconcileLeaves || digests + mine.size() > wire::kMaxReconcileDigests) {
      sendFrame(peer, entries);
      entries.leaves.clear();
      digests = 0;
    }
    digests += mine.size();
    entries.leaves.emplace_back(leaf, std::move(mine));
  }
  if (!entries.leaves.empty()) sendFrame(peer, entries);
  if (!unlisted.empty()) sendWrites(peer, std::move(unlisted), nullptr);
}

void NodeKernel::onReconcileEntries(PeerRecord& peer, const wire::ReconcileEntries& f, Millis now) {
  if (!spendReconcileBudget(peer, now)) return;
  std::vector<Write> theyLack;
  wire::ReconcileEntries ours{true, {}};
  for (const auto& [leaf, theirs] : f.leaves) {
    std::vector<Write> missing = map_.leafWritesNotIn(leaf, theirs);
    std::move(missing.begin(), missing.end(), std::back_inserter(theyLack));
    if (!f.reply) ours.leaves.emplace_back(leaf, map_.leafEntries(leaf));
  }
  if (!theyLack.empty()) sendWrites(peer, std::move(theyLack), nullptr);
  // Our own lists in return, so the peer sends what we lack: the exchange
  // ends there (a reply is not answered with lists again).
  if (!f.reply) {
    wire::ReconcileEntries part{true, {}};
    size_t digests = 0;
    for (auto& leaf : ours.leaves) {
      // A leaf too large to list goes unlisted: the peer sends all of it.
      if (leaf.second.size() > wire::kMaxReconcileDigests) leaf.second.clear();
      if (!part.leaves.empty() && digests + leaf.second.size() > wire::kMaxReconcileDigests) {
        sendFrame(peer, part);
        part.leaves.clear();
        digests = 0;
      }
      digests += leaf.second.size();
      part.leaves.push_back(std::move(leaf));
    }
    if (!part.leaves.empty()) sendFrame(peer, part);
  }
}

void NodeKernel::applyRemoteWrites(PeerRecord& peer, std::vector<Write>& writes, WritesFrom from, Millis now) {
  // A stamp further ahead of our clock than the drift we allow is refused
  // until our clock catches up (anti-entropy brings it again then). An Update
  // is one transaction, so it is refused whole rather than applied in part.
  auto tooFar = [&](const Write& w) { return !clock_.acceptable(w.stamp, now); };
  if (size_t future = static_cast<size_t>(std::count_if(writes.begin(), writes.end(), tooFar)); future > 0) {
    counters_.futureWrites += future;
    reject(peer, "a write stamped more than maxClockDriftMs ahead of this node's clock (is the peer's clock wrong?)");
    if (from == WritesFrom::Update) return;
    writes.erase(std::remove_if(writes.begin(), writes.end(), tooFar), writes.end());
  }
  for (const Write& w : writes) clock_.observe(w.stamp, now);
  ReplicatedMap::ApplyResult r = map_.applyRemote(writes);
  if (!r.won.empty()) {
    if (from == WritesFrom::Repair) counters_.repairedWrites += r.won.size();
    if (from == WritesFrom::Update) persist(wire::Update{std::move(r.won)});
    else if (config_.persist) persist(wire::SyncResponse{map_.stateVector(), std::move(r.won)});
  }
  if (!r.changes.empty()) emit(StateChanged{peer.id, std::move(r.changes)});
  if (r.gap && from == WritesFrom::Update && !peer.syncOutstanding) requestSync(peer);
}

}  // namespace pc
