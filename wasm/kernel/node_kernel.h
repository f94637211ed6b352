// NodeKernel: one PeerCompute node, without I/O.
//
// Inputs are method calls that carry the current time; outputs are queued and
// drained with pollOutput(); pollTimeout() says when the kernel next wants
// handleTimeout(). The kernel never reads a clock, draws a random number or
// touches a socket, so a test can run many kernels on simulated time.
//
// The kernel itself is a router over engines, each with its own state, its
// own deadlines (in the one TimerTable) and its own outputs:
//   discovery/  DiscoveryEngine: signaling routes, known peers, dial decisions
//   session/    SessionEngine: each connection's handshake, liveness, fragments
//   sync/       StateSync: the replicated map, delta sync, anti-entropy, storage
//   presence/   PresenceEngine      messaging/  MessagingEngine
//   compute/    ComputeEngine: jobs, leases, the units this node runs
// It owns the lifecycle, hands each input and each due deadline to its
// engine, dispatches peers' frames by type, and tells every engine when a
// peer connects or goes.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "compute/compute_engine.h"
#include "discovery/discovery_engine.h"
#include "host/host_outputs.h"
#include "kernel/engine_context.h"
#include "kernel/entropy_pool.h"
#include "kernel/node_config.h"
#include "kernel/node_counters.h"
#include "kernel/result.h"
#include "kernel/timer_table.h"
#include "messaging/messaging_engine.h"
#include "presence/presence_engine.h"
#include "session/session_engine.h"
#include "sync/state_sync.h"

namespace pc {

enum class Lifecycle { Created, Initialized, Started };

class NodeKernel final : private PeerLinks, private ConnectionControl, private SessionEvents {
 public:
  NodeKernel();
  NodeKernel(const NodeKernel&) = delete;
  NodeKernel& operator=(const NodeKernel&) = delete;

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

  // The host's signaling routes (see RouteOpen in host/host_outputs.h).
  void handleRouteOpen(std::string_view route, Millis now);
  void handleRouteMessage(std::string_view route, std::string_view text, Millis now);
  void handleRouteClosed(std::string_view route, Millis now);
  void handleRouteListing(std::string_view route, bool ok, std::string_view listing, Millis now);
  // An SDP or ICE payload of this node's WebRTC connection to the peer.
  void handleLocalRtcSignal(const std::string& peerId, std::string_view dataJson, Millis now);
  void handleChannelOpen(const std::string& peerId, Millis now);
  void handleChannelClosed(const std::string& peerId, Millis now);
  // The host's send queue to this peer passed its bound (the peer stopped
  // reading): the kernel gives the connection up.
  void handleSendOverflow(const std::string& peerId, Millis now);
  // `unreliable`: it came on the unordered channel, which carries messages only.
  void handleData(const std::string& peerId, const uint8_t* data, size_t size, Millis now, bool unreliable = false);
  void handleTimeout(Millis now);

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

  // Compute (see compute/compute_engine.h).
  Result registerTask(const std::string& name, Millis now);
  Result submitJob(const std::string& task, std::vector<std::string> inputs, const JobOptions& options, Millis now,
                   uint64_t* job);
  Result cancelJob(uint64_t job, Millis now);
  // runMs: how long the task ran in its worker, as the host measured it (0: unknown).
  void handleTaskResult(uint64_t exec, bool ok, std::string bytes, double runMs, Millis now);
  nlohmann::json jobStats(uint64_t job) const { return compute_.scheduler().jobStats(job); }

  // Updates as bytes, for storage and for apps that move state themselves.
  // A state vector travels as a SyncRequest frame, an update as a SyncResponse.
  std::vector<uint8_t> encodeStateVector() const { return sync_.encodeStateVector(); }
  // Every write that a replica with the given vector (SyncRequest bytes) lacks;
  // empty bytes mean it has nothing.
  Result encodeStateAsUpdate(const uint8_t* vector, size_t size, std::vector<uint8_t>* update) const {
    return sync_.encodeStateAsUpdate(vector, size, update);
  }
  // Merges an update (SyncResponse or Update frame) as if a peer had sent it.
  // fromStorage: it came from this node's own store, so it is not stored again
  // nor sent to peers.
  Result applyUpdate(const uint8_t* data, size_t size, bool fromStorage, Millis now);
  // A snapshot for storage that replaces every record so far.
  std::vector<uint8_t> snapshotForStorage() { return sync_.snapshotForStorage(); }

  // Outputs.
  std::optional<Output> pollOutput();
  std::optional<Millis> pollTimeout() const { return timers_.next(); }

  // Queries.
  Lifecycle lifecycle() const { return lifecycle_; }
  bool isInitialized() const { return lifecycle_ != Lifecycle::Created; }
  bool isStarted() const { return lifecycle_ == Lifecycle::Started; }
  const NodeConfig& config() const { return config_; }
  const ReplicatedMap& state() const { return sync_.map(); }
  const NodeCounters& counters() const { return counters_; }
  Millis startedAt() const { return startedAt_; }
  // Where this node stands with a peer; nullopt when it does not know it.
  std::optional<PeerState> peerState(const std::string& peerId) const;
  const KnownPeer* knownPeer(const std::string& peerId) const { return discovery_.find(peerId); }
  size_t knownPeerCount() const { return discovery_.peers().size(); }
  const PeerSession* session(const std::string& peerId) const { return sessions_.find(peerId); }
  size_t connectedPeerCount() const { return sessions_.countIn(PeerState::Connected); }
  const DiscoveryEngine& discovery() const { return discovery_; }
  // The PeerJS server link (disabled without a peerServer).
  const PeerServerLink& serverLink() const;
  const PresenceEngine& presence() const { return presence_; }
  const WorkScheduler& scheduler() const { return compute_.scheduler(); }
  const LocalWorkers& localWorkers() const { return compute_.localWorkers(); }

  // The status and the peers, as the JS API reports them (node_status.cpp).
  nlohmann::json describeStatus() const;
  nlohmann::json describePeers() const;
  // What each worker advertised and did (ComputeManager.getCapabilities()).
  nlohmann::json describeComputePeers() const;

 private:
  Result requireInitialized(const char* operation) const;
  // Forgets the peer in every engine; the connection is closed when it has
  // one and closeConnection.
  void dropPeer(std::string peerId, const std::string& reason, bool closeConnection, Millis now) override;
  // A connection failed (timed out, closed, went silent). The dialing side
  // keeps the peer and redials after a backoff; the other side forgets it and
  // waits to be dialled.
  void connectionFailed(const std::string& peerId, const std::string& reason, Millis now) override;

  // PeerLinks: the engines' view of the connections.
  void send(const std::string& peer, const wire::Frame& frame) override;
  void sendUnreliable(const std::string& peer, const std::vector<uint8_t>& bytes) override;
  void reject(const std::string& peer, const std::string& why) override;
  bool isConnected(const std::string& peer) const override;
  std::vector<std::string> connected() const override;
  std::optional<double> roundTripMs(const std::string& peer) const override;
  // ConnectionControl: discovery's.
  std::optional<PeerState> connectionState(const std::string& peer) const override;
  size_t connectionCount() const override { return sessions_.count(); }
  size_t pendingConnectionCount() const override;
  void openConnection(const std::string& peer, bool initiator, Millis now) override;
  // SessionEvents: what the sessions tell the router.
  void sessionEstablished(PeerSession& session, Millis now) override;
  void sessionEnded(const std::string& peer, const std::string& reason, bool failed, Millis now) override;
  void frameArrived(PeerSession& session, wire::Frame&& frame, Millis now) override;
  void pingSent(const std::string& peer, Millis now) override;

  Lifecycle lifecycle_ = Lifecycle::Created;
  NodeConfig config_;
  std::deque<Output> outputs_;
  TimerTable timers_;
  NodeCounters counters_;
  EntropyPool entropy_;
  Millis startedAt_ = 0;
  EngineContext context_;
  DiscoveryEngine discovery_;
  SessionEngine sessions_;
  StateSync sync_;
  PresenceEngine presence_;
  MessagingEngine messaging_;
  ComputeEngine compute_;
};

}  // namespace pc
