#include "discovery/discovery_engine.h"

#include <nlohmann/json.hpp>

#include "discovery/backoff.h"
#include "discovery/peer_server_route.h"

namespace pc {

namespace {
// Exactly one side of a pair dials: the one with the smaller id. Both sides
// evaluate the same rule, so discovering each other at the same moment
// still yields one connection.
bool shouldDial(const std::string& self, const std::string& peer) { return self < peer; }

SignalKind kindOf(SignalType type, std::string_view data) {
  switch (type) {
    case SignalType::Announce: return SignalKind::Announce;
    case SignalType::Leave: return SignalKind::Leave;
    case SignalType::Rtc:
      if (data.find("\"candidate\"") != std::string_view::npos && data.find("\"sdp\"") == std::string_view::npos)
        return SignalKind::Candidate;
      return data.find("\"answer\"") != std::string_view::npos ? SignalKind::Answer : SignalKind::Offer;
  }
  return SignalKind::Announce;
}
}  // namespace

void DiscoveryEngine::configure(std::vector<std::unique_ptr<SignalRoute>> routes, uint64_t seed) {
  routes_ = std::move(routes);
  rng_ = seed;
}

// ---- lifecycle ------------------------------------------------------------------

void DiscoveryEngine::start(Millis now) {
  started_ = true;
  // Peers tell a restarted node from its last run by this number, so it must
  // also grow across page loads, which start with a fresh kernel: it follows
  // the host's clock. (A count from 1 would make a reloaded page that kept
  // its node id look like the old one, and its offer land in the old,
  // half-dead connection.)
  incarnation_ = std::max<uint64_t>(incarnation_ + 1, now > 0 ? static_cast<uint64_t>(now) : 0);
  nextSignalCounter_ = 1;
  connectBudget_.refill(now);
  for (size_t r = 0; r < routes_.size(); ++r) {
    routes_[r]->start(now, ctx_.outputs);
    refreshRouteTimer(r);
  }
  sendSignal(SignalType::Announce, "", now);
  ctx_.timers.set(Timer::Announce, now + ctx_.config.announceIntervalMs);
}

void DiscoveryEngine::leave(Millis now) { sendSignal(SignalType::Leave, "", now); }

void DiscoveryEngine::stop() {
  for (auto& route : routes_) route->stop(ctx_.outputs);
  for (const auto& route : routes_) ctx_.timers.clear(Timer::Route, route->name());
  ctx_.timers.clear(Timer::Announce);
  sealing_.clear();
  unsealing_.clear();
  started_ = false;
}

// ---- sending -----------------------------------------------------------------------

void DiscoveryEngine::sendSignal(SignalType type, const std::string& to, Millis now, std::string data) {
  const NodeConfig& c = ctx_.config;
  // In a room with a password a route learns not even what kind of signal it carries.
  const SignalKind kind = c.sealed ? SignalKind::Sealed : kindOf(type, data);
  Signal s{type, c.roomId, c.nodeId, to, std::move(data), incarnation_, now > 0 ? static_cast<uint64_t>(now) : 0,
           nextSignalCounter_++};
  std::string text = encodeSignal(s);
  if (!to.empty()) {
    // One route per peer, so a pair never negotiates twice: the most
    // preferred route the peer was heard on, else any route that knows its
    // address, else a broadcast medium.
    const KnownPeer* peer = find(to);
    std::optional<size_t> heardOn = peer ? peer->route() : std::nullopt;
    if (heardOn && routes_[*heardOn]->broadcasts()) return transmit(*heardOn, to, kind, std::move(text));
    for (size_t r = 0; r < routes_.size(); ++r) {
      SignalRoute& route = *routes_[r];
      if (route.broadcasts()) continue;
      std::string address = peer ? peer->addressOn(r).value_or("") : "";
      if (address.empty())
        if (auto it = route.members().find(to); it != route.members().end()) address = it->second;
      if (address.empty() || !route.canSend()) continue;
      // Announces to a route's members are rationed, so a thousand ids
      // registered under the room's tag cost a bounded rate, not a flood.
      if (type == SignalType::Announce && !peer && !route.spendAnnounce(now)) return;
      return transmit(r, address, kind, std::move(text));
    }
    for (size_t r = 0; r < routes_.size(); ++r)
      if (routes_[r]->broadcasts()) return transmit(r, to, kind, std::move(text));
    return;
  }
  for (size_t r = 0; r < routes_.size(); ++r) {
    SignalRoute& route = *routes_[r];
    if (route.broadcasts() || !route.canSend()) continue;
    for (const auto& [id, address] : route.members()) {
      // Announces go only to members this node has no connection to, and
      // that it cannot reach on a route it prefers; a leave goes to all.
      if (type == SignalType::Announce) {
        const KnownPeer* peer = find(id);
        if (peer && ((peer->route() && *peer->route() < r) || hasConnection(id))) continue;
        if (!route.spendAnnounce(now)) break;
      }
      transmit(r, address, kind, text);
    }
  }
  for (size_t r = 0; r < routes_.size(); ++r)
    if (routes_[r]->broadcasts()) transmit(r, "", kind, text);
}

void DiscoveryEngine::transmit(size_t route, const std::string& address, SignalKind kind, std::string text) {
  if (!ctx_.config.sealed) return deliver(route, address, kind, text);
  uint64_t ticket = nextTicket_++;
  sealing_[ticket] = Outgoing{route, address, kind};
  ctx_.outputs.push_back(SealSignal{ticket, std::move(text)});
}

void DiscoveryEngine::deliver(size_t route, const std::string& address, SignalKind kind, const std::string& text) {
  routes_[route]->send(address, text, kind, ctx_.outputs);
}

void DiscoveryEngine::onSealed(uint64_t ticket, std::string sealed) {
  auto it = sealing_.find(ticket);
  if (it == sealing_.end()) return;
  Outgoing pending = std::move(it->second);
  sealing_.erase(it);
  if (!started_ || sealed.empty()) return;
  deliver(pending.route, pending.address, pending.kind, sealed);
}

void DiscoveryEngine::sendRtcSignal(const std::string& peer, std::string_view dataJson, Millis now) {
  if (!started_ || !find(peer)) return;
  nlohmann::json data = nlohmann::json::parse(dataJson.begin(), dataJson.end(), nullptr, false);
  if (data.is_discarded() || !data.is_object()) return;
  sendSignal(SignalType::Rtc, peer, now, std::string(dataJson));
}

// ---- receiving ---------------------------------------------------------------------

std::optional<size_t> DiscoveryEngine::indexOf(std::string_view route) const {
  for (size_t r = 0; r < routes_.size(); ++r)
    if (routes_[r]->name() == route) return r;
  return std::nullopt;
}

void DiscoveryEngine::onRouteOpen(std::string_view route, Millis now) {
  std::optional<size_t> r = indexOf(route);
  if (!started_ || !r) return;
  routes_[*r]->onOpen(now, ctx_.outputs);
  refreshRouteTimer(*r);
}

void DiscoveryEngine::onRouteClosed(std::string_view route, Millis now) {
  std::optional<size_t> r = indexOf(route);
  if (!started_ || !r) return;
  routes_[*r]->onClosed(now, ctx_.outputs);
  refreshRouteTimer(*r);
}

void DiscoveryEngine::onRouteMessage(std::string_view route, std::string_view text, Millis now) {
  std::optional<size_t> r = indexOf(route);
  if (!started_ || !r) return;
  RouteNews news;
  routes_[*r]->onMessage(text, now, ctx_.outputs, news);
  refreshRouteTimer(*r);
  heard(*r, news, now);
}

void DiscoveryEngine::onRouteListing(std::string_view route, bool ok, std::string_view listing, Millis now) {
  std::optional<size_t> r = indexOf(route);
  if (!started_ || !r) return;
  RouteNews news;
  routes_[*r]->onListing(ok, listing, now, news);
  heard(*r, news, now);
}

void DiscoveryEngine::heard(size_t route, RouteNews& news, Millis now) {
  for (const std::string& error : news.errors) rejectSignal(error);
  for (const RouteNews::Gone& gone : news.gone) memberGone(route, gone.nodeId, gone.address, now);
  for (RouteNews::Envelope& e : news.envelopes) receive(route, std::move(e.from), std::move(e.text), now);
  if (news.listed) {
    // Copied: an announce may change the route's members.
    const std::map<std::string, std::string> members = routes_[route]->members();
    for (const auto& [nodeId, address] : members)
      if (!find(nodeId)) sendSignal(SignalType::Announce, nodeId, now);
  }
}

// The route says a member is no longer at that address (its socket died, or
// our message found no one there). A connection that is up does not depend
// on the route, so only pending ones are given up.
void DiscoveryEngine::memberGone(size_t route, const std::string& nodeId, const std::string& address, Millis now) {
  const KnownPeer* peer = find(nodeId);
  if (!peer || peer->route() != route || peer->addressOn(route) != address) return;
  std::optional<PeerState> state = connections_.connectionState(nodeId);
  if (!state) connections_.dropPeer(nodeId, "left the signaling server", false, now);
  else if (*state != PeerState::Connected) connections_.connectionFailed(nodeId, "left the signaling server", now);
}

void DiscoveryEngine::receive(size_t route, std::string from, std::string text, Millis now) {
  if (text.size() > kMaxSignalBytes) return rejectSignal("signal larger than 64 KiB");
  if (!ctx_.config.sealed) return process(route, from, text, now);
  uint64_t ticket = nextTicket_++;
  unsealing_[ticket] = Incoming{route, std::move(from)};
  ctx_.outputs.push_back(UnsealSignal{ticket, std::move(text)});
}

void DiscoveryEngine::onUnsealed(uint64_t ticket, bool ok, std::string_view text, Millis now) {
  auto it = unsealing_.find(ticket);
  if (it == unsealing_.end()) return;
  Incoming pending = std::move(it->second);
  unsealing_.erase(it);
  if (!ok) return rejectSignal("a signal did not decrypt with this room's password");
  process(pending.route, pending.from, text, now);
}

void DiscoveryEngine::rejectSignal(const std::string& why) {
  ++ctx_.counters.rejectedSignals;
  ctx_.counters.noteRejection("signal: " + why);
}

void DiscoveryEngine::process(size_t r, const std::string& from, std::string_view text, Millis now) {
  if (!started_) return;
  const NodeConfig& c = ctx_.config;
  std::string error;
  std::optional<Signal> s = decodeSignal(text, &error);
  if (!s) return rejectSignal(error);
  // Other rooms and other recipients share the routes; they are not errors.
  if (s->from == c.nodeId || s->room != c.roomId) return;
  if (!s->to.empty() && s->to != c.nodeId) return;
  // A signal far from our clock was replayed, or comes from a peer whose
  // clock is wrong; an incarnation is a start time, so it is bounded alike.
  const uint64_t clock = now > 0 ? static_cast<uint64_t>(now) : 0;
  const uint64_t drift = static_cast<uint64_t>(c.maxClockDriftMs);
  if (s->sentAt + drift < clock || s->sentAt > clock + drift)
    return rejectSignal("a signal sent too long ago or in the future (replayed, or the sender's clock is wrong)");
  if (s->incarnation > clock + drift) return rejectSignal("an incarnation ahead of this node's clock");
  if (!replay_.firstSighting(s->from, s->incarnation, s->counter, now)) return;
  SignalRoute& route = *routes_[r];
  // On a broadcast medium a node's address is its id, which the envelope carries.
  const std::string address = route.broadcasts() ? s->from : from;
  bool shadowed = false;
  if (std::string why = route.checkSender(address, s->from, &shadowed); !why.empty()) {
    if (shadowed) ++ctx_.counters.shadowedSignals;
    return rejectSignal(why);
  }

  KnownPeer* peer = peers_.count(s->from) ? &peers_.at(s->from) : nullptr;
  // A connection is never torn down, nor rerouted, by a signal that does not
  // come the way the connection was made: only the peer's own route speaks for it.
  if (peer && hasConnection(peer->id) && (peer->route() != r || peer->addressOn(r) != address)) return;
  if (!route.broadcasts() && (!peer || !hasConnection(peer->id))) route.learn(s->from, address);
  if (peer && s->incarnation != peer->incarnation) {
    // A signal from an earlier run of the peer is stale. One from a later run
    // means the peer restarted: whatever we had with it is gone.
    if (s->incarnation < peer->incarnation) return;
    connections_.dropPeer(s->from, "peer restarted", true, now);
    peer = nullptr;
  }
  switch (s->type) {
    case SignalType::Announce: {
      if (peer && dialerGaveUp(*peer, *s, route.broadcasts())) {
        // Our half waits for nothing: drop it, and answer the announce below
        // as a newcomer's, so that the peer dials again now rather than
        // after our connect timeout.
        connections_.connectionFailed(s->from, "the dialing peer gave the connection up", now);
        peer = nullptr;
      }
      bool isNew = !peer;
      if (isNew) {
        if (!makeRoomForPeer()) return;
        peer = &add(s->from, now);
        peer->incarnation = s->incarnation;
      }
      peer->heardOn(r, address);
      peer->lastAnnouncedAt = now;
      const bool dials = shouldDial(c.nodeId, peer->id);
      const bool unconnected = !hasConnection(peer->id);
      // A newcomer announces to everyone, or (through a server) to each
      // member it listed; answer it directly so it learns of this node now,
      // and so that it can dial when it is the one to.
      if ((isNew && s->to.empty()) || (!dials && !s->to.empty() && unconnected))
        sendSignal(SignalType::Announce, s->from, now);
      if (unconnected && dials && now >= peer->nextDialAt) dial(*peer, now);
      refreshTimers(*peer);
      return;
    }
    case SignalType::Leave:
      if (peer) connections_.dropPeer(s->from, "left", true, now);
      return;
    case SignalType::Rtc: {
      if (!peer || !hasConnection(peer->id)) {
        // Only the dialer may open a connection; a stray payload for a
        // connection this node should dial itself is stale and ignored. An
        // offer over the budget is ignored too: the dialer times out and
        // tries again later.
        if (!shouldDial(s->from, c.nodeId)) return;
        if (!mayOpenConnection(now)) return;
        if (!peer && !makeRoomForPeer()) return;
        if (!peer) peer = &add(s->from, now);
        peer->incarnation = s->incarnation;
        peer->lastAnnouncedAt = now;
        peer->openedBySignal = s->counter;
        connections_.openConnection(peer->id, false, now);
      }
      peer->heardOn(r, address);
      refreshTimers(*peer);
      ctx_.outputs.push_back(DeliverRtcSignal{peer->id, std::move(s->data)});
      return;
    }
  }
}

// ---- peers and dials -------------------------------------------------------------

// A peer that dials us announces only to members it holds no connection to
// (a listing's unknown members, its periodic announce on a server, its answer
// to a newcomer). So an announce it sent after the signal that opened our
// half of a connection still pending means it gave that connection up: its
// side failed (a DTLS or ICE failure, say) and our side would otherwise wait
// out the whole connect timeout. Signal counters order one incarnation's
// signals across routes. On a broadcast medium the periodic announce goes to
// everyone, connected or not, so there only one addressed to us counts.
bool DiscoveryEngine::dialerGaveUp(const KnownPeer& peer, const Signal& announce, bool broadcastRoute) const {
  if (peer.openedBySignal == 0 || announce.counter <= peer.openedBySignal) return false;
  if (shouldDial(ctx_.config.nodeId, peer.id)) return false;
  if (broadcastRoute && announce.to.empty()) return false;
  std::optional<PeerState> state = connections_.connectionState(peer.id);
  return state && *state != PeerState::Connected;
}

KnownPeer& DiscoveryEngine::add(const std::string& peer, Millis now) {
  KnownPeer& p = peers_[peer];
  p.id = peer;
  p.discoveredAt = now;
  return p;
}

bool DiscoveryEngine::mayOpenConnection(Millis now) {
  if (connections_.connectionCount() >= ctx_.config.maxConnections ||
      connections_.pendingConnectionCount() >= kMaxPendingConnections)
    return false;
  return connectBudget_.spend(now);
}

bool DiscoveryEngine::makeRoomForPeer() {
  size_t known = 0;
  const KnownPeer* stalest = nullptr;
  for (const auto& [id, p] : peers_) {
    if (hasConnection(id)) continue;
    ++known;
    if (!stalest || p.lastAnnouncedAt < stalest->lastAnnouncedAt) stalest = &p;
  }
  if (known < kMaxKnownPeers) return true;
  if (!stalest) return false;
  forget(std::string(stalest->id));
  return true;
}

void DiscoveryEngine::dial(KnownPeer& peer, Millis now) {
  // Over the budget the peer stays known, and is tried again later (on its
  // next announce, or its Redial deadline).
  if (!mayOpenConnection(now)) {
    peer.nextDialAt = now + ctx_.config.redialBaseMs;
    return refreshTimers(peer);
  }
  connections_.openConnection(peer.id, true, now);
  refreshTimers(peer);
}

void DiscoveryEngine::refreshTimers(const KnownPeer& peer) {
  if (hasConnection(peer.id)) {
    ctx_.timers.clear(Timer::Forget, peer.id);
    ctx_.timers.clear(Timer::Redial, peer.id);
    return;
  }
  // A peer that stopped announcing is gone. One that announced since its
  // connection failed is redialled when its backoff is over; a dial to a
  // peer that is gone would only wait out the connect timeout. Until it
  // announces again, its announce (not a deadline) dials it.
  ctx_.timers.set(Timer::Forget, peer.id, peer.lastAnnouncedAt + 3 * ctx_.config.announceIntervalMs);
  const bool redials =
      peer.nextDialAt > 0 && peer.lastAnnouncedAt > peer.failedAt && shouldDial(ctx_.config.nodeId, peer.id);
  ctx_.timers.setOrClear(Timer::Redial, peer.id, redials ? std::optional<Millis>(peer.nextDialAt) : std::nullopt);
}

void DiscoveryEngine::refreshRouteTimer(size_t route) {
  ctx_.timers.setOrClear(Timer::Route, routes_[route]->name(), routes_[route]->nextTimeout());
}

void DiscoveryEngine::onAnnounceDeadline(Millis now) {
  if (!started_) return;
  sendSignal(SignalType::Announce, "", now);
  ctx_.timers.set(Timer::Announce, now + ctx_.config.announceIntervalMs);
}

void DiscoveryEngine::onRouteDeadline(const std::string& route, Millis now) {
  std::optional<size_t> r = indexOf(route);
  if (!started_ || !r) return;
  routes_[*r]->onTimeout(now, ctx_.outputs);
  refreshRouteTimer(*r);
}

void DiscoveryEngine::onForgetDeadline(const std::string& peer, Millis now) {
  const KnownPeer* p = find(peer);
  if (!p || hasConnection(peer)) return;
  if (now >= p->lastAnnouncedAt + 3 * ctx_.config.announceIntervalMs) return connections_.dropPeer(peer, "gone", true, now);
  refreshTimers(*p);
}

void DiscoveryEngine::onRedialDeadline(const std::string& peer, Millis now) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || hasConnection(peer)) return;
  KnownPeer& p = it->second;
  if (p.nextDialAt > 0 && now >= p.nextDialAt && p.lastAnnouncedAt > p.failedAt &&
      shouldDial(ctx_.config.nodeId, peer))
    return dial(p, now);  // backoff over, and it has announced since the failure
  refreshTimers(p);
}

void DiscoveryEngine::connected(const std::string& peer) {
  if (auto it = peers_.find(peer); it != peers_.end()) it->second.failedDials = 0;
}

std::optional<KnownPeer> DiscoveryEngine::redialPlan(const std::string& peer, Millis now) {
  const KnownPeer* p = find(peer);
  if (!p || !shouldDial(ctx_.config.nodeId, peer)) return std::nullopt;
  if (now - p->lastAnnouncedAt >= 3 * ctx_.config.announceIntervalMs) return std::nullopt;  // long quiet: gone
  KnownPeer again;
  again.id = peer;
  again.incarnation = p->incarnation;
  again.discoveredAt = now;
  again.lastAnnouncedAt = p->lastAnnouncedAt;
  again.failedDials = p->failedDials + 1;
  again.failedAt = now;
  again.nextDialAt = now + backoffDelay(ctx_.config.redialBaseMs, ctx_.config.redialMaxMs, again.failedDials, rng_);
  return again;
}

void DiscoveryEngine::reinstate(KnownPeer peer) {
  std::string id = peer.id;
  refreshTimers(peers_[id] = std::move(peer));
}

void DiscoveryEngine::forget(const std::string& peer) {
  peers_.erase(peer);
  ctx_.timers.clear(Timer::Forget, peer);
  ctx_.timers.clear(Timer::Redial, peer);
}

// ---- queries -------------------------------------------------------------------------

const KnownPeer* DiscoveryEngine::find(const std::string& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second;
}

std::string DiscoveryEngine::routeOf(const KnownPeer& peer) const {
  std::optional<size_t> r = peer.route();
  return r ? routes_[*r]->name() : std::string();
}

std::string DiscoveryEngine::addressOn(const KnownPeer& peer, std::string_view route) const {
  std::optional<size_t> r = indexOf(route);
  return r ? peer.addressOn(*r).value_or("") : std::string();
}

const SignalRoute* DiscoveryEngine::route(std::string_view name) const {
  std::optional<size_t> r = indexOf(name);
  return r ? routes_[*r].get() : nullptr;
}

std::vector<std::string> DiscoveryEngine::routeNames() const {
  std::vector<std::string> names;
  for (const auto& route : routes_) names.push_back(route->name());
  return names;
}

const PeerServerLink* DiscoveryEngine::serverLink() const {
  // Only a PeerServerRoute carries that name, so the cast needs no RTTI
  // (the wasm builds without it).
  const auto* server = static_cast<const PeerServerRoute*>(route(PeerServerRoute::kName));
  return server ? &server->link() : nullptr;
}

}  // namespace pc
