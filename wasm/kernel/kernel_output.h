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

// Send `text` on the signaling transports; `to` empty means every node.
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
  std::string json;
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

using Output = std::variant<SendSignal, OpenConnection, DeliverRtcSignal, CloseConnection, SendData,
                            PeerConnected, PeerDisconnected, StateChanged, MessageReceived, PersistRecord,
                            CompactStorage, PresenceChanged>;

struct Result {
  bool ok = true;
  std::string error;
  static Result success() { return {}; }
  static Result failure(std::string why) { return {false, std::move(why)}; }
};

}  // namespace pc
