// The peer-to-peer wire format: one frame per data-channel message.
// Layout and rules are written down in PROTOCOL.md beside this file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "state/replicated_map.h"

namespace pc::wire {

constexpr uint8_t kMagic = 0xC5;
constexpr uint8_t kVersion = 1;

enum class FrameType : uint8_t {
  Hello = 1,
  SyncRequest = 2,
  SyncResponse = 3,
  Update = 4,
  AppMessage = 5,
  Ping = 6,
  Pong = 7,
  Fragment = 8,
  StateAck = 9,
  Presence = 10,
  BinaryMessage = 11,
  Auth = 12,
  Capabilities = 13,
  WorkAssign = 14,
  WorkResult = 15,
  WorkCancel = 16,
};

struct Hello {
  std::string nodeId;
  uint64_t replica = 0;
  std::string room;
  // Empty without a room password; else random bytes the peer must answer
  // with an Auth frame (see PROTOCOL.md, "Room passwords").
  std::string challenge;
};
struct SyncRequest {
  StateVector seen;
};
struct SyncResponse {
  StateVector seen;
  std::vector<Write> writes;
};
struct Update {  // one atomic transaction
  std::vector<Write> writes;
};
struct AppMessage {
  std::string json;
};
struct Ping {
  uint64_t nonce = 0;
};
struct Pong {
  uint64_t nonce = 0;
};
struct Fragment {  // a piece of one frame too large for one channel message
  uint64_t messageId = 0;
  uint64_t index = 0;
  uint64_t count = 0;
  std::string bytes;
};

struct StateAck {  // what the sender has seen; lets peers collect tombstones
  StateVector seen;
};

struct Presence {  // the sender's ephemeral state; "null" clears it
  std::string json;
};

struct BinaryMessage {  // an application message of raw bytes
  std::string bytes;
};

struct Auth {  // proof that the sender knows the room password
  std::string proof;
};

// Compute (see PROTOCOL.md, "Distributed compute"). Task data is opaque
// here: CBOR that compute/task_data.h checks.
struct Capabilities {  // the tasks the sender runs, and on how many workers
  uint64_t workers = 0;
  std::vector<std::string> tasks;
};
struct WorkAssign {  // run a unit of the sender's job
  uint64_t lease = 0;
  std::string task;
  std::string input;
};
struct WorkResult {  // the answer to a WorkAssign
  uint64_t lease = 0;
  bool ok = false;
  std::string bytes;  // task data when ok, else an error message (UTF-8)
};
struct WorkCancel {  // the lease is void: stop, and send no result
  uint64_t lease = 0;
};

// In FrameType order: a frame's type is its index plus one.
using Frame = std::variant<Hello, SyncRequest, SyncResponse, Update, AppMessage, Ping, Pong, Fragment, StateAck,
                           Presence, BinaryMessage, Auth, Capabilities, WorkAssign, WorkResult, WorkCancel>;

enum class DecodeError {
  None,
  TooShort,
  BadMagic,
  UnsupportedVersion,
  UnknownType,
  BadLength,
  Truncated,
  TrailingBytes,
  InvalidText,
  InvalidJson,
  InvalidField,
};
const char* describe(DecodeError e);

struct Decoded {
  std::optional<Frame> frame;
  DecodeError error = DecodeError::None;
};

std::vector<uint8_t> encode(const Frame& frame);
Decoded decode(const uint8_t* data, size_t size);
inline Decoded decode(const std::vector<uint8_t>& bytes) { return decode(bytes.data(), bytes.size()); }

// Splits an encoded frame into Fragment frames of at most `maxBytes` payload.
std::vector<std::vector<uint8_t>> fragment(const std::vector<uint8_t>& encoded, uint64_t messageId,
                                           size_t maxBytes);

}  // namespace pc::wire
