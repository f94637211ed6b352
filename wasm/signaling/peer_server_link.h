// PeerServerLink: this node's session with an unmodified PeerJS signaling
// server (npm `peer`), without I/O. The kernel owns one; the host owns the
// WebSocket and the HTTP fetch it asks for.
//
// The server's protocol: a client registers by opening a WebSocket with
// ?key=&id=&token=. The server answers OPEN, or ID-TAKEN if another token
// holds the id, or ERROR; a second socket with the same id *and* token
// silently replaces the first (no OPEN comes). Clients send HEARTBEAT, and
// OFFER/ANSWER/CANDIDATE/LEAVE to a `dst`, which the server relays with `src`
// set to the sender's registered id. Messages to an id not connected are
// queued, and after a few seconds the sender gets EXPIRE. With
// allow_discovery, GET <path>/<key>/peers lists the registered ids.
//
// Ids on the server are "<roomTag>.<nodeId>" (".<n>" appended after an
// ID-TAKEN), so a node lists only its own room, and a room's tag reveals
// nothing of a room password.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "time/millis.h"

namespace pc {

struct PeerServerConfig {
  std::string host;
  uint32_t port = 9000;
  std::string path = "/peerjs";
  bool secure = false;
  std::string key = "peerjs";
  std::string token;  // from the host's randomness; whoever knows it can take over the id
  Millis heartbeatIntervalMs = 5000;
  Millis openGraceMs = 1500;           // after this, a socket without OPEN counts as registered
  Millis discoveryIntervalMs = 10'000;  // how often the room's ids are listed
  Millis reconnectBaseMs = 500;
  Millis reconnectMaxMs = 10'000;
};

// What the link asks of the host.
struct LinkConnect { std::string url; };
struct LinkSend {
  std::string text;
  std::string dst;  // the server id it is relayed to; empty for messages to the server itself
};
struct LinkClose {};
struct LinkList { std::string url; };

// A relayed message for the kernel.
struct ServerMessage {
  std::string type;  // OFFER, ANSWER, CANDIDATE, LEAVE or EXPIRE
  std::string src;   // the sender's server id, as the server stamped it
  std::optional<std::string> payload;
};

enum class LinkState { Off, Connecting, AwaitingOpen, Registered, Waiting };
const char* toString(LinkState s);

class PeerServerLink {
 public:
  struct Actions {
    std::optional<LinkConnect> connect;
    std::vector<LinkSend> sends;
    bool close = false;
    std::optional<LinkList> list;
  };

  PeerServerLink() = default;
  PeerServerLink(PeerServerConfig config, std::string roomTag, std::string nodeId, uint64_t seed);

  bool enabled() const { return enabled_; }
  LinkState state() const { return state_; }
  bool registered() const { return state_ == LinkState::Registered; }
  const std::string& serverId() const { return serverId_; }
  std::string socketUrl() const;
  std::string listUrl() const;

  void start(Millis now, Actions& out);
  void stop(Actions& out);
  void onSocketOpen(Millis now, Actions& out);
  void onSocketClosed(Millis now, Actions& out);
  // Control messages are handled here; relayed ones are returned. A message
  // that is not valid server protocol sets *error.
  std::optional<ServerMessage> onSocketMessage(std::string_view text, Millis now, Actions& out, std::string* error);
  void onTimeout(Millis now, Actions& out);
  std::optional<Millis> nextTimeout() const;

  // Relays `payload` to the server id `dst`. False when not registered.
  bool send(const std::string& type, const std::string& dst, const std::string& payload, Actions& out);

  // The node ids (and server ids) of this room in a listing; *error when the
  // body is not a list of ids.
  std::vector<std::pair<std::string, std::string>> roomMembers(std::string_view listing, std::string* error) const;
  // The node id a server id of this room names, or empty.
  std::string nodeIdOf(std::string_view serverId) const;
  // The server id node `nodeId` registers under first: "<tag>.<id>".
  std::string plainServerIdOf(const std::string& nodeId) const { return roomTag_ + "." + nodeId; }

  uint64_t reconnects() const { return reconnects_; }
  uint64_t idTaken() const { return idTaken_; }
  const std::string& lastError() const { return lastError_; }

 private:
  void scheduleReconnect(Millis now);
  void becomeRegistered(Millis now, Actions& out);

  bool enabled_ = false;
  PeerServerConfig config_;
  std::string roomTag_;
  std::string nodeId_;
  std::string serverId_;
  uint32_t generation_ = 0;  // bumped by ID-TAKEN
  LinkState state_ = LinkState::Off;
  Millis stateSince_ = 0;
  Millis nextHeartbeatAt_ = 0;
  Millis nextListAt_ = 0;
  Millis reconnectAt_ = 0;
  uint32_t failures_ = 0;
  uint64_t rng_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t idTaken_ = 0;
  std::string lastError_;
};

}  // namespace pc
