#include "kernel/node_kernel.h"

#include <algorithm>

#include "compute/builtin_tasks.h"
#include "peers/backoff.h"
#include "state/json_text.h"

namespace pc {

using nlohmann::json;

// ---- lifecycle -------------------------------------------------------------

namespace {
constexpr size_t kEntropyLow = 256;      // below this the kernel asks the host for more
// Connection budget (PROTOCOL.md, section 1): at most this many still being
// set up, and new ones at this rate (a burst, then per second).
constexpr size_t kMaxPendingConnections = 8;
constexpr double kConnectBurst = 32, kConnectPerSecond = 2;
// Peers known and not connected, at most.
constexpr size_t kMaxKnownPeers = 256;
// Announces through the server (each sealed, in a password room): a burst, then per second.
constexpr double kServerAnnounceBurst = 32, kServerAnnouncePerSecond = 8;
// Senders whose recent signal counters are remembered.
constexpr size_t kMaxReplayWindows = 1024;

// Refills a token bucket to `now`; true (and one token spent) when one is left.
bool spend(double* tokens, Millis* at, Millis now, double burst, double perSecond) {
  *tokens = std::min(burst, *tokens + std::max<Millis>(0, now - *at) / 1000 * perSecond);
  *at = now;
  if (*tokens < 1) return false;
  *tokens -= 1;
  return true;
}
constexpr uint32_t kEntropyRefill = 1024;

uint64_t word(const std::string& bytes, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
  return v;
}
}  // namespace

void NodeKernel::addEntropy(const uint8_t* data, size_t size) {
  entropy_.append(reinterpret_cast<const char*>(data), size);
  if (entropy_.size() >= kEntropyLow) entropyWanted_ = false;
  // Hellos that waited for a challenge go now.
  for (auto& [id, peer] : peers_)
    if (peer.state == PeerState::Handshaking && peer.helloWaitsForEntropy) sendHello(peer, peer.lastHeardAt);
}

std::optional<std::string> NodeKernel::takeEntropy(size_t n) {
  if (entropy_.size() < n) {
    if (!entropyWanted_) emit(EntropyWanted{kEntropyRefill});
    entropyWanted_ = true;
    return std::nullopt;
  }
  std::string out = entropy_.substr(entropy_.size() - n);
  entropy_.resize(entropy_.size() - n);
  if (entropy_.size() < kEntropyLow && !entropyWanted_) {
    entropyWanted_ = true;
    emit(EntropyWanted{kEntropyRefill});
  }
  return out;
}

Result NodeKernel::initialize(const NodeConfig& config, Millis now) {
  if (lifecycle_ != Lifecycle::Created) return Result::failure("node is already initialized");
  std::string error = config.validate();
  if (!error.empty()) return Result::failure("invalid config: " + error);
  std::optional<std::string> key = takeEntropy(kEntropyForInitialize);
  if (!key) return Result::failure("the host supplied no randomness: call addEntropy() with CSPRNG bytes first");
  config_ = config;
  clock_ = HybridLogicalClock(config.replicaId, static_cast<uint64_t>(config.maxClockDriftMs));
  map_ = ReplicatedMap(config.replicaId, SeededStringHash{word(*key, 0), word(*key, 8)});
  rng_ = config.seed ^ (config.replicaId * 0x9E3779B97F4A7C15ull);
  if (config.peerServer) link_ = PeerServerLink(*config.peerServer, config.roomTag, config.nodeId, splitmix64(rng_));
  lifecycle_ = Lifecycle::Initialized;
  localWorkers_.setCapacity(config.computeWorkers, config.unitsQueuedPerWorker);
  for (const std::string& name : builtinTaskNames()) localTasks_.insert(name);
  WorkScheduler::Actions actions;
  scheduler_.setWorker(config_.nodeId, config_.computeWorkers, localTasks_, now, actions);
  applyWork(actions, now);
  return Result::success();
}

Result NodeKernel::start(Millis now) {
  if (lifecycle_ == Lifecycle::Created) return Result::failure("node must be initialized before start()");
  if (lifecycle_ == Lifecycle::Started) return Result::success();
  lifecycle_ = Lifecycle::Started;
  // Peers tell a restarted node from its last run by this number, so it must
  // also grow across page loads, which start with a fresh kernel: it follows
  // the host's clock. (A count from 1 would make a reloaded page that kept
  // its node id look like the old one, and its offer land in the old,
  // half-dead connection.)
  incarnation_ = std::max<uint64_t>(incarnation_ + 1, now > 0 ? static_cast<uint64_t>(now) : 0);
  startedAt_ = now;
  nextSignalCounter_ = 1;
  connectTokens_ = kConnectBurst;
  connectTokensAt_ = now;
  serverAnnounceTokens_ = kServerAnnounceBurst;
  serverAnnounceTokensAt_ = now;
  PeerServerLink::Actions actions;
  link_.start(now, actions);
  flushLink(actions, now);
  sendSignal(SignalType::Announce, "", now);
  nextAnnounceAt_ = now + config_.announceIntervalMs;
  return Result::success();
}

Result NodeKernel::stop(Millis now) {
  if (lifecycle_ != Lifecycle::Started) return Result::success();
  sendSignal(SignalType::Leave, "", now);
  std::vector<std::string> ids;
  for (const auto& [id, p] : peers_) ids.push_back(id);
  for (const auto& id : ids) dropPeer(id, "stopped", true, now);
  PeerServerLink::Actions actions;
  link_.stop(actions);
  flushLink(actions, now);
  directory_.clear();
  sealing_.clear();
  unsealing_.clear();
  fingerprintDueAt_.reset();
  lifecycle_ = Lifecycle::Initialized;
  startedAt_ = 0;
  return Result::success();
}

// ---- signaling ---------------------------------------------------------------

namespace {
// The PeerJS message type a signal travels as. The server relays OFFER,
// ANSWER, CANDIDATE and LEAVE alike; the type only shows what it carries.
std::string serverTypeFor(SignalType type, std::string_view data) {
  switch (type) {
    case SignalType::Announce: return "OFFER";
    case SignalType::Leave: return "LEAVE";
    case SignalType::Rtc:
      if (data.find("\"candidate\"") != std::string_view::npos && data.find("\"sdp\"") == std::string_view::npos)
        return "CANDIDATE";
      return data.find("\"answer\"") != std::string_view::npos ? "ANSWER" : "OFFER";
  }
  return "OFFER";
}
}  // namespace

void NodeKernel::sendSignal(SignalType type, const std::string& to, Millis now, std::string data) {
  // In a room with a password the server learns not even what kind of signal
  // it relays: everything goes as OFFER.
  std::string serverType = config_.sealed ? "OFFER" : serverTypeFor(type, data);
  Signal s{type, config_.roomId, config_.nodeId, to, std::move(data), incarnation_,
           now > 0 ? static_cast<uint64_t>(now) : 0, nextSignalCounter_++};
  std::string text = encodeSignal(s);
  if (!to.empty()) {
    // One route per peer, so a pair never negotiates twice: the local
    // transport when the peer was heard there, else the server.
    const PeerRecord* peer = peers_.find(to);
    if (peer && peer->viaLocal) return transmit(Route::Local, to, "", serverType, std::move(text));
    std::string serverId = peer ? peer->serverId : std::string();
    if (serverId.empty())
      if (auto it = directory_.find(to); it != directory_.end()) serverId = it->second;
    if (!serverId.empty() && link_.registered()) {
      // Announces to the server's members are rationed, so a thousand ids
      // registered under the room's tag cost a bounded rate, not a flood.
      if (type == SignalType::Announce && !peer && !spendServerAnnounce(now)) return;
      return transmit(Route::Server, to, serverId, serverType, std::move(text));
    }
    return transmit(Route::Local, to, "", serverType, std::move(text));
  }
  if (link_.registered()) {
    for (const auto& [id, serverId] : directory_) {
      // Announces go only to members this node has no connection to, and
      // that it cannot reach locally; a leave goes to all.
      const PeerRecord* peer = peers_.find(id);
      if (type == SignalType::Announce && peer && (peer->viaLocal || peer->state != PeerState::Discovered)) continue;
      if (type == SignalType::Announce && !spendServerAnnounce(now)) break;
      transmit(Route::Server, "", serverId, serverType, text);
    }
  }
  transmit(Route::Local, "", "", serverType, std::move(text));
}

void NodeKernel::transmit(Route route, const std::string& to, const std::string& dst, const std::string& serverType,
                          std::string text) {
  if (!config_.sealed) return deliver(route, to, dst, serverType, text);
  uint64_t ticket = nextTicket_++;
  sealing_[ticket] = PendingSeal{route, to, dst, serverType};
  emit(SealSignal{ticket, std::move(text)});
}

void NodeKernel::deliver(Route route, const std::string& to, const std::string& dst, const std::string& serverType,
                         const std::string& text) {
  if (route == Route::Local) return emit(SendSignal{to, text});
  PeerServerLink::Actions actions;
  link_.send(serverType, dst, text, actions);
  flushLink(actions, 0);
}

void NodeKernel::handleSealed(uint64_t ticket, std::string sealed, Millis) {
  auto it = sealing_.find(ticket);
  if (it == sealing_.end()) return;
  PendingSeal pending = std::move(it->second);
  sealing_.erase(it);
  if (!isStarted() || sealed.empty()) return;
  deliver(pending.route, pending.to, pending.dst, pending.serverType, sealed);
}

void NodeKernel::receiveEnvelope(Route route, std::string src, std::string text, Millis now) {
  if (!isStarted()) return;
  if (text.size() > kMaxSignalBytes) return rejectSignal("signal larger than 64 KiB");
  if (!config_.sealed) return processSignal(route, src, text, now);
  uint64_t ticket = nextTicket_++;
  unsealing_[ticket] = PendingUnseal{route, std::move(src)};
  emit(UnsealSignal{ticket, std::move(text)});
}

void NodeKernel::handleUnsealed(uint64_t ticket, bool ok, std::string_view text, Millis now) {
  auto it = unsealing_.find(ticket);
  if (it == unsealing_.end()) return;
  PendingUnseal pending = std::move(it->second);
  unsealing_.erase(it);
  if (!ok) return rejectSignal("a signal did not decrypt with this room's password");
  processSignal(pending.route, pending.src, text, now);
}

void NodeKernel::rejectSignal(const std::string& why) {
  ++counters_.rejectedSignals;
  noteRejection("signal: " + why);
}

// Rejections name what was wrong in the kernel's own words, and only ids the
// kernel has checked: never bytes a peer chose. And they stay short.
void NodeKernel::noteRejection(std::string why) {
  constexpr size_t kMaxRejectionBytes = 256;
  if (why.size() > kMaxRejectionBytes) {
    size_t cut = kMaxRejectionBytes;
    while (cut > 0 && (static_cast<unsigned char>(why[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    why.resize(cut);
  }
  counters_.lastRejection = std::move(why);
}

void NodeKernel::handleSignal(std::string_view text, Millis now) {
  receiveEnvelope(Route::Local, "", std::string(text), now);
}

bool NodeKernel::firstSighting(const Signal& s, Millis now) {
  auto it = replay_.find(s.from);
  if (it == replay_.end()) {
    // The window longest remembered goes first (a flood of made-up senders
    // costs each real one at most its window, and signals older than the
    // drift are refused anyway).
    while (replay_.size() >= kMaxReplayWindows && !replayOrder_.empty()) {
      replay_.erase(replayOrder_.front());
      replayOrder_.pop_front();
    }
    it = replay_.emplace(s.from, ReplayWindow{}).first;
    replayOrder_.push_back(s.from);
  }
  ReplayWindow& w = it->second;
  w.lastSeen = now;
  if (s.incarnation < w.incarnation) return true;  // stale: the incarnation rule drops it
  if (s.incarnation > w.incarnation) w = ReplayWindow{s.incarnation, 0, 0, now};
  if (s.counter > w.highest) {
    uint64_t shift = s.counter - w.highest;
    w.recent = shift >= 64 ? 0 : w.recent << shift;
    w.recent |= 1;
    w.highest = s.counter;
    return true;
  }
  uint64_t age = w.highest - s.counter;
  if (age >= 64 || (w.recent >> age & 1)) return false;
  w.recent |= uint64_t{1} << age;
  return true;
}

bool NodeKernel::spendServerAnnounce(Millis now) {
  return spend(&serverAnnounceTokens_, &serverAnnounceTokensAt_, now, kServerAnnounceBurst, kServerAnnouncePerSecond);
}

bool NodeKernel::mayOpenConnection(Millis now) {
  size_t open = 0, pending = 0;
  for (const auto& [id, p] : peers_) {
    open += p.state != PeerState::Discovered;
    pending += p.state == PeerState::Connecting || p.state == PeerState::Handshaking;
  }
  if (open >= config_.maxConnections || pending >= kMaxPendingConnections) return false;
  return spend(&connectTokens_, &connectTokensAt_, now, kConnectBurst, kConnectPerSecond);
}

bool NodeKernel::makeRoomForPeer() {
  size_t known = 0;
  PeerRecord* stalest = nullptr;
  for (auto& [id, p] : peers_) {
    if (p.state != PeerState::Discovered) continue;
    ++known;
    if (!stalest || p.lastAnnouncedAt < stalest->lastAnnouncedAt) stalest = &p;
  }
  if (known < kMaxKnownPeers) return true;
  if (!stalest) return false;
  peers_.remove(std::string(stalest->id));
  return true;
}

void NodeKernel::processSignal(Route route, const std::string& src, std::string_view text, Millis now) {
  if (!isStarted()) return;
  std::string error;
  std::optional<Signal> s = decodeSignal(text, &error);
  if (!s) return rejectSignal(error);
  // Other rooms and other recipients share the transport; they are not errors.
  if (s->from == config_.nodeId || s->room != config_.roomId) return;
  if (!s->to.empty() && s->to != config_.nodeId) return;
  // A signal far from our clock was replayed, or comes from a peer whose
  // clock is wrong; an incarnation is a start time, so it is bounded alike.
  const uint64_t clock = now > 0 ? static_cast<uint64_t>(now) : 0;
  const uint64_t drift = static_cast<uint64_t>(config_.maxClockDriftMs);
  if (s->sentAt + drift < clock || s->sentAt > clock + drift)
    return rejectSignal("a signal sent too long ago or in the future (replayed, or the sender's clock is wrong)");
  if (s->incarnation > clock + drift) return rejectSignal("an incarnation ahead of this node's clock");
  if (!firstSighting(*s, now)) return;
  if (route == Route::Server) {
    // The server stamps src with the sender's registered id: a signal that
    // claims another sender is forged.
    if (link_.nodeIdOf(src) != s->from) return rejectSignal("sender " + s->from + " does not match its server id");
    // "<tag>.<id>.<n>" is how a node re-registers when its old socket still
    // holds "<tag>.<id>"; while "<tag>.<id>" is listed, anyone else could
    // register the longer form to pose as <id>.
    const std::string plain = link_.roomTag() + "." + s->from;
    if (src != plain && listedServerIds_.count(plain)) {
      ++counters_.shadowedSignals;
      return rejectSignal("a server id posing as " + s->from + ", whose own id is registered");
    }
  }
  auto noteRoute = [&](PeerRecord& peer) {
    if (route == Route::Local) peer.viaLocal = true;
    else peer.serverId = src;
  };

  PeerRecord* peer = peers_.find(s->from);
  if (peer && peer->state != PeerState::Discovered) {
    // A connection is never torn down, nor rerouted, by a signal that does
    // not come the way the connection was made: only the peer's own route
    // speaks for it.
    const bool sameRoute = route == Route::Local ? peer->viaLocal : !peer->viaLocal && peer->serverId == src;
    if (!sameRoute) return;
  }
  if (route == Route::Server && (!peer || peer->state == PeerState::Discovered)) directory_[s->from] = src;
  if (peer && s->incarnation != peer->incarnation) {
    // A signal from an earlier run of the peer is stale. One from a later run
    // means the peer restarted: whatever we had with it is gone.
    if (s->incarnation < peer->incarnation) return;
    dropPeer(peer->id, "peer restarted", true, now);
    peer = nullptr;
  }
  switch (s->type) {
    case SignalType::Announce: {
      bool isNew = !peer;
      if (isNew) {
        if (!makeRoomForPeer()) return;
        peer = &peers_.add(s->from, config_.maxFrameBytes, now);
        peer->incarnation = s->incarnation;
      }
      noteRoute(*peer);
      peer->lastAnnouncedAt = now;
      bool dials = PeerTable::shouldDial(config_.nodeId, peer->id);
      // A newcomer announces to everyone, or (through the server) to each
      // member it listed; answer it directly so it learns of this node now,
      // and so that it can dial when it is the one to.
      if ((isNew && s->to.empty()) || (!dials && !s->to.empty() && peer->state == PeerState::Discovered))
        sendSignal(SignalType::Announce, s->from, now);
      if (peer->state == PeerState::Discovered && dials && now >= peer->nextDialAt) dial(*peer, now);
      return;
    }
    case SignalType::Leave:
      if (peer) dropPeer(peer->id, "left", true, now);
      return;
    case SignalType::Rtc: {
      if (!peer || peer->state == PeerState::Discovered) {
        // Only the dialer may open a connection; a stray payload for a
        // connection this node should dial itself is stale and ignored. An
        // offer over the budget is ignored too: the dialer times out and
        // tries again later.
        if (!PeerTable::shouldDial(s->from, config_.nodeId)) return;
        if (!mayOpenConnection(now)) return;
        if (!peer && !makeRoomForPeer()) return;
        if (!peer) peer = &peers_.add(s->from, config_.maxFrameBytes, now);
        peer->incarnation = s->incarnation;
        peer->lastAnnouncedAt = now;
        peer->initiator = false;
        peers_.setState(*peer, PeerState::Connecting, now);
        emit(OpenConnection{peer->id, false});
      }
      noteRoute(*peer);
      emit(DeliverRtcSignal{peer->id, std::move(s->data)});
      return;
    }
  }
}

// ---- the PeerJS server -------------------------------------------------------

void NodeKernel::flushLink(PeerServerLink::Actions& actions, Millis) {
  if (actions.close) emit(ServerClose{});
  for (auto& send : actions.sends) emit(ServerSend{std::move(send.text)});
  if (actions.connect) emit(ServerConnect{std::move(actions.connect->url)});
  if (actions.list) emit(ServerList{std::move(actions.list->url)});
  actions = {};
}

void NodeKernel::handleServerOpen(Millis now) {
  if (!isStarted()) return;
  PeerServerLink::Actions actions;
  link_.onSocketOpen(now, actions);
  flushLink(actions, now);
}

void NodeKernel::handleServerClosed(Millis now) {
  if (!isStarted()) return;
  PeerServerLink::Actions actions;
  link_.onSocketClosed(now, actions);
  flushLink(actions, now);
  // Data channels stay up without the server; only signaling waits.
}

void NodeKernel::handleServerMessage(std::string_view text, Millis now) {
  if (!isStarted()) return;
  PeerServerLink::Actions actions;
  std::string error;
  std::optional<ServerMessage> msg = link_.onSocketMessage(text, now, actions, &error);
  flushLink(actions, now);
  if (!error.empty()) return rejectSignal("server: " + error);
  if (!msg) return;
  if (msg->type == "EXPIRE" || !msg->payload) return serverPeerGone(msg->src, now);
  if (link_.nodeIdOf(msg->src).empty()) return rejectSignal("server: a message from outside this room");
  receiveEnvelope(Route::Server, std::move(msg->src), std::move(*msg->payload), now);
}

void NodeKernel::serverPeerGone(const std::string& serverId, Millis now) {
  // EXPIRE: our message found no one registered under that id. A LEAVE the
  // server wrote itself: that peer's socket is dead. A connection that is up
  // does not depend on the server, so only pending ones are given up.
  std::string nodeId = link_.nodeIdOf(serverId);
  if (nodeId.empty()) return;
  if (auto it = directory_.find(nodeId); it != directory_.end() && it->second == serverId) directory_.erase(it);
  PeerRecord* peer = peers_.find(nodeId);
  if (!peer || peer->viaLocal || peer->serverId != serverId) return;
  if (peer->state == PeerState::Discovered) dropPeer(nodeId, "left the signaling server", false, now);
  else if (peer->state != PeerState::Connected) connectionFailed(nodeId, "left the signaling server", now);
}

void NodeKernel::handleServerPeers(bool ok, std::string_view listing, Millis now) {
  if (!isStarted() || !link_.registered()) return;
  if (!ok) return rejectSignal("server: the peer listing failed (is the server up, and started with allow_discovery?)");
  std::string error;
  auto members = link_.roomMembers(listing, &error);
  if (!error.empty()) return rejectSignal("server: " + error);
  directory_.clear();
  listedServerIds_.clear();
  for (auto& [nodeId, serverId] : members) {
    listedServerIds_.insert(serverId);
    auto it = directory_.find(nodeId);
    // Of "<tag>.<id>" and "<tag>.<id>.<n>", the plain one is the node's.
    if (it == directory_.end() || serverId.size() < it->second.size()) directory_[nodeId] = serverId;
  }
  for (const auto& [nodeId, serverId] : directory_)
    if (!peers_.find(nodeId)) sendSignal(SignalType::Announce, nodeId, now);
}

void NodeKernel::handleLocalRtcSignal(const std::string& peerId, std::string_view dataJson, Millis now) {
  const PeerRecord* peer = peers_.find(peerId);
  if (!isStarted() || !peer || peer->state == PeerState::Discovered) return;
  json data = json::parse(dataJson.begin(), dataJson.end(), nullptr, false);
  if (data.is_discarded() || !data.is_object()) return;
  sendSignal(SignalType::Rtc, peerId, now, std::string(dataJson));
}

void NodeKernel::dial(PeerRecord& peer, Millis now) {
  // Over the budget the peer stays discovered, and is tried again later (on
  // its next announce, or this timer).
  if (!mayOpenConnection(now)) {
    peer.nextDialAt = now + config_.redialBaseMs;
    return;
  }
  peer.initiator = true;
  peers_.setState(peer, PeerState::Connecting, now);
  emit(OpenConnection{peer.id, true});
}

void NodeKernel::dropPeer(std::string peerId, const std::string& reason, bool closeConnection, Millis now) {
  PeerRecord* peer = peers_.find(peerId);
  if (!peer) return;
  bool wasConnected = peer->state == PeerState::Connected;
  bool hasConnection = peer->state != PeerState::Discovered;
  bool hadPresence = peer->presence.has_value();
  peers_.remove(peerId);
  if (closeConnection && hasConnection) emit(CloseConnection{peerId});
  if (hadPresence) emit(PresenceChanged{peerId, std::nullopt});
  if (wasConnected) emit(PeerDisconnected{peerId, reason});
  workerGone(peerId, now);
}

// ---- channels and frames -------------------------------------------------------

void NodeKernel::handleChannelOpen(const std::string& peerId, Millis now) {
  PeerRecord* peer = peers_.find(peerId);
  if (!isStarted() || !peer || peer->state != PeerState::Connecting) return;
  peers_.setState(*peer, PeerState::Handshaking, now);
  peer->lastHeardAt = now;
  // The dialer speaks first; the other side answers its Hello. Chromium
  // may lose an answerer's message sent as soon as its channel opens (the
  // dialer's side not yet ready): seen in about 1 connection in 15 within
  // one browser, which then waited out a liveness timeout.
  if (peer->initiator) sendHello(*peer, now);
}

void NodeKernel::sendHello(PeerRecord& peer, Millis now) {
  if (peer.helloSent) return;
  peer.helloWaitsForEntropy = false;
  if (config_.sealed) {
    // The challenge is the host's randomness: one seen challenge predicts
    // nothing of the next.
    std::optional<std::string> challenge = takeEntropy(16);
    if (!challenge) {
      peer.helloWaitsForEntropy = true;
      return;
    }
    peer.challenge = std::move(*challenge);
  }
  sendFrame(peer, wire::Hello{config_.nodeId, config_.replicaId, config_.roomId, peer.challenge});
  peer.helloSent = true;
  if (peer.helloReceived) continueHandshake(peer, now);
}

// Both Hellos are out: without a password the peer is connected; with one,
// the proofs come next, which the host computes (the key never enters the
// kernel).
void NodeKernel::continueHandshake(PeerRecord& peer, Millis now) {
  if (!config_.sealed) return finishHandshake(peer, now);
  peer.authTicket = nextTicket_++;
  emit(AuthenticatePeer{peer.authTicket, peer.id, peer.challenge, peer.theirChallenge});
}

void NodeKernel::handleSendOverflow(const std::string& peerId, Millis now) {
  const PeerRecord* peer = peers_.find(peerId);
  if (!peer || peer->state == PeerState::Discovered) return;
  // It stopped reading: whatever we send it only grows our memory.
  noteRejection("to " + peerId + ": its send queue overflowed (it stopped reading); disconnected");
  connectionFailed(peerId, "send queue overflow", now);
}

void NodeKernel::handleChannelClosed(const std::string& peerId, Millis now) {
  const PeerRecord* peer = peers_.find(peerId);
  if (!peer || peer->state == PeerState::Discovered) return;
  connectionFailed(peerId, "channel closed", now);
}

void NodeKernel::connectionFailed(const std::string& peerId, const std::string& reason, Millis now) {
  PeerRecord* peer = peers_.find(peerId);
  if (!peer) return;
  if (!PeerTable::shouldDial(config_.nodeId, peerId)) return dropPeer(peerId, reason, true, now);
  uint32_t failures = peer->failedDials + 1;
  Millis announcedAt = peer->lastAnnouncedAt;
  uint64_t incarnation = peer->incarnation;
  dropPeer(peerId, reason, true, now);
  if (now - announcedAt >= 3 * config_.announceIntervalMs) return;  // long quiet: gone
  PeerRecord& again = peers_.add(peerId, config_.maxFrameBytes, now);
  again.incarnation = incarnation;
  again.lastAnnouncedAt = announcedAt;
  again.failedDials = failures;
  again.failedAt = now;
  again.nextDialAt = now + redialDelay(failures);
}

Millis NodeKernel::redialDelay(uint32_t failures) {
  return backoffDelay(config_.redialBaseMs, config_.redialMaxMs, failures, rng_);
}

void NodeKernel::sendFrame(PeerRecord& peer, const wire::Frame& frame) {
  std::vector<uint8_t> bytes = wire::encode(frame);
  auto send = [&](std::vector<uint8_t>&& b) {
    peer.stats.bytesOut += b.size();
    ++peer.stats.framesOut;
    emit(SendData{peer.id, std::move(b)});
  };
  if (bytes.size() <= config_.maxChannelMessageBytes) {
    send(std::move(bytes));
    return;
  }
  // Room for the fragment header inside each channel message.
  size_t piece = config_.maxChannelMessageBytes - 32;
  for (auto& f : wire::fragment(bytes, nextFragmentId_++, piece)) send(std::move(f));
}

void NodeKernel::reject(PeerRecord& peer, const std::string& why) {
  ++peer.stats.rejected;
  ++counters_.rejectedFrames;
  noteRejection("from " + peer.id + ": " + why);
}

void NodeKernel::handleData(const std::string& peerId, const uint8_t* data, size_t size, Millis now,
                            bool unreliable) {
  PeerRecord* peer = peers_.find(peerId);
  if (!isStarted() || !peer || peer->state == PeerState::Discovered ||
      (peer->state == PeerState::Connecting && unreliable)) {
    ++counters_.rejectedFrames;
    noteRejection("data from " + peerId + " before its channel opened");
    return;
  }
  // Bytes on the reliable channel prove it open, though the host has not
  // said so yet: a browser may dispatch an answerer's first message (the
  // peer's Hello) before the channel's open event. Dropping it would leave
  // this side waiting for a Hello that never comes again.
  if (peer->state == PeerState::Connecting) handleChannelOpen(peerId, now);
  peer->stats.bytesIn += size;
  // The header first: whether this frame may come now, and whether it is
  // within its type's limit, is decided before anything of it is decoded.
  const wire::Limits limits{config_.maxFrameBytes};
  wire::DecodeError error = wire::DecodeError::None;
  std::optional<wire::Header> header = wire::peekHeader(data, size, limits, &error);
  if (!header) return reject(*peer, wire::describe(error));
  const wire::FrameType type = header->type;
  if (unreliable) {
    if (type != wire::FrameType::AppMessage && type != wire::FrameType::BinaryMessage)
      return reject(*peer, "only messages travel on the unreliable channel");
    // That channel is not ordered with the reliable one: a message the peer
    // sent as soon as it was connected may overtake the end of our handshake
    // (its Hello or Auth). It is lost, as any message there may be, but it is
    // no fault of the peer's; nothing is delivered before the handshake ends.
    if (peer->state != PeerState::Connected) return;
  }
  if (peer->state == PeerState::Handshaking) {
    // Until the handshake is done only its own small frames are decoded; a
    // peer that has not proved the password makes this node reassemble,
    // parse and store nothing.
    if (!peer->helloReceived && type != wire::FrameType::Hello) return reject(*peer, "expected Hello first");
    if (peer->helloReceived && type != wire::FrameType::Auth)
      return reject(*peer, "expected the password proof (Auth) after Hello");
  }
  wire::Decoded d = wire::decode(data, size, limits);
  if (!d.frame) return reject(*peer, wire::describe(d.error));
  ++peer->stats.framesIn;
  peer->lastHeardAt = now;

  if (auto* f = std::get_if<wire::Fragment>(&*d.frame)) {
    std::vector<uint8_t> whole;
    switch (peer->assembler.add(*f, &whole)) {
      case wire::FragmentAssembler::Result::Incomplete:
      case wire::FragmentAssembler::Result::Discarded: return;
      case wire::FragmentAssembler::Result::Rejected: return reject(*peer, peer->assembler.lastError());
      case wire::FragmentAssembler::Result::Complete: break;
    }
    d = wire::decode(whole, limits);
    if (!d.frame) return reject(*peer, std::string("reassembled frame: ") + wire::describe(d.error));
  }
  dispatchFrame(*peer, std::move(*d.frame), now);
}

void NodeKernel::dispatchFrame(PeerRecord& peer, wire::Frame&& frame, Millis now) {
  if (peer.state == PeerState::Handshaking) {
    if (!peer.helloReceived) {
      auto* hello = std::get_if<wire::Hello>(&frame);
      if (!hello) return reject(peer, "expected Hello first");
      return onHello(peer, *hello, now);
    }
    auto* auth = std::get_if<wire::Auth>(&frame);
    if (!auth) return reject(peer, "expected the password proof (Auth) after Hello");
    return onAuth(peer, std::move(auth->proof), now);
  }
  std::visit(
      [&](auto&& f) {
        using T = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<T, wire::Hello>) {
          reject(peer, "duplicate Hello");
        } else if constexpr (std::is_same_v<T, wire::SyncRequest>) {
          onSyncRequest(peer, std::move(f.seen), now);
        } else if constexpr (std::is_same_v<T, wire::StateAck>) {
          onStateAck(peer, f, now);
        } else if constexpr (std::is_same_v<T, wire::Presence>) {
          std::optional<std::string> next;
          if (f.json != "null") next = std::move(f.json);
          if (next != peer.presence) {
            peer.presence = next;
            emit(PresenceChanged{peer.id, std::move(next)});
          }
        } else if constexpr (std::is_same_v<T, wire::SyncResponse>) {
          onSyncResponse(peer, std::move(f), now);
        } else if constexpr (std::is_same_v<T, wire::Update>) {
          applyRemoteWrites(peer, f.writes, WritesFrom::Update, now);
        } else if constexpr (std::is_same_v<T, wire::ReconcileNodes>) {
          onReconcileNodes(peer, f, now);
        } else if constexpr (std::is_same_v<T, wire::ReconcileEntries>) {
          onReconcileEntries(peer, f, now);
        } else if constexpr (std::is_same_v<T, wire::SyncWrites>) {
          onSyncWrites(peer, std::move(f), now);
        } else if constexpr (std::is_same_v<T, wire::AppMessage>) {
          ++peer.stats.messagesIn;
          peer.lastMessageAt = now;
          emit(MessageReceived{peer.id, std::move(f.json), false});
        } else if constexpr (std::is_same_v<T, wire::BinaryMessage>) {
          ++peer.stats.messagesIn;
          peer.lastMessageAt = now;
          emit(MessageReceived{peer.id, std::move(f.bytes), true});
        } else if constexpr (std::is_same_v<T, wire::Auth>) {
          reject(peer, "Auth after the handshake");
        } else if constexpr (std::is_same_v<T, wire::Ping>) {
          // Answered here, not on a timer, so a peer whose timers are
          // throttled still proves it is alive whenever it is pinged.
          sendFrame(peer, wire::Pong{f.nonce});
        } else if constexpr (std::is_same_v<T, wire::Pong>) {
          if (f.nonce == peer.pingNonce) peer.rttMs = now - peer.lastPingAt;
        } else if constexpr (std::is_same_v<T, wire::Fragment>) {
          reject(peer, "nested fragment");
        } else if constexpr (std::is_same_v<T, wire::Capabilities>) {
          onCapabilities(peer, std::move(f), now);
        } else if constexpr (std::is_same_v<T, wire::WorkAssign>) {
          onWorkAssign(peer, std::move(f), now);
        } else if constexpr (std::is_same_v<T, wire::WorkResult>) {
          onWorkResult(peer, std::move(f), now);
        } else if constexpr (std::is_same_v<T, wire::WorkCancel>) {
          if (auto exec = localWorkers_.cancel(peer.id, f.lease)) emit(CancelTask{*exec});
        }
      },
      std::move(frame));
}

void NodeKernel::onHello(PeerRecord& peer, const wire::Hello& hello, Millis now) {
  if (hello.nodeId != peer.id || hello.room != config_.roomId) {
    reject(peer, "Hello does not match the peer's id or room");
    dropPeer(peer.id, "handshake mismatch", true, now);
    return;
  }
  if (config_.sealed != !hello.challenge.empty() || (config_.sealed && hello.challenge.size() != 16)) {
    reject(peer, config_.sealed ? "the peer does not use the room password" : "the peer expects a room password");
    dropPeer(peer.id, "password mismatch", true, now);
    return;
  }
  peer.replica = hello.replica;
  peer.helloReceived = true;
  peer.theirChallenge = hello.challenge;
  // The answerer's Hello answers this one; then the handshake goes on.
  if (!peer.helloSent) return sendHello(peer, now);
  continueHandshake(peer, now);
}

void NodeKernel::handleAuthProofs(uint64_t ticket, std::string proof, std::string expected, Millis now) {
  for (auto& [id, peer] : peers_) {
    if (peer.authTicket != ticket) continue;
    if (peer.state != PeerState::Handshaking || peer.expectedProof) return;
    if (proof.empty() || expected.empty()) {
      dropPeer(id, "password proof could not be computed", true, now);
      return;
    }
    peer.expectedProof = std::move(expected);
    peer.ourProof = std::move(proof);
    // The dialer proves first; the other side proves only once it has
    // checked the dialer's proof, so it never hands a proof (which could be
    // attacked offline) to a peer that has not shown it knows the password.
    if (peer.initiator) sendFrame(peer, wire::Auth{*peer.ourProof});
    if (peer.receivedProof) verifyProof(peer, now);
    return;
  }
}

void NodeKernel::onAuth(PeerRecord& peer, std::string proof, Millis now) {
  if (peer.receivedProof) return reject(peer, "duplicate Auth");
  peer.receivedProof = std::move(proof);
  if (peer.expectedProof) verifyProof(peer, now);
}

void NodeKernel::verifyProof(PeerRecord& peer, Millis now) {
  // Constant time: every byte is compared whatever the first difference.
  const std::string& a = *peer.expectedProof;
  const std::string& b = *peer.receivedProof;
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  if (diff != 0) {
    reject(peer, "wrong password proof");
    // As any failed connection: the dialer backs off before it tries again.
    connectionFailed(peer.id, "wrong room password", now);
    return;
  }
  peer.authenticated = true;
  if (!peer.initiator) sendFrame(peer, wire::Auth{*peer.ourProof});
  finishHandshake(peer, now);
}


void NodeKernel::finishHandshake(PeerRecord& peer, Millis now) {
  peer.failedDials = 0;
  peers_.setState(peer, PeerState::Connected, now);
  peer.connectedAt = now;
  peer.lastPingAt = now;
  peer.pingSentLate = false;
  emit(PeerConnected{peer.id});
  peer.reconcileBudget = 256;
  peer.reconcileBudgetAt = now;
  requestSync(peer);
  if (presence_) sendFrame(peer, wire::Presence{*presence_});
  sendFrame(peer, capabilities());
}

// ---- time ----------------------------------------------------------------------

void NodeKernel::handleTimeout(Millis now) {
  if (auto lease = scheduler_.nextTimeout(); lease && now >= *lease) {
    WorkScheduler::Actions actions;
    scheduler_.onTimeout(now, actions);
    applyWork(actions, now);
  }
  if (!isStarted()) return;
  // Each deadline is tested as `now >= base + interval`, the very sum
  // pollTimeout() returns: `now - base >= interval` may be false at that
  // time (doubles round differently), and the host's timer would spin.
  PeerServerLink::Actions actions;
  link_.onTimeout(now, actions);
  flushLink(actions, now);
  if (now >= nextAnnounceAt_) {
    sendSignal(SignalType::Announce, "", now);
    nextAnnounceAt_ = now + config_.announceIntervalMs;
  }
  if (fingerprintDueAt_ && now >= *fingerprintDueAt_) fingerprintTimers(now);
  std::vector<std::pair<std::string, const char*>> expired;
  std::vector<std::string> forgotten;
  for (auto& [id, peer] : peers_) {
    switch (peer.state) {
      case PeerState::Discovered:
        // A peer that stopped announcing is gone. One that announced since
        // its connection failed is redialled when its backoff is over; a dial
        // to a peer that is gone would only wait out the connect timeout.
        if (now >= peer.lastAnnouncedAt + 3 * config_.announceIntervalMs) {
          forgotten.push_back(id);
        } else if (peer.nextDialAt > 0 && now >= peer.nextDialAt && peer.lastAnnouncedAt > peer.failedAt &&
                   PeerTable::shouldDial(config_.nodeId, id)) {
          dial(peer, now);  // backoff over, and it has announced since the failure
        }
        break;
      case PeerState::Connecting:
      case PeerState::Handshaking:
        if (now >= peer.stateSince + config_.connectTimeoutMs) expired.emplace_back(id, "connect timeout");
        break;
      case PeerState::Connected: {
        // Silence alone is not enough: the peer must also have left a ping
        // unanswered for a ping interval. A node whose own timers were
        // throttled (a background tab) pings first when it wakes and judges
        // at its next wake, so two throttled tabs do not drop each other.
        // So does a node that wakes a ping interval late with its ping
        // outstanding: it was the one asleep (a long task in its page), and
        // the answer may be waiting behind this very wake-up.
        const bool wokeLate = now >= peer.lastPingAt + 2 * config_.pingIntervalMs && !peer.pingSentLate;
        if (!wokeLate && now >= peer.lastHeardAt + config_.peerTimeoutMs && peer.lastPingAt >= peer.lastHeardAt &&
            now >= peer.lastPingAt + config_.pingIntervalMs) {
          expired.emplace_back(id, "timeout");
        } else if (now >= peer.lastPingAt + config_.pingIntervalMs) {
          peer.pingSentLate = wokeLate;
          peer.lastPingAt = now;
          peer.pingNonce = nextPingNonce_++;
          sendFrame(peer, wire::Ping{peer.pingNonce});
          if (!map_.fingerprintCurrent() && !fingerprintDueAt_) fingerprintDueAt_ = now + 1;
          if (stateAckDue(peer, now)) sendStateAck(peer, now);
        }
        syncTimers(peer, now);
        break;
      }
    }
  }
  for (const auto& id : forgotten) dropPeer(id, "gone", true, now);
  for (const auto& [id, reason] : expired) connectionFailed(id, reason, now);
}

std::optional<Millis> NodeKernel::pollTimeout() const {
  std::optional<Millis> lease = scheduler_.nextTimeout();
  if (!isStarted()) return lease;
  Millis next = nextAnnounceAt_;
  if (lease) next = std::min(next, *lease);
  if (auto link = link_.nextTimeout()) next = std::min(next, *link);
  if (fingerprintDueAt_) next = std::min(next, *fingerprintDueAt_);
  for (const auto& [id, peer] : peers_) {
    switch (peer.state) {
      case PeerState::Discovered:
        next = std::min(next, peer.lastAnnouncedAt + 3 * config_.announceIntervalMs);
        // Until it announces again, its announce (not a timer) dials it.
        if (peer.nextDialAt > 0 && peer.lastAnnouncedAt > peer.failedAt && PeerTable::shouldDial(config_.nodeId, id))
          next = std::min(next, peer.nextDialAt);
        break;
      case PeerState::Connecting:
      case PeerState::Handshaking:
        next = std::min(next, peer.stateSince + config_.connectTimeoutMs);
        break;
      case PeerState::Connected:
        // A silent peer is judged on a ping tick (see handleTimeout).
        next = std::min(next, peer.lastPingAt + config_.pingIntervalMs);
        if (auto sync = syncDeadline(peer)) next = std::min(next, *sync);
        break;
    }
  }
  return next;
}

std::optional<Output> NodeKernel::pollOutput() {
  if (outputs_.empty()) return std::nullopt;
  Output o = std::move(outputs_.front());
  outputs_.pop_front();
  return o;
}

// ---- application inputs -----------------------------------------------------------

Result NodeKernel::requireInitialized(const char* operation) const {
  if (isInitialized()) return Result::success();
  return Result::failure(std::string("node must be initialized before ") + operation);
}

Result NodeKernel::validateKey(const std::string& key) const {
  if (key.empty()) return Result::failure("key must be a non-empty string");
  if (key.size() > kMaxKeyBytes) return Result::failure("key is longer than 65536 bytes");
  if (!isValidUtf8(key)) return Result::failure("key is not valid UTF-8");
  return Result::success();
}

Result NodeKernel::validateJson(const std::string& text, const char* what) const {
  if (!isJsonText(text)) return Result::failure(std::string(what) + " is not valid JSON text");
  return Result::success();
}

Result NodeKernel::write(const std::string& key, const std::string& json, Millis now) {
  return commit({{key, json}}, now);
}

Result NodeKernel::remove(const std::string& key, Millis now) { return commit({{key, std::nullopt}}, now); }

Result NodeKernel::clear(Millis now) {
  if (Result r = requireInitialized("clear()"); !r.ok) return r;
  // Atomic up to a transaction's limit; a larger state is cleared in several.
  std::vector<Operation> all = map_.deleteAllOperations();
  for (size_t begin = 0; begin < all.size(); begin += wire::kMaxWritesPerFrame / 2) {
    size_t end = std::min(all.size(), begin + wire::kMaxWritesPerFrame / 2);
    std::vector<Operation> part(std::make_move_iterator(all.begin() + begin), std::make_move_iterator(all.begin() + end));
    if (Result r = commit(part, now); !r.ok) return r;
  }
  return Result::success();
}

namespace {
// At least the bytes a transaction's Update frame takes: an entry's lengths,
// clock and sequence take at most 14 bytes beyond its key and value (its
// writes share one stamp and consecutive sequence numbers), and the frame's
// header, run header and first entry's absolute clock and sequence take at
// most 64 (PROTOCOL.md, frame limits; js-glue/state-manager.js counts alike).
size_t encodedBound(const std::vector<Operation>& ops) {
  size_t bytes = 64;
  for (const auto& [key, value] : ops) bytes += key.size() + (value ? value->size() : 0) + 14;
  return bytes;
}
}  // namespace

Result NodeKernel::commit(const std::vector<Operation>& ops, Millis now) {
  if (Result r = requireInitialized("writing state"); !r.ok) return r;
  for (const auto& [key, value] : ops) {
    Result r = validateKey(key);
    if (r.ok && value) r = validateJson(*value, "value");
    if (!r.ok) {
      ++counters_.rejectedWrites;
      return r;
    }
  }
  if (ops.empty()) return Result::success();
  // Every peer must accept what this node writes (PROTOCOL.md, frame limits).
  if (ops.size() > wire::kMaxWritesPerFrame || encodedBound(ops) > wire::kMaxStateFrameBytes) {
    ++counters_.rejectedWrites;
    return Result::failure("a transaction holds at most " + std::to_string(wire::kMaxWritesPerFrame) +
                           " keys and " + std::to_string(wire::kMaxStateFrameBytes >> 20) +
                           " MiB of keys and values; split it into several");
  }
  std::vector<KeyChange> changes;
  std::vector<Write> writes = map_.commitLocal(ops, clock_.tick(now), &changes);
  if (!changes.empty()) emit(StateChanged{"", std::move(changes)});
  persist(wire::Update{writes});
  broadcastWrites(writes);
  return Result::success();
}

void NodeKernel::broadcastWrites(const std::vector<Write>& writes) {
  if (!isStarted() || writes.empty()) return;
  wire::Frame update = wire::Update{writes};
  for (auto& [id, peer] : peers_)
    if (peer.state == PeerState::Connected) sendFrame(peer, update);
}

void NodeKernel::persist(const wire::Frame& frame) {
  if (!config_.persist) return;
  std::vector<uint8_t> bytes = wire::encode(frame);
  storedBytes_ += bytes.size();
  emit(PersistRecord{std::move(bytes)});
  // Compact once the records are several times the state they describe, so
  // storage stays proportional to the state and no write rewrites it all.
  if (!compactionRequested_ && storedBytes_ > std::max<size_t>(1 << 20, 2 * snapshotBytes_)) {
    compactionRequested_ = true;
    emit(CompactStorage{});
  }
}

std::vector<uint8_t> NodeKernel::snapshotForStorage() {
  std::vector<uint8_t> bytes = wire::encode(wire::SyncResponse{map_.stateVector(), map_.writesMissingFrom({})});
  snapshotBytes_ = bytes.size();
  storedBytes_ = 0;
  compactionRequested_ = false;
  return bytes;
}

std::vector<uint8_t> NodeKernel::encodeStateVector() const { return wire::encode(wire::SyncRequest{map_.stateVector()}); }

Result NodeKernel::encodeStateAsUpdate(const uint8_t* vector, size_t size, std::vector<uint8_t>* update) const {
  StateVector since;
  if (size > 0) {
    wire::Decoded d = wire::decode(vector, size, wire::Limits::local());
    auto* ack = d.frame ? std::get_if<wire::SyncRequest>(&*d.frame) : nullptr;
    if (!ack) return Result::failure(std::string("not a state vector: ") + (d.frame ? "wrong frame type" : wire::describe(d.error)));
    since = std::move(ack->seen);
  }
  *update = wire::encode(wire::SyncResponse{map_.stateVector(), map_.writesMissingFrom(since)});
  return Result::success();
}

Result NodeKernel::applyUpdate(const uint8_t* data, size_t size, bool fromStorage, Millis now) {
  if (Result r = requireInitialized("applyUpdate()"); !r.ok) return r;
  // Bytes from this node's own store or app: not bound by a peer frame's limits.
  wire::Decoded d = wire::decode(data, size, wire::Limits::local());
  if (!d.frame) return Result::failure(std::string("not an update: ") + wire::describe(d.error));
  std::vector<Write>* writes = nullptr;
  StateVector* seen = nullptr;
  if (auto* sync = std::get_if<wire::SyncResponse>(&*d.frame)) {
    seen = &sync->seen;
    writes = &sync->writes;
  } else if (auto* update = std::get_if<wire::Update>(&*d.frame)) {
    writes = &update->writes;
  } else {
    return Result::failure("not an update: wrong frame type");
  }
  // What this node stored it accepted once; an update from elsewhere obeys
  // the same clock rule as a peer's writes.
  if (!fromStorage) {
    auto tooFar = [&](const Write& w) { return !clock_.acceptable(w.stamp, now); };
    size_t before = writes->size();
    writes->erase(std::remove_if(writes->begin(), writes->end(), tooFar), writes->end());
    counters_.futureWrites += before - writes->size();
  }
  for (const Write& w : *writes) clock_.observe(w.stamp, now);
  ReplicatedMap::ApplyResult r = map_.applyRemote(*writes);
  if (seen) map_.mergeStateVector(*seen);
  if (!r.changes.empty()) emit(StateChanged{fromStorage ? "(storage)" : "(update)", std::move(r.changes)});
  if (!fromStorage && !r.won.empty()) {
    if (config_.persist) persist(wire::SyncResponse{map_.stateVector(), r.won});
    if (isStarted())
      for (auto& [id, peer] : peers_)
        if (peer.state == PeerState::Connected) sendWrites(peer, std::vector<Write>(r.won), nullptr);
  }
  return Result::success();
}

Result NodeKernel::sendToPeer(const std::string& peerId, const std::string& json, Millis now) {
  return sendMessage(peerId, json, MessageKind{}, now);
}

Result NodeKernel::broadcast(const std::string& json, Millis now) { return broadcastMessage(json, MessageKind{}, now); }

Result NodeKernel::messageFrame(std::string payload, MessageKind kind, wire::Frame* frame) const {
  if (!kind.binary) {
    if (Result r = validateJson(payload, "message"); !r.ok) return r;
    *frame = wire::AppMessage{std::move(payload)};
  } else {
    *frame = wire::BinaryMessage{std::move(payload)};
  }
  return Result::success();
}

void NodeKernel::sendMessageFrame(PeerRecord& peer, const wire::Frame& frame, MessageKind kind,
                                  const std::vector<uint8_t>* unreliableBytes) {
  ++peer.stats.messagesOut;
  if (kind.reliable) return sendFrame(peer, frame);
  peer.stats.bytesOut += unreliableBytes->size();
  ++peer.stats.framesOut;
  emit(SendData{peer.id, *unreliableBytes, true});
}

Result NodeKernel::sendMessage(const std::string& peerId, std::string payload, MessageKind kind, Millis now) {
  if (!isStarted()) return Result::failure("node must be started before sending messages");
  PeerRecord* peer = peers_.find(peerId);
  if (!peer || peer->state != PeerState::Connected) return Result::failure("peer " + peerId + " is not connected");
  return broadcastTo({peer}, std::move(payload), kind, now);
}

Result NodeKernel::broadcastMessage(std::string payload, MessageKind kind, Millis now) {
  if (!isStarted()) return Result::failure("node must be started before sending messages");
  std::vector<PeerRecord*> targets;
  for (auto& [id, peer] : peers_)
    if (peer.state == PeerState::Connected) targets.push_back(&peer);
  return broadcastTo(targets, std::move(payload), kind, now);
}

namespace {
size_t varuintBytes(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// The largest payload whose AppMessage or BinaryMessage frame fits `limit`
// bytes: magic, version and type, the body's length, then the body (the
// payload's length and the payload); see wire/PROTOCOL.md.
size_t largestMessagePayload(size_t limit) {
  for (size_t payload = limit; payload > 0; --payload) {
    size_t body = varuintBytes(payload) + payload;
    if (3 + varuintBytes(body) + body <= limit) return payload;
  }
  return 0;
}
}  // namespace

Result NodeKernel::broadcastTo(const std::vector<PeerRecord*>& targets, std::string payload, MessageKind kind, Millis) {
  wire::Frame frame;
  if (Result r = messageFrame(std::move(payload), kind, &frame); !r.ok) return r;
  std::vector<uint8_t> unreliable;
  if (!kind.reliable) {
    // No fragments on a channel that may lose or reorder them.
    unreliable = wire::encode(frame);
    if (unreliable.size() > config_.maxChannelMessageBytes)
      return Result::failure("an unreliable message must fit one channel message (" +
                             std::to_string(largestMessagePayload(config_.maxChannelMessageBytes)) +
                             " bytes); send larger ones reliably");
  }
  for (PeerRecord* peer : targets) sendMessageFrame(*peer, frame, kind, &unreliable);
  return Result::success();
}

Result NodeKernel::setPresence(const std::string& json, Millis) {
  if (Result r = requireInitialized("setPresence()"); !r.ok) return r;
  if (json.size() > wire::kMaxPresenceBytes)
    return Result::failure("presence is " + std::to_string(json.size()) + " bytes of JSON, over the limit of " +
                           std::to_string(wire::kMaxPresenceBytes));
  if (Result r = validateJson(json, "presence"); !r.ok) return r;
  if (json == "null") presence_.reset();
  else presence_ = json;
  if (isStarted()) {
    wire::Frame frame = wire::Presence{json};
    for (auto& [id, peer] : peers_)
      if (peer.state == PeerState::Connected) sendFrame(peer, frame);
  }
  return Result::success();
}

// ---- descriptions -------------------------------------------------------------------

json NodeKernel::describePeers() const {
  json out = json::array();
  for (const auto& [id, p] : peers_) {
    out.push_back({{"peerId", id},
                   {"state", toString(p.state)},
                   {"initiator", p.initiator},
                   {"transport", "webrtc"},
                   {"signaling", p.viaLocal ? json("broadcast-channel") : !p.serverId.empty() ? json("peerjs-server") : json(nullptr)},
                   {"passwordVerified", p.authenticated},
                   {"discoveredAt", p.discoveredAt},
                   {"connectedAt", p.state == PeerState::Connected ? json(p.connectedAt) : json(nullptr)},
                   {"lastMessageTime", p.lastMessageAt > 0 ? json(p.lastMessageAt) : json(nullptr)},
                   {"lastHeardAt", p.lastHeardAt > 0 ? json(p.lastHeardAt) : json(nullptr)},
                   {"rttMs", p.rttMs ? json(*p.rttMs) : json(nullptr)},
                   {"bytesIn", p.stats.bytesIn},
                   {"bytesOut", p.stats.bytesOut},
                   {"framesIn", p.stats.framesIn},
                   {"framesOut", p.stats.framesOut},
                   {"messagesIn", p.stats.messagesIn},
                   {"messagesOut", p.stats.messagesOut},
                   {"rejected", p.stats.rejected}});
  }
  return out;
}

json NodeKernel::describeStatus() const {
  json connectionStates = json::object();
  uint64_t bytesIn = 0, bytesOut = 0, messagesIn = 0, messagesOut = 0;
  for (const auto& [id, p] : peers_) {
    connectionStates[id] = toString(p.state);
    bytesIn += p.stats.bytesIn;
    bytesOut += p.stats.bytesOut;
    messagesIn += p.stats.messagesIn;
    messagesOut += p.stats.messagesOut;
  }
  size_t connected = connectedPeerCount();
  return {{"nodeId", config_.nodeId},
          {"roomId", config_.roomId},
          {"isInitialized", isInitialized()},
          {"isStarted", isStarted()},
          {"startedAt", isStarted() ? json(startedAt_) : json(nullptr)},
          {"topology", config_.topology},
          {"network",
           {{"peerId", config_.nodeId},
            {"peerCount", connected},
            {"knownPeers", peers_.size()},
            {"isConnected", connected > 0},
            {"connections", connected},  // a count, as in the original library
            {"connectionStates", connectionStates},
            {"bytesIn", bytesIn},
            {"bytesOut", bytesOut},
            {"messagesIn", messagesIn},
            {"messagesOut", messagesOut},
            {"rejectedFrames", counters_.rejectedFrames},
            {"rejectedSignals", counters_.rejectedSignals},
            {"shadowedSignals", counters_.shadowedSignals},
            {"lastRejection", counters_.lastRejection.empty() ? json(nullptr) : json(counters_.lastRejection)},
            {"passwordProtected", config_.sealed},
            {"signalingServer", link_.enabled() ? json{{"state", toString(link_.state())},
                                                       {"serverId", link_.serverId()},
                                                       {"url", link_.socketUrl().substr(0, link_.socketUrl().find('?'))},
                                                       {"roomMembers", directory_.size()},
                                                       {"reconnects", link_.reconnects()},
                                                       {"idTaken", link_.idTaken()},
                                                       {"lastError", link_.lastError().empty() ? json(nullptr) : json(link_.lastError())}}
                                                 : json(nullptr)}}},
          {"state",
           {{"keyCount", map_.size()},
            {"tombstones", map_.tombstones()},
            {"tombstoneBytes", map_.tombstoneBytes()},
            {"futureWrites", counters_.futureWrites},
            {"reconciliations", counters_.reconciliations},
            {"repairedWrites", counters_.repairedWrites},
            {"replicaId", config_.replicaId},
            {"rejectedWrites", counters_.rejectedWrites}}},
          {"compute", describeCompute()}};
}

}  // namespace pc
