// What the kernel asks its host to do, and the events it raises. The host
// drains these with NodeKernel::pollOutput() after every input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "state/replicated_map.h"

namespace pc {

// Send `text` on the local signaling transports (BroadcastChannel); `to`
// empty means every node. Signals through a PeerJS server go as ServerSend.
struct SendSignal {
  std::string to;
  std::string text;
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

// The PeerJS signaling server (see signaling/peer_server_link.h): open a
// WebSocket to `url`, send text on it, close it, and GET a listing of ids.
struct ServerConnect {
  std::string url;
};
struct ServerSend {
  std::string text;
};
struct ServerClose {};
struct ServerList {
  std::string url;
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

using Output = std::variant<SendSignal, OpenConnection, DeliverRtcSignal, CloseConnection, SendData,
                            PeerConnected, PeerDisconnected, StateChanged, MessageReceived, PersistRecord,
                            CompactStorage, PresenceChanged, ServerConnect, ServerSend, ServerClose, ServerList,
                            SealSignal, UnsealSignal, AuthenticatePeer, RunTask, CancelTask, JobProgress,
                            JobFinished, EntropyWanted>;

struct Result {
  bool ok = true;
  std::string error;
  static Result success() { return {}; }
  static Result failure(std::string why) { return {false, std::move(why)}; }
};

}  // namespace pc
