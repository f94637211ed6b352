// DiscoveryEngine: how nodes of a room find each other and negotiate their
// connections, over every signaling route this node has (signal_route.h).
//
// It announces this node, keeps the peers it heard of (KnownPeer), decides
// whom to dial and whose offer to answer within the connection budget,
// refuses replayed, stale or forged signals, backs off from peers whose
// connections failed, and carries WebRTC's SDP and ICE between the host's
// connections and the routes. With a room password, the host seals and
// unseals every signal (SealSignal, UnsealSignal).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "discovery/known_peer.h"
#include "discovery/replay_guard.h"
#include "discovery/signal_route.h"
#include "discovery/token_bucket.h"
#include "kernel/engine_context.h"
#include "kernel/peer_state.h"
#include "signaling/peer_server_link.h"
#include "signaling/signal_codec.h"

namespace pc {

// What discovery asks of the connections (the router, over the sessions).
class ConnectionControl {
 public:
  virtual ~ConnectionControl() = default;
  // The state of the peer's connection; nullopt when it has none.
  virtual std::optional<PeerState> connectionState(const std::string& peer) const = 0;
  virtual size_t connectionCount() const = 0;         // connections of any state
  virtual size_t pendingConnectionCount() const = 0;  // those not yet through their handshake
  virtual void openConnection(const std::string& peer, bool initiator, Millis now) = 0;
  // Forgets the peer in every engine (its connection closed, if it has one
  // and closeConnection).
  // (The id by value: callers often pass the id of an entry it erases.)
  virtual void dropPeer(std::string peer, const std::string& reason, bool closeConnection, Millis now) = 0;
  virtual void connectionFailed(const std::string& peer, const std::string& reason, Millis now) = 0;
};

class DiscoveryEngine {
 public:
  // Connection budget (PROTOCOL.md, section 1): at most this many still being
  // set up, and new ones at this rate (a burst, then per second).
  static constexpr size_t kMaxPendingConnections = 8;
  static constexpr double kConnectBurst = 32, kConnectPerSecond = 2;
  // Peers known and not connected, at most.
  static constexpr size_t kMaxKnownPeers = 256;

  DiscoveryEngine(EngineContext& context, ConnectionControl& connections)
      : ctx_(context), connections_(connections) {}

  // At initialize(): the routes this node signals on, most preferred first,
  // and the seed of the redial jitter.
  void configure(std::vector<std::unique_ptr<SignalRoute>> routes, uint64_t seed);

  void start(Millis now);
  // Says goodbye on every route; stop() follows once the peers are dropped.
  void leave(Millis now);
  void stop();
  bool started() const { return started_; }

  // The host's transports and cryptography.
  void onRouteOpen(std::string_view route, Millis now);
  void onRouteClosed(std::string_view route, Millis now);
  void onRouteMessage(std::string_view route, std::string_view text, Millis now);
  void onRouteListing(std::string_view route, bool ok, std::string_view listing, Millis now);
  void onSealed(uint64_t ticket, std::string sealed);
  void onUnsealed(uint64_t ticket, bool ok, std::string_view text, Millis now);
  // An SDP or ICE payload of this node's connection to `peer`, for the peer.
  void sendRtcSignal(const std::string& peer, std::string_view dataJson, Millis now);

  // Deadlines (TimerTable).
  void onAnnounceDeadline(Millis now);
  void onRouteDeadline(const std::string& route, Millis now);
  void onForgetDeadline(const std::string& peer, Millis now);
  void onRedialDeadline(const std::string& peer, Millis now);

  // From the router.
  void connected(const std::string& peer);  // its handshake is done
  // A connection failed: the dialing side keeps the peer (as returned, to
  // reinstate() once it is dropped) and redials after a backoff; the other
  // side forgets it and waits to be dialled.
  std::optional<KnownPeer> redialPlan(const std::string& peer, Millis now);
  void reinstate(KnownPeer peer);
  void forget(const std::string& peer);

  // Queries.
  const KnownPeer* find(const std::string& peer) const;
  const std::map<std::string, KnownPeer>& peers() const { return peers_; }
  uint64_t incarnation() const { return incarnation_; }
  // The route signals to `peer` take; empty when none.
  std::string routeOf(const KnownPeer& peer) const;
  // The peer's address on a route; empty when it was not heard there.
  std::string addressOn(const KnownPeer& peer, std::string_view route) const;
  const SignalRoute* route(std::string_view name) const;
  std::vector<std::string> routeNames() const;
  const PeerServerLink* serverLink() const;

 private:
  std::optional<size_t> indexOf(std::string_view route) const;
  void sendSignal(SignalType type, const std::string& to, Millis now, std::string data = {});
  void transmit(size_t route, const std::string& address, SignalKind kind, std::string text);
  void deliver(size_t route, const std::string& address, SignalKind kind, const std::string& text);
  void heard(size_t route, RouteNews& news, Millis now);
  void receive(size_t route, std::string from, std::string text, Millis now);
  void process(size_t route, const std::string& from, std::string_view text, Millis now);
  void memberGone(size_t route, const std::string& nodeId, const std::string& address, Millis now);
  void rejectSignal(const std::string& why);
  // Whether a new connection fits the budget now: the connection cap, the
  // cap on connections still being set up, and a rate of new ones.
  bool mayOpenConnection(Millis now);
  // Room for one more known peer, by forgetting the stalest one not
  // connected; false when every entry is a connection.
  bool makeRoomForPeer();
  // Whether `announce` shows that the peer, our dialer, gave up the
  // connection still pending between us (see the definition).
  bool dialerGaveUp(const KnownPeer& peer, const Signal& announce, bool broadcastRoute) const;
  KnownPeer& add(const std::string& peer, Millis now);
  void dial(KnownPeer& peer, Millis now);
  // Sets the peer's Forget and Redial deadlines from its state.
  void refreshTimers(const KnownPeer& peer);
  void refreshRouteTimer(size_t route);
  bool hasConnection(const std::string& peer) const { return connections_.connectionState(peer).has_value(); }

  EngineContext& ctx_;
  ConnectionControl& connections_;
  std::vector<std::unique_ptr<SignalRoute>> routes_;
  std::map<std::string, KnownPeer> peers_;
  bool started_ = false;
  uint64_t incarnation_ = 0;  // grows with every start(), and with the host's clock
  uint64_t nextSignalCounter_ = 1;
  uint64_t rng_ = 0;  // splitmix64 state: redial jitter only
  ReplayGuard replay_;
  TokenBucket connectBudget_{kConnectBurst, kConnectPerSecond};
  // Signals with the host for sealing or unsealing, by ticket.
  struct Outgoing {
    size_t route;
    std::string address;
    SignalKind kind;
  };
  struct Incoming {
    size_t route;
    std::string from;
  };
  uint64_t nextTicket_ = 1;
  std::map<uint64_t, Outgoing> sealing_;
  std::map<uint64_t, Incoming> unsealing_;
};

}  // namespace pc
