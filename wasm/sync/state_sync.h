// StateSync: the replicated state and everything that keeps replicas equal.
//
// It owns the map and the clock. This node's writes are committed here,
// stored (PersistRecord) and sent to every connected peer as one Update per
// transaction. A peer that connects, or that missed updates, catches up by
// delta sync: it sends its state vector and gets what it lacks, in chunks,
// acknowledged before the next answer. The fingerprint tree then checks that
// two states are in fact equal, and anti-entropy repairs whatever the
// vectors missed, whatever any peer claimed (PROTOCOL.md, "Anti-entropy").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kernel/engine_context.h"
#include "kernel/result.h"
#include "state/hybrid_logical_clock.h"
#include "state/replicated_map.h"

namespace pc {

class StateSync {
 public:
  using Frames = FrameSet<wire::SyncRequest, wire::SyncResponse, wire::SyncWrites, wire::Update, wire::StateAck,
                          wire::ReconcileNodes, wire::ReconcileEntries>;

  explicit StateSync(EngineContext& context) : ctx_(context) {}

  // At initialize(): the replica's id, and the key of its tables' hashes.
  void configure(SeededStringHash hash);
  const ReplicatedMap& map() const { return map_; }

  // The application's writes: an atomic batch of operations (a value of
  // nullopt deletes the key).
  Result commit(const std::vector<Operation>& ops, Millis now);
  Result clear(Millis now);

  // Updates as bytes (see NodeKernel).
  std::vector<uint8_t> encodeStateVector() const;
  Result encodeStateAsUpdate(const uint8_t* vector, size_t size, std::vector<uint8_t>* update) const;
  Result applyUpdate(const uint8_t* data, size_t size, bool fromStorage, Millis now);
  std::vector<uint8_t> snapshotForStorage();

  // Peers.
  void peerConnected(const std::string& peer, Millis now);
  void peerGone(const std::string& peer);
  // On each ping: our fingerprint, when our state changed.
  void pingSent(const std::string& peer, Millis now);
  void stop();

  void onFrame(const std::string& peer, wire::SyncRequest&& f, Millis now);
  void onFrame(const std::string& peer, wire::SyncResponse&& f, Millis now);
  void onFrame(const std::string& peer, wire::SyncWrites&& f, Millis now);
  void onFrame(const std::string& peer, wire::Update&& f, Millis now);
  void onFrame(const std::string& peer, wire::StateAck&& f, Millis now);
  void onFrame(const std::string& peer, wire::ReconcileNodes&& f, Millis now);
  void onFrame(const std::string& peer, wire::ReconcileEntries&& f, Millis now);

  // Deadlines.
  void onSyncAnswerDeadline(const std::string& peer, Millis now);
  void onFingerprintDeadline(Millis now);

 private:
  // Sync with one peer.
  struct SyncPeer {
    bool syncOutstanding = false;        // we asked; its final response has not come
    Millis syncAnsweredAt = -1e300;      // when we last answered its SyncRequest
    bool syncAnswering = false;          // that answer is out and not yet acknowledged
    std::optional<StateVector> deferredRequest;  // its latest request, waiting for the two above
    uint64_t ackedVectorVersion = 0;     // our vector version last sent to this peer
    uint64_t ackedStateVersion = 0;      // our state version, likewise
    Millis ackedAt = -1e300;             // when we last sent it a StateAck
    bool rootsDiffer = false;            // its last fingerprint was not ours
    Millis reconcileStartedAt = -1e300;  // when we last began anti-entropy with it
    double reconcileBudget = 0;          // anti-entropy frames it may still send now (a token bucket)
    Millis reconcileBudgetAt = 0;
  };
  enum class WritesFrom { Update, Sync, Repair };

  SyncPeer* find(const std::string& peer);
  void applyRemoteWrites(const std::string& peer, SyncPeer& sp, std::vector<Write>& writes, WritesFrom from,
                         Millis now);
  void requestSync(const std::string& peer, SyncPeer& sp);
  void answerDeferred(const std::string& peer, SyncPeer& sp, Millis now);
  void sendStateAck(const std::string& peer, SyncPeer& sp, Millis now);
  bool stateAckDue(const SyncPeer& sp, Millis now) const;
  void sendWrites(const std::string& peer, std::vector<Write>&& writes, const StateVector* finalVector);
  bool spendReconcileBudget(const std::string& peer, SyncPeer& sp, Millis now);
  void persist(const wire::Frame& frame);

  EngineContext& ctx_;
  HybridLogicalClock clock_;
  ReplicatedMap map_;
  std::map<std::string, SyncPeer> peers_;
  size_t storedBytes_ = 0;  // in records since the last snapshot
  size_t snapshotBytes_ = 0;
  bool compactionRequested_ = false;
};

}  // namespace pc
