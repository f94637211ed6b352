// StateSync's anti-entropy: delta sync by state vectors does the common work
// cheaply; the fingerprint tree then checks that the two states are in fact
// equal, and repairs whatever the vectors missed, whatever any peer claimed
// (PROTOCOL.md, "Anti-entropy").
#include <algorithm>

#include "state/fingerprint.h"
#include "sync/state_sync.h"
#include "sync/sync_limits.h"

namespace pc {

// On the ping tick: when our state changed since the last ack, and, while
// the peer's fingerprint differed from ours, every anti-entropy interval
// even when nothing changes (a write one of us refused for its stamp may be
// acceptable now; a round may have been cut short).
void StateSync::pingSent(const std::string& peer, Millis now) {
  if (!map_.fingerprintCurrent() && !ctx_.timers.at(Timer::Fingerprint)) ctx_.timers.set(Timer::Fingerprint, now + 1);
  SyncPeer* sp = find(peer);
  if (sp && stateAckDue(*sp, now)) sendStateAck(peer, *sp, now);
}

bool StateSync::stateAckDue(const SyncPeer& sp, Millis now) const {
  if (sp.syncOutstanding || !map_.fingerprintCurrent()) return false;
  if (sp.ackedVectorVersion != map_.vectorVersion() || sp.ackedStateVersion != map_.stateVersion()) return true;
  return sp.rootsDiffer && now >= sp.ackedAt + ctx_.config.antiEntropyIntervalMs;
}

void StateSync::sendStateAck(const std::string& peer, SyncPeer& sp, Millis now) {
  sp.ackedAt = now;
  // The root only once the fingerprint is current: computing it all at once
  // for a large state would be one long task (onFingerprintDeadline slices it).
  if (!map_.fingerprintCurrent()) return ctx_.links.send(peer, wire::StateAck{});
  sp.ackedVectorVersion = map_.vectorVersion();
  sp.ackedStateVersion = map_.stateVersion();
  ctx_.links.send(peer, wire::StateAck{map_.root()});
}

// The fingerprint is brought up to date in slices, a few milliseconds of
// hashing each, with the event loop free in between.
void StateSync::onFingerprintDeadline(Millis now) {
  if (!map_.refreshSome(kFingerprintSlice)) ctx_.timers.set(Timer::Fingerprint, now + kFingerprintSliceGapMs);
}

void StateSync::onFrame(const std::string& peer, wire::StateAck&& f, Millis now) {
  SyncPeer* sp = find(peer);
  if (!sp) return;
  sp->syncAnswering = false;
  answerDeferred(peer, *sp, now);
  // Compared once both fingerprints are current (ours is sent when it is,
  // and the peer compares then).
  if (sp->syncOutstanding || !f.root || !map_.fingerprintCurrent()) return;
  // Its state differs from ours (a write lost with a channel whose writer
  // left, a vector a peer lied in, a stamp one of us refused until now):
  // walk the two trees down to the keys that differ.
  sp->rootsDiffer = *f.root != map_.root();
  if (!sp->rootsDiffer || now < sp->reconcileStartedAt + ctx_.config.antiEntropyIntervalMs) return;
  sp->reconcileStartedAt = now;
  ++ctx_.counters.reconciliations;
  wire::ReconcileNodes children{1, {}};
  for (uint32_t i = 0; i < kFingerprintFanout; ++i) children.nodes.emplace_back(i, map_.digest(1, i));
  ctx_.links.send(peer, children);
}

bool StateSync::spendReconcileBudget(const std::string& peer, SyncPeer& sp, Millis now) {
  sp.reconcileBudget =
      std::min(kReconcileBurst, sp.reconcileBudget + (now - sp.reconcileBudgetAt) / 1000 * kReconcilePerSecond);
  sp.reconcileBudgetAt = now;
  if (sp.reconcileBudget < 1) {
    ctx_.links.reject(peer, "anti-entropy frames beyond their rate");
    return false;
  }
  sp.reconcileBudget -= 1;
  return true;
}

void StateSync::onFrame(const std::string& peer, wire::ReconcileNodes&& f, Millis now) {
  SyncPeer* sp = find(peer);
  if (!sp || !spendReconcileBudget(peer, *sp, now)) return;
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
      ctx_.links.send(peer, next);
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
      ctx_.links.send(peer, entries);
      entries.leaves.clear();
      digests = 0;
    }
    digests += mine.size();
    entries.leaves.emplace_back(leaf, std::move(mine));
  }
  if (!entries.leaves.empty()) ctx_.links.send(peer, entries);
  if (!unlisted.empty()) sendWrites(peer, std::move(unlisted), nullptr);
}

void StateSync::onFrame(const std::string& peer, wire::ReconcileEntries&& f, Millis now) {
  SyncPeer* sp = find(peer);
  if (!sp || !spendReconcileBudget(peer, *sp, now)) return;
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
  if (f.reply) return;
  wire::ReconcileEntries part{true, {}};
  size_t digests = 0;
  for (auto& leaf : ours.leaves) {
    // A leaf too large to list goes unlisted: the peer sends all of it.
    if (leaf.second.size() > wire::kMaxReconcileDigests) leaf.second.clear();
    if (!part.leaves.empty() && digests + leaf.second.size() > wire::kMaxReconcileDigests) {
      ctx_.links.send(peer, part);
      part.leaves.clear();
      digests = 0;
    }
    digests += leaf.second.size();
    part.leaves.push_back(std::move(leaf));
  }
  if (!part.leaves.empty()) ctx_.links.send(peer, part);
}

}  // namespace pc
