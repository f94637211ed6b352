// The peer-to-peer wire format: one frame per data-channel message.
// Layout and rules are written down in PROTOCOL.md beside this file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "hashing/sha256.h"
#include "state/replicated_map.h"

namespace pc::wire {

constexpr uint8_t kMagic = 0xC5;
constexpr uint8_t kVersion = 2;

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
  ReconcileNodes = 17,
  ReconcileEntries = 18,
  SyncWrites = 19,
  OwnUpdate = 20,
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
// A sync response may come in several frames: SyncWrites frames, then one
// SyncResponse, which holds the vector and ends the sync.
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

// The sender's state fingerprint, sent when its state changed; right after
// a SyncResponse it also acknowledges the response, then without a root if
// the sender's fingerprint is not yet computed.
struct StateAck {
  std::optional<Digest128> root;
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

// Anti-entropy (PROTOCOL.md): the sender's digests of some nodes of one
// level of its fingerprint tree (1: the root's children ... 3: leaves).
struct ReconcileNodes {
  uint8_t level = 1;
  std::vector<std::pair<uint32_t, Digest128>> nodes;  // index within the level, digest
};
// The sender's entry digests for some leaves that differ. The receiver sends
// back, as SyncResponse frames that are not final, its writes whose digests
// are not listed; unless `reply`, it also sends its own lists in return.
struct ReconcileEntries {
  bool reply = false;
  std::vector<std::pair<uint32_t, std::vector<Digest128>>> leaves;
};
// Writes of a sync response still under way, or that anti-entropy repairs.
struct SyncWrites {
  std::vector<Write> writes;
};

// A transaction of the sender's own replica: an Update whose writer is the
// replicaId of the sender's Hello, so the frame need not name it. Decoded
// writes carry replica 0 until the session, which knows the sender, fills it
// in (SessionEngine); no engine sees this frame type.
struct OwnUpdate {
  std::vector<Write> writes;
};

// In FrameType order: a frame's type is its index plus one.
using Frame = std::variant<Hello, SyncRequest, SyncResponse, Update, AppMessage, Ping, Pong, Fragment, StateAck,
                           Presence, BinaryMessage, Auth, Capabilities, WorkAssign, WorkResult, WorkCancel,
                           ReconcileNodes, ReconcileEntries, SyncWrites, OwnUpdate>;

// What a receiver accepts. Every count and length a peer sends is checked
// against these before anything is allocated for it, and each frame type has
// a body limit of its own, so a control frame can never be megabytes long.
// The state limits are protocol constants, not settings: a limit below what
// an honest sender may produce would split replicas for good.
constexpr size_t kMaxStateFrameBytes = size_t{16} << 20;  // Update, SyncResponse
constexpr size_t kMaxWritesPerFrame = size_t{1} << 20;    // one transaction at most this many keys
constexpr size_t kMaxVectorEntries = size_t{1} << 16;     // writers named in one state vector
constexpr size_t kMaxPresenceBytes = size_t{64} << 10;
constexpr size_t kMaxTasksAdvertised = 256;
constexpr size_t kMaxTaskNameBytes = 64;
constexpr size_t kMaxTaskErrorBytes = 1024;
constexpr size_t kMaxTaskDataLimit = size_t{32} << 20;    // the largest maxTaskDataBytes a node may set
constexpr size_t kMaxFragmentPieceBytes = size_t{256} << 10;
constexpr size_t kMaxReconcileNodes = 256;          // in one ReconcileNodes frame
constexpr size_t kMaxReconcileLeaves = 64;          // in one ReconcileEntries frame
constexpr size_t kMaxReconcileDigests = size_t{1} << 18;  // entry digests in one ReconcileEntries frame

struct Limits {
  size_t maxFrameBytes = size_t{64} << 20;  // an application message, after reassembly
  // Only bytes from this node's own store, or handed over by its own app
  // (applyUpdate), may lift these; a peer's frames never do.
  size_t maxStateFrameBytes = kMaxStateFrameBytes;
  size_t maxWritesPerFrame = kMaxWritesPerFrame;
  static Limits local() { return {SIZE_MAX / 2, SIZE_MAX / 2, SIZE_MAX / 2}; }
};

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
  TooLarge,  // the body is over its frame type's limit
};
const char* describe(DecodeError e);

struct Decoded {
  std::optional<Frame> frame;
  DecodeError error = DecodeError::None;
};

// The largest body a receiver accepts for a frame of this type.
size_t maxBodyBytes(FrameType type, const Limits& limits);

// A frame's header, read without touching its body: a receiver decides from
// it whether the frame is allowed now and whether it is too large, before
// paying to decode it.
struct Header {
  FrameType type = FrameType::Hello;
  size_t headerBytes = 0;  // magic, version, type and the body's length
  size_t bodyBytes = 0;    // as declared
};
// The header, or the reason it is not one. The declared length is checked
// against the type's limit, not against the bytes present (a fragment holds
// only the start of its frame).
std::optional<Header> peekHeader(const uint8_t* data, size_t size, const Limits& limits, DecodeError* error);

std::vector<uint8_t> encode(const Frame& frame);
// Linear in the input, and allocates at most a small multiple of it.
Decoded decode(const uint8_t* data, size_t size, const Limits& limits = {});
inline Decoded decode(const std::vector<uint8_t>& bytes, const Limits& limits = {}) {
  return decode(bytes.data(), bytes.size(), limits);
}

// Splits an encoded frame into Fragment frames of at most `maxBytes` payload.
std::vector<std::vector<uint8_t>> fragment(const std::vector<uint8_t>& encoded, uint64_t messageId,
                                           size_t maxBytes);

}  // namespace pc::wire
