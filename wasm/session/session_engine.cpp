#include "session/session_engine.h"

namespace pc {

PeerSession& SessionEngine::open(const std::string& peer, bool initiator, Millis now) {
  sessions_.erase(peer);
  PeerSession& s =
      sessions_.try_emplace(peer, peer, initiator, Handshake(self_, peer, initiator), ctx_.config.maxFrameBytes, now)
          .first->second;
  ctx_.timers.set(Timer::Connect, peer, now + ctx_.config.connectTimeoutMs);
  ctx_.outputs.push_back(OpenConnection{peer, initiator});
  return s;
}

void SessionEngine::remove(const std::string& peer) {
  if (sessions_.erase(peer) == 0) return;
  ctx_.timers.clear(Timer::Connect, peer);
  ctx_.timers.clear(Timer::Ping, peer);
}

PeerSession* SessionEngine::find(const std::string& peer) {
  auto it = sessions_.find(peer);
  return it == sessions_.end() ? nullptr : &it->second;
}

const PeerSession* SessionEngine::find(const std::string& peer) const {
  auto it = sessions_.find(peer);
  return it == sessions_.end() ? nullptr : &it->second;
}

size_t SessionEngine::countIn(PeerState state) const {
  size_t n = 0;
  for (const auto& [id, s] : sessions_) n += s.state == state;
  return n;
}

// ---- the handshake -----------------------------------------------------------

void SessionEngine::onChannelOpen(const std::string& peer, Millis now) {
  PeerSession* s = find(peer);
  if (!s || s->state != PeerState::Connecting) return;
  s->state = PeerState::Handshaking;
  s->stateSince = now;
  s->lastHeardAt = now;
  ctx_.timers.set(Timer::Connect, peer, now + ctx_.config.connectTimeoutMs);
  Handshake::Actions actions;
  s->handshake.onChannelOpen(actions);
  act(*s, actions, now);
}

// Hellos that waited for a challenge go now.
void SessionEngine::onEntropy() {
  for (auto& [id, s] : sessions_) {
    if (s.state != PeerState::Handshaking || s.handshake.step() != Handshake::Step::HelloBlocked) continue;
    std::optional<std::string> challenge = entropy_.take(16, ctx_.outputs);
    if (!challenge) return;
    Handshake::Actions actions;
    s.handshake.onChallenge(std::move(*challenge), actions);
    act(s, actions, s.lastHeardAt);
  }
}

void SessionEngine::onProofs(uint64_t ticket, std::string proof, std::string expected, Millis now) {
  for (auto& [id, s] : sessions_) {
    if (s.proofsTicket != ticket) continue;
    if (s.state != PeerState::Handshaking) return;
    Handshake::Actions actions;
    Handshake::Outcome outcome = s.handshake.onProofs(std::move(proof), std::move(expected), actions);
    if (settle(s, outcome, now)) act(s, actions, now);
    return;
  }
}

void SessionEngine::act(PeerSession& s, Handshake::Actions& actions, Millis now) {
  if (actions.wantsChallenge) {
    // Without randomness the Hello waits for the host's (onEntropy).
    std::optional<std::string> challenge = entropy_.take(16, ctx_.outputs);
    if (!challenge) return;
    Handshake::Actions next;
    s.handshake.onChallenge(std::move(*challenge), next);
    return act(s, next, now);
  }
  if (actions.send) send(s, *actions.send);
  if (actions.requestProofs) {
    // The host computes the proofs: the password never enters the kernel.
    s.proofsTicket = nextTicket_++;
    ctx_.outputs.push_back(AuthenticatePeer{s.proofsTicket, s.id, s.handshake.ourChallenge(), s.handshake.theirChallenge()});
  }
  if (actions.sendAuth) send(s, *actions.sendAuth);
  if (actions.established) establish(s, now);
}

bool SessionEngine::settle(PeerSession& s, const Handshake::Outcome& outcome, Millis now) {
  if (!outcome.rejected.empty()) reject(s, outcome.rejected);
  if (outcome.then == Handshake::Then::GoOn) return true;
  events_.sessionEnded(s.id, outcome.reason, outcome.then == Handshake::Then::Fail, now);  // s is gone
  return false;
}

void SessionEngine::establish(PeerSession& s, Millis now) {
  s.state = PeerState::Connected;
  s.stateSince = now;
  s.connectedAt = now;
  s.lastPingAt = now;
  s.pingSentLate = false;
  ctx_.timers.clear(Timer::Connect, s.id);
  ctx_.timers.set(Timer::Ping, s.id, now + ctx_.config.pingIntervalMs);
  events_.sessionEstablished(s, now);
}

// ---- frames ------------------------------------------------------------------

void SessionEngine::onData(const std::string& peer, const uint8_t* data, size_t size, bool unreliable, Millis now) {
  PeerSession* s = find(peer);
  if (!s || (s->state == PeerState::Connecting && unreliable)) {
    ++ctx_.counters.rejectedFrames;
    ctx_.counters.noteRejection("data from " + peer + " before its channel opened");
    return;
  }
  // Bytes on the reliable channel prove it open, though the host has not
  // said so yet: a browser may dispatch an answerer's first message (the
  // peer's Hello) before the channel's open event. Dropping it would leave
  // this side waiting for a Hello that never comes again.
  if (s->state == PeerState::Connecting) onChannelOpen(peer, now);
  s->stats.bytesIn += size;
  // The header first: whether this frame may come now, and whether it is
  // within its type's limit, is decided before anything of it is decoded.
  const wire::Limits limits{ctx_.config.maxFrameBytes};
  wire::DecodeError error = wire::DecodeError::None;
  std::optional<wire::Header> header = wire::peekHeader(data, size, limits, &error);
  if (!header) return reject(*s, wire::describe(error));
  const wire::FrameType type = header->type;
  if (unreliable) {
    if (type != wire::FrameType::AppMessage && type != wire::FrameType::BinaryMessage)
      return reject(*s, "only messages travel on the unreliable channel");
    // That channel is not ordered with the reliable one: a message the peer
    // sent as soon as it was connected may overtake the end of our handshake
    // (its Hello or Auth). It is lost, as any message there may be, but it is
    // no fault of the peer's; nothing is delivered before the handshake ends.
    if (s->state != PeerState::Connected) return;
  }
  // Until the handshake is done only its own small frames are decoded; a
  // peer that has not proved the password makes this node reassemble,
  // parse and store nothing.
  if (s->state == PeerState::Handshaking && type != s->handshake.expects())
    return reject(*s, s->handshake.expects() == wire::FrameType::Hello
                          ? "expected Hello first"
                          : "expected the password proof (Auth) after Hello");
  wire::Decoded d = wire::decode(data, size, limits);
  if (!d.frame) return reject(*s, wire::describe(d.error));
  ++s->stats.framesIn;
  s->lastHeardAt = now;

  if (auto* f = std::get_if<wire::Fragment>(&*d.frame)) {
    std::vector<uint8_t> whole;
    switch (s->assembler.add(*f, &whole)) {
      case wire::FragmentAssembler::Result::Incomplete:
      case wire::FragmentAssembler::Result::Discarded: return;
      case wire::FragmentAssembler::Result::Rejected: return reject(*s, s->assembler.lastError());
      case wire::FragmentAssembler::Result::Complete: break;
    }
    d = wire::decode(whole, limits);
    if (!d.frame) return reject(*s, std::string("reassembled frame: ") + wire::describe(d.error));
  }
  deliver(*s, std::move(*d.frame), now);
}

void SessionEngine::deliver(PeerSession& s, wire::Frame&& frame, Millis now) {
  if (s.state == PeerState::Handshaking) {
    Handshake::Actions actions;
    Handshake::Outcome outcome;
    if (auto* hello = std::get_if<wire::Hello>(&frame)) {
      outcome = s.handshake.onHello(*hello, actions);
      if (outcome.rejected.empty()) s.replica = hello->replica;
    } else if (auto* auth = std::get_if<wire::Auth>(&frame)) {
      outcome = s.handshake.onAuth(std::move(auth->proof), actions);
    } else {  // a fragment's content: only the handshake's own frames may come now
      return reject(s, s.handshake.expects() == wire::FrameType::Hello
                           ? "expected Hello first"
                           : "expected the password proof (Auth) after Hello");
    }
    if (settle(s, outcome, now)) act(s, actions, now);
    return;
  }
  if (std::holds_alternative<wire::Hello>(frame)) return reject(s, "duplicate Hello");
  if (std::holds_alternative<wire::Auth>(frame)) return reject(s, "Auth after the handshake");
  if (std::holds_alternative<wire::Fragment>(frame)) return reject(s, "nested fragment");
  if (auto* ping = std::get_if<wire::Ping>(&frame)) {
    // Answered here, not on a timer, so a peer whose timers are throttled
    // still proves it is alive whenever it is pinged.
    return send(s, wire::Pong{ping->nonce});
  }
  if (auto* pong = std::get_if<wire::Pong>(&frame)) {
    if (pong->nonce == s.pingNonce) s.rttMs = now - s.lastPingAt;
    return;
  }
  if (std::holds_alternative<wire::AppMessage>(frame) || std::holds_alternative<wire::BinaryMessage>(frame)) {
    ++s.stats.messagesIn;
    s.lastMessageAt = now;
  }
  if (auto* own = std::get_if<wire::OwnUpdate>(&frame)) {
    // The sender's own transaction: its writer is the replica its Hello named.
    for (Write& w : own->writes) w.stamp.replica = s.replica;
    frame = wire::Update{std::move(own->writes)};
  }
  events_.frameArrived(s, std::move(frame), now);
}

void SessionEngine::send(PeerSession& s, const wire::Frame& frame) {
  if (std::holds_alternative<wire::AppMessage>(frame) || std::holds_alternative<wire::BinaryMessage>(frame))
    ++s.stats.messagesOut;
  std::vector<uint8_t> bytes = wire::encode(frame);
  auto emit = [&](std::vector<uint8_t>&& b) {
    s.stats.bytesOut += b.size();
    ++s.stats.framesOut;
    ctx_.outputs.push_back(SendData{s.id, std::move(b)});
  };
  if (bytes.size() <= ctx_.config.maxChannelMessageBytes) return emit(std::move(bytes));
  // Room for the fragment header inside each channel message.
  size_t piece = ctx_.config.maxChannelMessageBytes - 32;
  for (auto& f : wire::fragment(bytes, nextFragmentId_++, piece)) emit(std::move(f));
}

void SessionEngine::sendUnreliable(PeerSession& s, const std::vector<uint8_t>& bytes) {
  ++s.stats.messagesOut;
  s.stats.bytesOut += bytes.size();
  ++s.stats.framesOut;
  ctx_.outputs.push_back(SendData{s.id, bytes, true});
}

void SessionEngine::reject(PeerSession& s, const std::string& why) {
  ++s.stats.rejected;
  ++ctx_.counters.rejectedFrames;
  ctx_.counters.noteRejection("from " + s.id + ": " + why);
}

// ---- time --------------------------------------------------------------------

void SessionEngine::onConnectDeadline(const std::string& peer, Millis now) {
  PeerSession* s = find(peer);
  if (!s || s->state == PeerState::Connected || now < s->stateSince + ctx_.config.connectTimeoutMs) return;
  events_.sessionEnded(peer, "connect timeout", true, now);
}

void SessionEngine::onPingDeadline(const std::string& peer, Millis now) {
  PeerSession* s = find(peer);
  if (!s || s->state != PeerState::Connected) return;
  const NodeConfig& c = ctx_.config;
  // Silence alone is not enough: the peer must also have left a ping
  // unanswered for a ping interval. A node whose own timers were throttled
  // (a background tab) pings first when it wakes and judges at its next
  // wake, so two throttled tabs do not drop each other. So does a node that
  // wakes a ping interval late with its ping outstanding: it was the one
  // asleep (a long task in its page), and the answer may be waiting behind
  // this very wake-up.
  const bool wokeLate = now >= s->lastPingAt + 2 * c.pingIntervalMs && !s->pingSentLate;
  if (!wokeLate && now >= s->lastHeardAt + c.peerTimeoutMs && s->lastPingAt >= s->lastHeardAt &&
      now >= s->lastPingAt + c.pingIntervalMs)
    return events_.sessionEnded(peer, "timeout", true, now);
  if (now >= s->lastPingAt + c.pingIntervalMs) {
    s->pingSentLate = wokeLate;
    s->lastPingAt = now;
    s->pingNonce = nextPingNonce_++;
    send(*s, wire::Ping{s->pingNonce});
    ctx_.timers.set(Timer::Ping, peer, now + c.pingIntervalMs);
    events_.pingSent(peer, now);
    return;
  }
  ctx_.timers.set(Timer::Ping, peer, s->lastPingAt + c.pingIntervalMs);
}

}  // namespace pc
