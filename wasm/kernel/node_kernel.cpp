#include "kernel/node_kernel.h"

#include "discovery/backoff.h"
#include "discovery/broadcast_channel_route.h"
#include "discovery/peer_server_route.h"

namespace pc {

NodeKernel::NodeKernel()
    : context_{config_, outputs_, timers_, counters_, *this},
      discovery_(context_, *this),
      sessions_(context_, entropy_, *this),
      sync_(context_),
      presence_(context_),
      messaging_(context_),
      compute_(context_) {}

// ---- lifecycle -------------------------------------------------------------

namespace {
uint64_t word(const std::string& bytes, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return v;
}
}  // namespace

void NodeKernel::addEntropy(const uint8_t* data, size_t size) {
  entropy_.add(data, size);
  sessions_.onEntropy();
}

Result NodeKernel::initialize(const NodeConfig& config, Millis now) {
  if (lifecycle_ != Lifecycle::Created) return Result::failure("node is already initialized");
  std::string error = config.validate();
  if (!error.empty()) return Result::failure("invalid config: " + error);
  std::optional<std::string> key = entropy_.take(kEntropyForInitialize, outputs_);
  if (!key) return Result::failure("the host supplied no randomness: call addEntropy() with CSPRNG bytes first");
  config_ = config;
  sync_.configure(SeededStringHash{word(*key, 0), word(*key, 8)});
  // The routes, most preferred first: a peer heard in this browser is
  // reached here rather than through a server.
  uint64_t rng = config.seed ^ (config.replicaId * 0x9E3779B97F4A7C15ull);
  std::vector<std::unique_ptr<SignalRoute>> routes;
  routes.push_back(std::make_unique<BroadcastChannelRoute>(config.roomTag));
  if (config.peerServer)
    routes.push_back(std::make_unique<PeerServerRoute>(*config.peerServer, config.roomTag, config.nodeId, splitmix64(rng)));
  discovery_.configure(std::move(routes), rng);
  sessions_.configure(Handshake::Self{config.nodeId, config.replicaId, config.roomId, config.sealed});
  lifecycle_ = Lifecycle::Initialized;
  compute_.configure(now);
  return Result::success();
}

Result NodeKernel::start(Millis now) {
  if (lifecycle_ == Lifecycle::Created) return Result::failure("node must be initialized before start()");
  if (lifecycle_ == Lifecycle::Started) return Result::success();
  lifecycle_ = Lifecycle::Started;
  startedAt_ = now;
  discovery_.start(now);
  return Result::success();
}

Result NodeKernel::stop(Millis now) {
  if (lifecycle_ != Lifecycle::Started) return Result::success();
  discovery_.leave(now);
  std::vector<std::string> ids;
  for (const auto& [id, peer] : discovery_.peers()) ids.push_back(id);
  for (const auto& [id, session] : sessions_.all()) ids.push_back(id);
  for (const auto& id : ids) dropPeer(id, "stopped", true, now);
  discovery_.stop();
  sync_.stop();
  // Only this node's own jobs go on while it is stopped.
  timers_.clearAllBut(Timer::Leases);
  lifecycle_ = Lifecycle::Initialized;
  startedAt_ = 0;
  return Result::success();
}

Result NodeKernel::requireInitialized(const char* operation) const {
  if (isInitialized()) return Result::success();
  return Result::failure(std::string("node must be initialized before ") + operation);
}

// ---- peers: one place that tells every engine -----------------------------------

void NodeKernel::dropPeer(std::string peerId, const std::string& reason, bool closeConnection, Millis now) {
  const PeerSession* session = sessions_.find(peerId);
  if (!session && !discovery_.find(peerId)) return;
  const bool hasConnection = session != nullptr;
  const bool wasConnected = session && session->state == PeerState::Connected;
  discovery_.forget(peerId);
  sessions_.remove(peerId);
  sync_.peerGone(peerId);
  if (closeConnection && hasConnection) outputs_.push_back(CloseConnection{peerId});
  presence_.peerGone(peerId);
  if (wasConnected) outputs_.push_back(PeerDisconnected{peerId, reason});
  compute_.peerGone(peerId, now);
}

void NodeKernel::connectionFailed(const std::string& peerId, const std::string& reason, Millis now) {
  if (!sessions_.find(peerId) && !discovery_.find(peerId)) return;
  std::optional<KnownPeer> again = discovery_.redialPlan(peerId, now);
  dropPeer(peerId, reason, true, now);
  if (again) discovery_.reinstate(std::move(*again));
}

void NodeKernel::sessionEstablished(PeerSession& session, Millis now) {
  const std::string peer = session.id;
  discovery_.connected(peer);
  outputs_.push_back(PeerConnected{peer});
  sync_.peerConnected(peer, now);
  presence_.peerConnected(peer);
  compute_.peerConnected(peer);
}

void NodeKernel::sessionEnded(const std::string& peer, const std::string& reason, bool failed, Millis now) {
  if (failed) connectionFailed(peer, reason, now);
  else dropPeer(peer, reason, true, now);
}

void NodeKernel::frameArrived(PeerSession& session, wire::Frame&& frame, Millis now) {
  const std::string peer = session.id;  // a handler may end the session
  std::visit(
      [&](auto&& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (StateSync::Frames::has<T>) sync_.onFrame(peer, std::move(f), now);
        else if constexpr (PresenceEngine::Frames::has<T>) presence_.onFrame(peer, std::move(f), now);
        else if constexpr (MessagingEngine::Frames::has<T>) messaging_.onFrame(peer, std::move(f), now);
        else if constexpr (ComputeEngine::Frames::has<T>) compute_.onFrame(peer, std::move(f), now);
        else static_assert(SessionEngine::Frames::has<T>, "a frame type that no engine takes");
      },
      std::move(frame));
}

void NodeKernel::pingSent(const std::string& peer, Millis now) { sync_.pingSent(peer, now); }

// ---- PeerLinks and ConnectionControl ------------------------------------------------

void NodeKernel::send(const std::string& peer, const wire::Frame& frame) {
  if (PeerSession* s = sessions_.find(peer)) sessions_.send(*s, frame);
}

void NodeKernel::sendUnreliable(const std::string& peer, const std::vector<uint8_t>& bytes) {
  if (PeerSession* s = sessions_.find(peer)) sessions_.sendUnreliable(*s, bytes);
}

void NodeKernel::reject(const std::string& peer, const std::string& why) {
  if (PeerSession* s = sessions_.find(peer)) sessions_.reject(*s, why);
}

bool NodeKernel::isConnected(const std::string& peer) const {
  const PeerSession* s = sessions_.find(peer);
  return s && s->state == PeerState::Connected;
}

std::optional<double> NodeKernel::roundTripMs(const std::string& peer) const {
  const PeerSession* s = sessions_.find(peer);
  return s ? s->rttMs : std::nullopt;
}

std::vector<std::string> NodeKernel::connected() const {
  std::vector<std::string> ids;
  for (const auto& [id, s] : sessions_.all())
    if (s.state == PeerState::Connected) ids.push_back(id);
  return ids;
}

std::optional<PeerState> NodeKernel::connectionState(const std::string& peer) const {
  const PeerSession* s = sessions_.find(peer);
  return s ? std::optional<PeerState>(s->state) : std::nullopt;
}

size_t NodeKernel::pendingConnectionCount() const {
  return sessions_.countIn(PeerState::Connecting) + sessions_.countIn(PeerState::Handshaking);
}

void NodeKernel::openConnection(const std::string& peer, bool initiator, Millis now) {
  sessions_.open(peer, initiator, now);
}

std::optional<PeerState> NodeKernel::peerState(const std::string& peerId) const {
  if (std::optional<PeerState> state = connectionState(peerId)) return state;
  if (discovery_.find(peerId)) return PeerState::Discovered;
  return std::nullopt;
}

const PeerServerLink& NodeKernel::serverLink() const {
  static const PeerServerLink disabled;
  const PeerServerLink* link = discovery_.serverLink();
  return link ? *link : disabled;
}

// ---- the host's inputs -----------------------------------------------------------------

void NodeKernel::handleRouteOpen(std::string_view route, Millis now) { discovery_.onRouteOpen(route, now); }
void NodeKernel::handleRouteClosed(std::string_view route, Millis now) { discovery_.onRouteClosed(route, now); }
void NodeKernel::handleRouteMessage(std::string_view route, std::string_view text, Millis now) {
  discovery_.onRouteMessage(route, text, now);
}
void NodeKernel::handleRouteListing(std::string_view route, bool ok, std::string_view listing, Millis now) {
  discovery_.onRouteListing(route, ok, listing, now);
}
void NodeKernel::handleSealed(uint64_t ticket, std::string sealed, Millis) { discovery_.onSealed(ticket, std::move(sealed)); }
void NodeKernel::handleUnsealed(uint64_t ticket, bool ok, std::string_view text, Millis now) {
  discovery_.onUnsealed(ticket, ok, text, now);
}

void NodeKernel::handleLocalRtcSignal(const std::string& peerId, std::string_view dataJson, Millis now) {
  if (!isStarted() || !sessions_.find(peerId)) return;
  discovery_.sendRtcSignal(peerId, dataJson, now);
}

void NodeKernel::handleChannelOpen(const std::string& peerId, Millis now) {
  if (isStarted()) sessions_.onChannelOpen(peerId, now);
}

void NodeKernel::handleChannelClosed(const std::string& peerId, Millis now) {
  if (sessions_.find(peerId)) connectionFailed(peerId, "channel closed", now);
}

void NodeKernel::handleSendOverflow(const std::string& peerId, Millis now) {
  if (!sessions_.find(peerId)) return;
  // It stopped reading: whatever we send it only grows our memory.
  counters_.noteRejection("to " + peerId + ": its send queue overflowed (it stopped reading); disconnected");
  connectionFailed(peerId, "send queue overflow", now);
}

void NodeKernel::handleData(const std::string& peerId, const uint8_t* data, size_t size, Millis now, bool unreliable) {
  if (!isStarted()) {
    ++counters_.rejectedFrames;
    counters_.noteRejection("data from " + peerId + " before its channel opened");
    return;
  }
  sessions_.onData(peerId, data, size, unreliable, now);
}

void NodeKernel::handleAuthProofs(uint64_t ticket, std::string proof, std::string expected, Millis now) {
  sessions_.onProofs(ticket, std::move(proof), std::move(expected), now);
}

void NodeKernel::handleTaskResult(uint64_t exec, bool ok, std::string bytes, double runMs, Millis now) {
  compute_.handleTaskResult(exec, ok, std::move(bytes), runMs, now);
}

// Each due deadline goes to the engine that set it; each handler checks that
// what it was set for still holds.
void NodeKernel::handleTimeout(Millis now) {
  for (TimerTable::Due& due : timers_.takeDue(now)) {
    switch (due.timer) {
      case Timer::Leases: compute_.onLeasesDeadline(now); break;
      case Timer::Route: discovery_.onRouteDeadline(due.name, now); break;
      case Timer::Announce: discovery_.onAnnounceDeadline(now); break;
      case Timer::Forget: discovery_.onForgetDeadline(due.name, now); break;
      case Timer::Redial: discovery_.onRedialDeadline(due.name, now); break;
      case Timer::Connect: sessions_.onConnectDeadline(due.name, now); break;
      case Timer::Ping: sessions_.onPingDeadline(due.name, now); break;
      case Timer::Fingerprint: sync_.onFingerprintDeadline(now); break;
      case Timer::SyncAnswer: sync_.onSyncAnswerDeadline(due.name, now); break;
    }
  }
}

std::optional<Output> NodeKernel::pollOutput() {
  if (outputs_.empty()) return std::nullopt;
  Output o = std::move(outputs_.front());
  outputs_.pop_front();
  return o;
}

// ---- the application's inputs ----------------------------------------------------------

Result NodeKernel::write(const std::string& key, const std::string& json, Millis now) { return commit({{key, json}}, now); }
Result NodeKernel::remove(const std::string& key, Millis now) { return commit({{key, std::nullopt}}, now); }

Result NodeKernel::commit(const std::vector<Operation>& ops, Millis now) {
  if (Result r = requireInitialized("writing state"); !r.ok) return r;
  return sync_.commit(ops, now);
}

Result NodeKernel::clear(Millis now) {
  if (Result r = requireInitialized("clear()"); !r.ok) return r;
  return sync_.clear(now);
}

Result NodeKernel::applyUpdate(const uint8_t* data, size_t size, bool fromStorage, Millis now) {
  if (Result r = requireInitialized("applyUpdate()"); !r.ok) return r;
  return sync_.applyUpdate(data, size, fromStorage, now);
}

Result NodeKernel::sendToPeer(const std::string& peerId, const std::string& json, Millis now) {
  return sendMessage(peerId, json, MessageKind{}, now);
}

Result NodeKernel::broadcast(const std::string& json, Millis now) { return broadcastMessage(json, MessageKind{}, now); }

Result NodeKernel::sendMessage(const std::string& peerId, std::string payload, MessageKind kind, Millis) {
  if (!isStarted()) return Result::failure("node must be started before sending messages");
  return messaging_.send(peerId, std::move(payload), kind);
}

Result NodeKernel::broadcastMessage(std::string payload, MessageKind kind, Millis) {
  if (!isStarted()) return Result::failure("node must be started before sending messages");
  return messaging_.broadcast(std::move(payload), kind);
}

Result NodeKernel::setPresence(const std::string& json, Millis) {
  if (Result r = requireInitialized("setPresence()"); !r.ok) return r;
  return presence_.set(json);
}

Result NodeKernel::registerTask(const std::string& name, Millis now) {
  if (Result r = requireInitialized("registerTask()"); !r.ok) return r;
  return compute_.registerTask(name, now);
}

Result NodeKernel::submitJob(const std::string& task, std::vector<std::string> inputs, const JobOptions& options,
                             Millis now, uint64_t* job) {
  if (Result r = requireInitialized("submitJob()"); !r.ok) return r;
  return compute_.submitJob(task, std::move(inputs), options, now, job);
}

Result NodeKernel::cancelJob(uint64_t job, Millis now) { return compute_.cancelJob(job, now); }

}  // namespace pc
