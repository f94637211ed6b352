// What the kernel asks its host to do, and the events it raises: the output
// half of the kernel–host boundary (wasm/wire/PROTOCOL.md, "Host interface").
// The host drains these with NodeKernel::pollOutput() after every input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "state/replicated_map.h"

namespace pc {

// Signaling routes. A route is one way signals travel between nodes, named
// by the host's transport that carries it: "broadcast-channel" (tabs of one
// browser), "peerjs-server" (a PeerJS server's WebSocket). The kernel decides
// what goes on a route; the transport moves text and knows nothing of it
// (js-glue/transports/signaling-transport.js).
//
// Open the route's transport at `url` (a channel name, a WebSocket URL);
// the host answers with NodeKernel::handleRouteOpen, and handleRouteClosed
// whenever it closes or cannot open.
struct RouteOpen {
  std::string route;
  std::string url;
};
// Send `text` on the route to the node at address `to` ("" for every node
// the route reaches). Where the route's own framing already names the
// recipient (a PeerJS message's dst), `to` repeats it.
struct RouteSend {
  std::string route;
  std::string to;
  std::string text;
};
struct RouteClose {
  std::string route;
};
// Fetch the route's listing of its members at `url` (a PeerJS server's peer
// list); answer with NodeKernel::handleRouteListing.
struct RouteList {
  std::string route;
  std::string url;
};
// Create a WebRTC connection. The initiator opens the data channel and makes
// the offer; the other side answers.
struct OpenConnection {
  std::string peerId;
  bool initiator = false;
};
// Hand an SDP or ICE payload (JSON text) from the peer to its connection.
struct DeliverRtcSignal {
  std::string peerId;
  std::string data;
};
struct CloseConnection {
  std::string peerId;
};
struct SendData {
  std::string peerId;
  std::vector<uint8_t> bytes;
  bool unreliable = false;  // on the unordered, no-retransmit channel
};

struct PeerConnected {
  std::string peerId;
};
struct PeerDisconnected {
  std::string peerId;
  std::string reason;
};
// One transaction's visible changes, raised after all of it is applied.
// This node's own writes raise it only with NodeConfig::reportLocalChanges
// (a host that applies its writes itself as it makes them turns it off).
struct StateChanged {
  // Empty: this node. A peer id: that peer. "(update)": applyUpdate().
  // "(storage)": restored from storage. Parentheses never occur in node ids.
  std::string origin;
  std::vector<KeyChange> changes;
};
struct MessageReceived {
  std::string peerId;
  std::string payload;  // JSON text, or raw bytes when binary
  bool binary = false;
};

// Store these bytes (with persistence on): the writes of one transaction
// that changed the state, as a frame that applyUpdate() takes back.
struct PersistRecord {
  std::vector<uint8_t> bytes;
};
// The stored records have grown well past the state they describe: replace
// them with one snapshot (encodeStateAsUpdate()).
struct CompactStorage {};
// A peer's presence changed; nullopt: it cleared it or is gone.
struct PresenceChanged {
  std::string peerId;
  std::optional<std::string> json;
};

// With a room password, the host does the cryptography (WebCrypto): it seals
// and unseals signaling envelopes, and computes the proofs peers exchange.
// Each request carries a ticket that its answer returns.
struct SealSignal {
  uint64_t ticket = 0;
  std::string text;
};
struct UnsealSignal {
  uint64_t ticket = 0;
  std::string sealed;
};
// Compute this node's proof for the peer's challenge, and the proof the peer
// must send for ours; answer with NodeKernel::handleAuthProofs.
struct AuthenticatePeer {
  uint64_t ticket = 0;
  std::string peerId;
  std::string ourChallenge;    // raw bytes
  std::string theirChallenge;  // raw bytes
};

// Compute. Run a unit of `task` on one of the node's workers and answer with
// NodeKernel::handleTaskResult(exec, ...); exactly one answer per RunTask.
// A unit run for a peer has a CPU budget: past budgetMs of running the host
// stops it and answers with an error. 0: none (this node's own units).
struct RunTask {
  uint64_t exec = 0;
  std::string task;
  std::string input;  // task data
  double budgetMs = 0;
};
// The unit is no longer wanted: the host may stop it early. It still answers.
struct CancelTask {
  uint64_t exec = 0;
};
// A unit of one of this node's jobs was accepted.
struct JobProgress {
  uint64_t job = 0;
  uint64_t unit = 0;
  uint64_t done = 0, total = 0;
  std::vector<std::string> peers;  // the workers whose results agreed
  std::string output;              // task data
};
// A job is over: all units done (ok), or it failed or was cancelled.
struct JobFinished {
  uint64_t job = 0;
  bool ok = false;
  std::string error;
  std::string statsJson;
};

// The kernel's pool of the host's random bytes runs low: hand it `bytes`
// more from a CSPRNG with NodeKernel::addEntropy.
struct EntropyWanted {
  uint32_t bytes = 0;
};

// In the order of wasm/host/host_interface.json, which numbers the records
// that carry these to the host.
using Output = std::variant<RouteOpen, RouteSend, RouteClose, RouteList, OpenConnection, DeliverRtcSignal,
                            CloseConnection, SendData, PeerConnected, PeerDisconnected, StateChanged,
                            MessageReceived, PersistRecord, CompactStorage, PresenceChanged, SealSignal,
                            UnsealSignal, AuthenticatePeer, RunTask, CancelTask, JobProgress, JobFinished,
                            EntropyWanted>;

}  // namespace pc
