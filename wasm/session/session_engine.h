// SessionEngine: every connection this node has, each a PeerSession. It
// opens them (OpenConnection), runs each handshake, keeps each alive with
// pings and judges it dead when it falls silent, reassembles fragments,
// counts the traffic, and hands the frames the handshake lets through to the
// router. It knows nothing of what those frames mean.
#pragma once

#include <map>
#include <string>

#include "kernel/engine_context.h"
#include "kernel/entropy_pool.h"
#include "session/peer_session.h"

namespace pc {

// What the router hears from the sessions.
class SessionEvents {
 public:
  virtual ~SessionEvents() = default;
  virtual void sessionEstablished(PeerSession& session, Millis now) = 0;
  // The session ended. failed: the connection failed (timed out, went
  // silent, a wrong password), and the dialer may try again; otherwise the
  // peer is not who it must be and is forgotten.
  virtual void sessionEnded(const std::string& peer, const std::string& reason, bool failed, Millis now) = 0;
  // A frame past the handshake that the session does not handle itself.
  virtual void frameArrived(PeerSession& session, wire::Frame&& frame, Millis now) = 0;
  // A ping went out: the heartbeat other engines' periodic work rides on.
  virtual void pingSent(const std::string& peer, Millis now) = 0;
};

class SessionEngine {
 public:
  // The frames a session handles itself; the rest go to the router. An
  // OwnUpdate goes on as the Update it is, once its writer is known.
  using Frames = FrameSet<wire::Hello, wire::Auth, wire::Ping, wire::Pong, wire::Fragment, wire::OwnUpdate>;

  SessionEngine(EngineContext& context, EntropyPool& entropy, SessionEvents& events)
      : ctx_(context), entropy_(entropy), events_(events) {}

  // What this node says in its Hellos (at initialize()).
  void configure(Handshake::Self self) { self_ = std::move(self); }

  // Opens a connection to `peer` (OpenConnection); the initiator makes the offer.
  PeerSession& open(const std::string& peer, bool initiator, Millis now);
  // Forgets a session, and its timers, without a word to the host.
  void remove(const std::string& peer);

  PeerSession* find(const std::string& peer);
  const PeerSession* find(const std::string& peer) const;
  const std::map<std::string, PeerSession>& all() const { return sessions_; }
  size_t count() const { return sessions_.size(); }
  size_t countIn(PeerState state) const;

  // The host's events.
  void onChannelOpen(const std::string& peer, Millis now);
  void onData(const std::string& peer, const uint8_t* data, size_t size, bool unreliable, Millis now);
  void onEntropy();
  void onProofs(uint64_t ticket, std::string proof, std::string expected, Millis now);
  void onConnectDeadline(const std::string& peer, Millis now);
  void onPingDeadline(const std::string& peer, Millis now);

  void send(PeerSession& session, const wire::Frame& frame);
  // An encoded message on the unordered, unreliable channel: one channel
  // message, never fragmented.
  void sendUnreliable(PeerSession& session, const std::vector<uint8_t>& bytes);
  void reject(PeerSession& session, const std::string& why);

 private:
  void act(PeerSession& session, Handshake::Actions& actions, Millis now);
  // Applies a handshake outcome; false when the session is gone.
  bool settle(PeerSession& session, const Handshake::Outcome& outcome, Millis now);
  void establish(PeerSession& session, Millis now);
  void deliver(PeerSession& session, wire::Frame&& frame, Millis now);

  EngineContext& ctx_;
  EntropyPool& entropy_;
  SessionEvents& events_;
  Handshake::Self self_;
  std::map<std::string, PeerSession> sessions_;
  uint64_t nextFragmentId_ = 1;
  uint64_t nextPingNonce_ = 1;
  uint64_t nextTicket_ = 1;
};

}  // namespace pc
