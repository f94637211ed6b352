#include "wire/frame_codec.h"

#include <algorithm>

#include "state/json_text.h"
#include "wire/byte_codec.h"

namespace pc::wire {

namespace {

// Smallest encodings, used to refuse a count that the remaining bytes could
// not possibly hold before anything is reserved for it.
constexpr size_t kMinWriteBytes = 6;
constexpr size_t kMinVectorEntryBytes = 2;

void putVector(ByteWriter& w, const StateVector& v) {
  w.varuint(v.size());
  for (const auto& [replica, seq] : v) {
    w.varuint(replica);
    w.varuint(seq);
  }
}

void putWrites(ByteWriter& w, const std::vector<Write>& writes) {
  w.varuint(writes.size());
  for (const Write& x : writes) {
    w.bytes(x.key);
    w.u8(x.value ? 1 : 0);
    if (x.value) w.bytes(*x.value);
    w.varuint(x.stamp.wall);
    w.varuint(x.stamp.logical);
    w.varuint(x.stamp.replica);
    w.varuint(x.seq);
  }
}

struct BodyWriter {
  ByteWriter& w;
  void operator()(const Hello& f) {
    w.bytes(f.nodeId);
    w.varuint(f.replica);
    w.bytes(f.room);
  }
  void operator()(const SyncRequest& f) { putVector(w, f.seen); }
  void operator()(const SyncResponse& f) {
    putVector(w, f.seen);
    putWrites(w, f.writes);
  }
  void operator()(const Update& f) { putWrites(w, f.writes); }
  void operator()(const AppMessage& f) { w.bytes(f.json); }
  void operator()(const Ping& f) { w.varuint(f.nonce); }
  void operator()(const Pong& f) { w.varuint(f.nonce); }
  void operator()(const StateAck& f) { putVector(w, f.seen); }
  void operator()(const Fragment& f) {
    w.varuint(f.messageId);
    w.varuint(f.index);
    w.varuint(f.count);
    w.bytes(f.bytes);
  }
};

class BodyReader {
 public:
  explicit BodyReader(ByteReader& r) : r_(r) {}
  DecodeError error() const { return !r_.ok() && error_ == DecodeError::None ? DecodeError::Truncated : error_; }

  std::string text() {
    std::string_view s = r_.bytes();
    if (r_.ok() && !isValidUtf8(s)) reject(DecodeError::InvalidText);
    return std::string(s);
  }

  std::string json() {
    std::string_view s = r_.bytes();
    if (r_.ok() && !isJsonText(s)) reject(DecodeError::InvalidJson);
    return std::string(s);
  }

  StateVector vector() {
    StateVector v;
    uint64_t n = r_.varuint();
    if (n > r_.remaining() / kMinVectorEntryBytes) return reject<StateVector>(DecodeError::BadLength);
    for (uint64_t i = 0; i < n && r_.ok(); ++i) {
      uint64_t replica = r_.varuint();
      v[replica] = r_.varuint();
    }
    return v;
  }

  std::vector<Write> writes() {
    std::vector<Write> out;
    uint64_t n = r_.varuint();
    if (n > r_.remaining() / kMinWriteBytes) return reject<std::vector<Write>>(DecodeError::BadLength);
    // Reserve for what a modest frame holds; a larger count grows as it is
    // read, so a forged count cannot reserve far more than the input's size.
    out.reserve(static_cast<size_t>(std::min<uint64_t>(n, 1024)));
    for (uint64_t i = 0; i < n && ok(); ++i) {
      Write w;
      w.key = text();
      if (ok() && w.key.empty()) reject(DecodeError::InvalidField);
      uint8_t hasValue = r_.u8();
      if (hasValue > 1) reject(DecodeError::InvalidField);
      if (hasValue) w.value = json();
      w.stamp.wall = r_.varuint();
      uint64_t logical = r_.varuint();
      if (logical > UINT32_MAX) reject(DecodeError::InvalidField);
      w.stamp.logical = static_cast<uint32_t>(logical);
      w.stamp.replica = r_.varuint();
      w.seq = r_.varuint();
      if (ok() && w.seq == 0) reject(DecodeError::InvalidField);
      out.push_back(std::move(w));
    }
    return out;
  }

  bool ok() const { return r_.ok() && error_ == DecodeError::None; }

  template <typename T = int>
  T reject(DecodeError e) {
    if (error_ == DecodeError::None) error_ = e;
    r_.fail();
    return T{};
  }

  ByteReader& raw() { return r_; }

 private:
  ByteReader& r_;
  DecodeError error_ = DecodeError::None;
};

std::optional<Frame> readBody(FrameType type, BodyReader& b) {
  ByteReader& r = b.raw();
  switch (type) {
    case FrameType::Hello: {
      Hello f;
      f.nodeId = b.text();
      f.replica = r.varuint();
      f.room = b.text();
      if (b.ok() && f.nodeId.empty()) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::SyncRequest:
      return SyncRequest{b.vector()};
    case FrameType::SyncResponse: {
      SyncResponse f;
      f.seen = b.vector();
      f.writes = b.writes();
      return f;
    }
    case FrameType::Update: {
      Update f{b.writes()};
      if (b.ok() && f.writes.empty()) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::AppMessage:
      return AppMessage{b.json()};
    case FrameType::Ping:
      return Ping{r.varuint()};
    case FrameType::Pong:
      return Pong{r.varuint()};
    case FrameType::StateAck:
      return StateAck{b.vector()};
    case FrameType::Fragment: {
      Fragment f;
      f.messageId = r.varuint();
      f.index = r.varuint();
      f.count = r.varuint();
      f.bytes = std::string(r.bytes());
      if (b.ok() && (f.count < 2 || f.index >= f.count || f.bytes.empty())) b.reject(DecodeError::InvalidField);
      return f;
    }
  }
  b.reject(DecodeError::UnknownType);
  return std::nullopt;
}

FrameType typeOf(const Frame& f) { return static_cast<FrameType>(f.index() + 1); }

}  // namespace

const char* describe(DecodeError e) {
  switch (e) {
    case DecodeError::None: return "ok";
    case DecodeError::TooShort: return "frame shorter than its header";
    case DecodeError::BadMagic: return "not a PeerCompute frame (bad magic byte)";
    case DecodeError::UnsupportedVersion: return "unsupported protocol version";
    case DecodeError::UnknownType: return "unknown frame type";
    case DecodeError::BadLength: return "declared length does not match the bytes";
    case DecodeError::Truncated: return "frame body is truncated";
    case DecodeError::TrailingBytes: return "bytes after the end of the frame body";
    case DecodeError::InvalidText: return "a text field is not valid UTF-8";
    case DecodeError::InvalidJson: return "a value is not valid JSON";
    case DecodeError::InvalidField: return "a field holds a value the protocol forbids";
  }
  return "unknown error";
}

std::vector<uint8_t> encode(const Frame& frame) {
  ByteWriter body;
  std::visit(BodyWriter{body}, frame);
  ByteWriter out;
  out.u8(kMagic);
  out.u8(kVersion);
  out.u8(static_cast<uint8_t>(typeOf(frame)));
  out.varuint(body.size());
  out.raw(body.buffer().data(), body.size());
  return out.take();
}

Decoded decode(const uint8_t* data, size_t size) {
  if (size < 4) return {std::nullopt, DecodeError::TooShort};
  if (data[0] != kMagic) return {std::nullopt, DecodeError::BadMagic};
  if (data[1] != kVersion) return {std::nullopt, DecodeError::UnsupportedVersion};
  uint8_t type = data[2];
  if (type < static_cast<uint8_t>(FrameType::Hello) || type > static_cast<uint8_t>(FrameType::StateAck))
    return {std::nullopt, DecodeError::UnknownType};

  ByteReader header(data + 3, size - 3);
  uint64_t length = header.varuint();
  if (!header.ok() || length != header.remaining()) return {std::nullopt, DecodeError::BadLength};

  size_t offset = size - header.remaining();
  ByteReader body(data + offset, static_cast<size_t>(length));
  BodyReader reader(body);
  std::optional<Frame> frame = readBody(static_cast<FrameType>(type), reader);
  if (!reader.ok()) return {std::nullopt, reader.error()};
  if (!body.atEnd()) return {std::nullopt, DecodeError::TrailingBytes};
  return {std::move(frame), DecodeError::None};
}

std::vector<std::vector<uint8_t>> fragment(const std::vector<uint8_t>& encoded, uint64_t messageId,
                                           size_t maxBytes) {
  std::vector<std::vector<uint8_t>> out;
  size_t count = (encoded.size() + maxBytes - 1) / maxBytes;
  for (size_t i = 0; i < count; ++i) {
    size_t begin = i * maxBytes;
    size_t len = std::min(maxBytes, encoded.size() - begin);
    Fragment f{messageId, i, count,
               std::string(reinterpret_cast<const char*>(encoded.data()) + begin, len)};
    out.push_back(encode(f));
  }
  return out;
}

}  // namespace pc::wire
