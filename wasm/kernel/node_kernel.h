// NodeKernel: one PeerCompute node, without I/O.
//
// Inputs are method calls that carry the current time; outputs are queued and
// drained with pollOutput(); pollTimeout() says when the kernel next wants
// handleTimeout(). The kernel never reads a clock, draws a random number or
// touches a socket, so a test can run many kernels on simulated time.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compute/local_workers.h"
#include "compute/work_scheduler.h"
#include "kernel/kernel_output.h"
#include "kernel/node_config.h"
#include "peers/peer_table.h"
#include "signaling/peer_server_link.h"
#include "signaling/signal_codec.h"
#include "state/hybrid_logical_clock.h"
#include "state/replicated_map.h"
#include "wire/frame_codec.h"

namespace pc {

enum class Lifecycle { Created, Initialized, Started };

// An application message: JSON text or raw bytes, on the reliable ordered
// channel or the unreliable unordered one.
struct MessageKind {
  bool binary = false;
  bool reliable = true;
};

struct NodeCounters {
  uint64_t rejectedFrames = 0;   // malformed or out-of-protocol bytes from peers
  uint64_t rejectedSignals = 0;  // malformed signaling messages
  // Of those, signals from a "<tag>.<id>.<n>" server id while "<tag>.<id>" was
  // registered: an impostor, or a reloaded page whose old socket lingers.
  uint64_t shadowedSignals = 0;
  uint64_t rejectedWrites = 0;   // app writes refused for bad input
  uint64_t futureWrites = 0;     // peers' writes refused for a stamp too far ahead of our clock
  uint64_t repairedWrites = 0;   // writes anti-entropy brought that delta sync had missed
  uint64_t reconciliations = 0;  // anti-entropy rounds begun
  uint64_t rejectedResults = 0;  // compute results refused: for units not given, malformed, oversized
  std::string lastRejection;
};

class NodeKernel {
 public:
  static constexpr size_t kMaxKeyBytes = 64 * 1024;

  // Random bytes from the host's CSPRNG. Secrets and nonces (the key of
  // the tables that hold peers' keys, the password challenges) are taken
  // from these; the kernel's own generator only jitters timers. At least
  // kEntropyForInitialize bytes must come before initialize(); the kernel asks
  // for more with EntropyWanted when it runs low.
  static constexpr size_t kEntropyForInitialize = 16;
  void addEntropy(const uint8_t* data, size_t size);

  // Lifecycle: initialize, then start; stop returns to initialized, and start
  // may be called again. State survives stop.
  Result initialize(const NodeConfig& config, Millis now);
  Result start(Millis now);
  Result stop(Millis now);

  // Inputs from the host's transports.
  // A signal from the local transport (BroadcastChannel).
  void handleSignal(std::string_view text, Millis now);
  void handleLocalRtcSignal(const std::string& peerId, std::string_view dataJson, Millis now);
  void handleChannelOpen(const std::string& peerId, Millis now);
  void handleChannelClosed(const std::string& peerId, Millis now);
  // The host's send queue to this peer passed its bound (the peer stopped
  // reading): the kernel gives the connection up.
  void handleSendOverflow(const std::string& peerId, Millis now);
  // `unreliable`: it came on the unordered channel, which carries messages only.
  void handleData(const std::string& peerId, const uint8_t* data, size_t size, Millis now, bool unreliable = false);
  void handleTimeout(Millis now);

  // The PeerJS server's WebSocket and listing (after ServerConnect/ServerList).
  void handleServerOpen(Millis now);
  void handleServerMessage(std::string_view text, Millis now);
  void handleServerClosed(Millis now);
  void handleServerPeers(bool ok, std::string_view listing, Millis now);

  // Answers to the host cryptography requests (with a room password). An
  // empty result means it failed: a signal that does not unseal is rejected.
  void handleSealed(uint64_t ticket, std::string sealed, Millis now);
  void handleUnsealed(uint64_t ticket, bool ok, std::string_view text, Millis now);
  void handleAuthProofs(uint64_t ticket, std::string proof, std::string expected, Millis now);

  // Inputs from the application. Values are JSON text.
  Result write(const std::string& key, const std::string& json, Millis now);
  Result remove(const std::string& key, Millis now);
  Result commit(const std::vector<Operation>& ops, Millis now);  // an atomic batch
  Result clear(Millis now);
  Result sendToPeer(const std::string& peerId, const std::string& json, Millis now);
  Result broadcast(const std::string& json, Millis now);
  Result sendMessage(const std::string& peerId, std::string payload, MessageKind kind, Millis now);
  Result broadcastMessage(std::string payload, MessageKind kind, Millis now);
  // Ephemeral state shown to connected peers, never stored; "null" clears it.
  // A peer's presence lasts as long as its connection.
  Result setPresence(const std::string& json, Millis now);

  // Compute (see compute/work_scheduler.h). Task names are 1-64 characters
  // of A-Z, a-z, 0-9, '_', '-', '.' or ':'. A node runs only the built-in
  // tasks and those its host registered; peers learn them from Capabilities.
  Result registerTask(const std::string& name, Millis now);
  // Inputs are task data (CBOR); `job` receives the job's id. Progress and
  // the end come as JobProgress and JobFinished outputs.
  Result submitJob(const std::string& task, std::vector<std::string> inputs, const JobOptions& options, Millis now,
                   uint64_t* job);
  Result cancelJob(uint64_t job, Millis now);
  // The host's answer to RunTask: task data, or an error message.
  void handleTaskResult(uint64_t exec, bool ok, std::string bytes, Millis now);
  nlohmann::json jobStats(uint64_t job) const { return scheduler_.jobStats(job); }
  const WorkScheduler& scheduler() const { return scheduler_; }
  const LocalWorkers& localWorkers() const { return localWorkers_; }
  const std::set<std::string>& localTasks() const { return localTasks_; }

  // Updates as bytes, for storage and for apps that move state themselves.
  // A state vector travels as a SyncRequest frame, an update as a SyncResponse.
  std::vector<uint8_t> encodeStateVector() const;
  // Every write that a replica with the given vector (SyncRequest bytes) lacks;
  // empty bytes mean it has nothing.
  Result encodeStateAsUpdate(const uint8_t* vector, size_t size, std::vector<uint8_t>* update) const;
  // Merges an update (SyncResponse or Update frame) as if a peer had sent it.
  // fromStorage: it came from this node's own store, so it is not stored again
  // nor sent to peers.
  Result applyUpdate(const uint8_t* data, size_t size, bool fromStorage, Millis now);
  // A snapshot for storage that replaces every record so far.
  std::vector<uint8_t> snapshotForStorage();

  // Outputs.
  std::optional<Output> pollOutput();
  std::optional<Millis> pollTimeout() const;

  // Queries.
  Lifecycle lifecycle() const { return lifecycle_; }
  bool isInitialized() const { return lifecycle_ != Lifecycle::Created; }
  bool isStarted() const { return lifecycle_ == Lifecycle::Started; }
  const NodeConfig& config() const { return config_; }
  const ReplicatedMap& state() const { return map_; }
  const PeerTable& peers() const { return peers_; }
  const NodeCounters& counters() const { return counters_; }
  const PeerServerLink& serverLink() const { return link_; }
  Millis startedAt() const { return startedAt_; }
  size_t connectedPeerCount() const { return peers_.countIn(PeerState::Connected); }

  nlohmann::json describeStatus() const;
  nlohmann::json describePeers() const;  // every known peer, with its statistics

 private:
  enum class Route { Local, Server };
  struct PendingSeal {
    Route route;
    std::string to;  // node id; for the server, dst is its server id
    std::string dst;
    std::string serverType;
  };
  struct PendingUnseal {
    Route route;
    std::string src;
  };

  void emit(Output o) { outputs_.push_back(std::move(o)); }
  void sendSignal(SignalType type, const std::string& to, Millis now, std::string data = {});
  void transmit(Route route, const std::string& to, const std::string& dst, const std::string& serverType,
                std::string text);
  void deliver(Route route, const std::string& to, const std::string& dst, const std::string& serverType,
               const std::string& text);
  void receiveEnvelope(Route route, std::string src, std::string text, Millis now);
  void processSignal(Route route, const std::string& src, std::string_view text, Millis now);
  // False for a signal seen before (a replay, or the same signal on a second
  // transport), dropped without a word; see PROTOCOL.md, section 1.
  bool firstSighting(const Signal& s, Millis now);
  // Whether a new connection fits the budget now: the connection cap, the
  // cap on connections still being set up, and a rate of new ones.
  bool mayOpenConnection(Millis now);
  bool spendServerAnnounce(Millis now);
  // Room for one more known peer, by forgetting the stalest one not
  // connected; false when every entry is a connection.
  bool makeRoomForPeer();
  void rejectSignal(const std::string& why);
  void noteRejection(std::string why);
  void serverPeerGone(const std::string& serverId, Millis now);
  void flushLink(PeerServerLink::Actions& actions, Millis now);
  // n bytes of the host's entropy, or nullopt if the pool holds fewer.
  std::optional<std::string> takeEntropy(size_t n);
  void sendHello(PeerRecord& peer, Millis now);
  void continueHandshake(PeerRecord& peer, Millis now);
  void finishHandshake(PeerRecord& peer, Millis now);
  void onAuth(PeerRecord& peer, std::string proof, Millis now);
  void verifyProof(PeerRecord& peer, Millis now);
  Result messageFrame(std::string payload, MessageKind kind, wire::Frame* frame) const;
  Result broadcastTo(const std::vector<PeerRecord*>& targets, std::string payload, MessageKind kind, Millis now);
  void sendMessageFrame(PeerRecord& peer, const wire::Frame& frame, MessageKind kind,
                        const std::vector<uint8_t>* unreliableBytes);
  void sendFrame(PeerRecord& peer, const wire::Frame& frame);
  void dial(PeerRecord& peer, Millis now);
  // A connection failed (timed out, closed, went silent). The dialing side
  // keeps the peer and redials after a backoff; the other side forgets it and
  // waits to be dialled.
  void connectionFailed(const std::string& peerId, const std::string& reason, Millis now);
  Millis redialDelay(uint32_t failures);
  // Takes the id by value: callers often pass the id of the record it erases.
  void dropPeer(std::string peerId, const std::string& reason, bool closeConnection, Millis now);
  void reject(PeerRecord& peer, const std::string& why);
  void dispatchFrame(PeerRecord& peer, wire::Frame&& frame, Millis now);
  void onHello(PeerRecord& peer, const wire::Hello& hello, Millis now);
  // State sync and anti-entropy (node_kernel_sync.cpp).
  enum class WritesFrom { Update, Sync, Repair };
  void applyRemoteWrites(PeerRecord& peer, std::vector<Write>& writes, WritesFrom from, Millis now);
  void onSyncRequest(PeerRecord& peer, StateVector&& seen, Millis now);
  void answerSync(PeerRecord& peer, const StateVector& seen, Millis now);
  void onSyncResponse(PeerRecord& peer, wire::SyncResponse&& f, Millis now);
  void onSyncWrites(PeerRecord& peer, wire::SyncWrites&& f, Millis now);
  void fingerprintTimers(Millis now);
  void onStateAck(PeerRecord& peer, const wire::StateAck& f, Millis now);
  void requestSync(PeerRecord& peer);
  void sendStateAck(PeerRecord& peer, Millis now);
  bool stateAckDue(const PeerRecord& peer, Millis now) const;
  void sendWrites(PeerRecord& peer, std::vector<Write>&& writes, const StateVector* finalVector);
  bool spendReconcileBudget(PeerRecord& peer, Millis now);
  void onReconcileNodes(PeerRecord& peer, const wire::ReconcileNodes& f, Millis now);
  void onReconcileEntries(PeerRecord& peer, const wire::ReconcileEntries& f, Millis now);
  void syncTimers(PeerRecord& peer, Millis now);
  std::optional<Millis> syncDeadline(const PeerRecord& peer) const;
  void persist(const wire::Frame& frame);
  void broadcastWrites(const std::vector<Write>& writes);
  // Compute (node_kernel_compute.cpp).
  void applyWork(WorkScheduler::Actions& actions, Millis now);
  void startLocalRuns();
  wire::Capabilities capabilities() const;
  void onCapabilities(PeerRecord& peer, wire::Capabilities&& f, Millis now);
  void onWorkAssign(PeerRecord& peer, wire::WorkAssign&& f, Millis now);
  void onWorkResult(PeerRecord& peer, wire::WorkResult&& f, Millis now);
  void workerGone(const std::string& peerId, Millis now);
  nlohmann::json describeCompute() const;

  Result requireInitialized(const char* operation) const;
  Result validateKey(const std::string& key) const;
  Result validateJson(const std::string& json, const char* what) const;

  Lifecycle lifecycle_ = Lifecycle::Created;
  NodeConfig config_;
  HybridLogicalClock clock_;
  ReplicatedMap map_;
  PeerTable peers_;
  NodeCounters counters_;
  std::deque<Output> outputs_;
  Millis startedAt_ = 0;
  std::optional<std::string> presence_;
  Millis nextAnnounceAt_ = 0;
  uint64_t incarnation_ = 0;  // grows with every start(), and with the host's clock
  size_t storedBytes_ = 0;    // in records since the last snapshot
  size_t snapshotBytes_ = 0;
  bool compactionRequested_ = false;
  uint64_t nextFragmentId_ = 1;
  uint64_t nextPingNonce_ = 1;
  uint64_t rng_ = 0;  // splitmix64 state, from config.seed: jitter only
  std::string entropy_;  // the host's random bytes, not yet used
  bool entropyWanted_ = false;
  PeerServerLink link_;
  // Room members registered on the server: node id -> server id.
  std::map<std::string, std::string> directory_;
  // Replay protection: the counters each sender's recent signals carried.
  struct ReplayWindow {
    uint64_t incarnation = 0;
    uint64_t highest = 0;  // the highest counter seen
    uint64_t recent = 0;   // bit i: counter highest - i was seen
    Millis lastSeen = 0;
  };
  std::map<std::string, ReplayWindow> replay_;
  std::deque<std::string> replayOrder_;  // replay_'s keys, oldest first
  uint64_t nextSignalCounter_ = 1;
  // Budgets (token buckets): new connections, and announces through the server.
  double connectTokens_ = 0;
  Millis connectTokensAt_ = 0;
  double serverAnnounceTokens_ = 0;
  Millis serverAnnounceTokensAt_ = 0;
  // The server ids of the room's last listing: "<tag>.<id>.<n>" is taken for
  // node <id> only where "<tag>.<id>" itself is not registered.
  std::set<std::string> listedServerIds_;
  uint64_t nextTicket_ = 1;
  std::optional<Millis> fingerprintDueAt_;  // the next slice of fingerprint hashing
  std::map<uint64_t, PendingSeal> sealing_;
  std::map<uint64_t, PendingUnseal> unsealing_;
  WorkScheduler scheduler_;
  LocalWorkers localWorkers_;
  std::set<std::string> localTasks_;
};

}  // namespace pc
