#include "wire/frame_codec.h"

#include <algorithm>

#include "state/json_text.h"
#include "wire/byte_codec.h"

namespace pc::wire {

namespace {

// Smallest encodings, used to refuse a count that the remaining bytes could
// not possibly hold before anything is reserved for it.
constexpr size_t kMinRunBytes = 3;
constexpr size_t kMinEntryBytes = 5;
constexpr size_t kMinVectorEntryBytes = 2;

uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

StateVector impliedBy(const std::vector<Write>& writes) {
  StateVector v;
  for (const Write& x : writes) {
    uint64_t& high = v[x.stamp.replica];
    high = std::max(high, x.seq);
  }
  return v;
}

void putDigest(ByteWriter& w, const Digest128& d) {
  for (int i = 7; i >= 0; --i) w.u8(static_cast<uint8_t>(d.hi >> (8 * i)));
  for (int i = 7; i >= 0; --i) w.u8(static_cast<uint8_t>(d.lo >> (8 * i)));
}

Digest128 getDigest(ByteReader& r) {
  Digest128 d;
  for (int i = 0; i < 8; ++i) d.hi = (d.hi << 8) | r.u8();
  for (int i = 0; i < 8; ++i) d.lo = (d.lo << 8) | r.u8();
  return d;
}

void putVector(ByteWriter& w, const StateVector& v) {
  if (v.size() > kMaxVectorEntries) {
    // Over the cap, the writers with the fewest writes are left out. Leaving
    // an entry out only means "send me all of this writer's writes", so the
    // vector stays correct and merely asks for more.
    std::vector<std::pair<uint64_t, uint64_t>> bySeq(v.begin(), v.end());
    std::nth_element(bySeq.begin(), bySeq.begin() + kMaxVectorEntries, bySeq.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    bySeq.resize(kMaxVectorEntries);
    std::sort(bySeq.begin(), bySeq.end());
    return putVector(w, StateVector(bySeq.begin(), bySeq.end()));
  }
  w.varuint(v.size());
  for (const auto& [replica, seq] : v) {
    w.varuint(replica);
    w.varuint(seq);
  }
}

// One writer's writes [begin, end), in rising seq order: clocks and sequence
// numbers go as differences, the first from 0.
void putEntries(ByteWriter& w, const std::vector<Write>& writes, size_t begin, size_t end) {
  uint64_t wall = 0, seq = 0;
  for (size_t i = begin; i < end; ++i) {
    const Write& x = writes[i];
    w.bytes(x.key);
    if (x.value) {
      w.varuint(x.value->size() + 1);
      w.raw(x.value->data(), x.value->size());
    } else {
      w.varuint(0);
    }
    w.varuint(zigzag(static_cast<int64_t>(x.stamp.wall - wall)));
    w.varuint(x.stamp.logical);
    w.varuint(x.seq - seq);
    wall = x.stamp.wall;
    seq = x.seq;
  }
}

// Writes travel in runs of one writer with rising sequence numbers, so the
// writer is named once and clocks and sequence numbers are sent as
// differences: a delta sync of a single writer's keys costs little more than
// the keys and values themselves.
void putWrites(ByteWriter& w, const std::vector<Write>& writes) {
  std::vector<std::pair<size_t, size_t>> runs;  // [begin, end)
  for (size_t i = 0; i < writes.size(); ++i) {
    bool extends = !runs.empty() && writes[i].stamp.replica == writes[i - 1].stamp.replica &&
                   writes[i].seq > writes[i - 1].seq;
    if (extends) runs.back().second = i + 1;
    else runs.emplace_back(i, i + 1);
  }
  w.varuint(runs.size());
  for (auto [begin, end] : runs) {
    w.varuint(writes[begin].stamp.replica);
    w.varuint(end - begin);
    putEntries(w, writes, begin, end);
  }
}

struct BodyWriter {
  ByteWriter& w;
  void operator()(const Hello& f) {
    w.bytes(f.nodeId);
    w.varuint(f.replica);
    w.bytes(f.room);
    w.bytes(f.challenge);
  }
  void operator()(const SyncRequest& f) { putVector(w, f.seen); }
  // The vector leaves out each entry its writes imply (a writer's highest
  // seq among them); a single replica's update then names it only once.
  void operator()(const SyncResponse& f) {
    StateVector implied = impliedBy(f.writes);
    StateVector explicitEntries;
    for (const auto& [replica, seq] : f.seen) {
      auto it = implied.find(replica);
      if (seq != 0 && (it == implied.end() || it->second != seq)) explicitEntries[replica] = seq;
    }
    for (const auto& [replica, seq] : implied)
      if (!f.seen.count(replica) || f.seen.at(replica) == 0) explicitEntries[replica] = 0;
    putVector(w, explicitEntries);
    putWrites(w, f.writes);
  }
  void operator()(const Update& f) { putWrites(w, f.writes); }
  void operator()(const AppMessage& f) { w.bytes(f.json); }
  void operator()(const Ping& f) { w.varuint(f.nonce); }
  void operator()(const Pong& f) { w.varuint(f.nonce); }
  void operator()(const StateAck& f) {
    if (f.root) putDigest(w, *f.root);
  }
  void operator()(const SyncWrites& f) { putWrites(w, f.writes); }
  // One transaction of one writer (the sender): one run, its writer left out.
  void operator()(const OwnUpdate& f) {
    w.varuint(f.writes.size());
    putEntries(w, f.writes, 0, f.writes.size());
  }
  void operator()(const ReconcileNodes& f) {
    w.u8(f.level);
    w.varuint(f.nodes.size());
    for (const auto& [index, digest] : f.nodes) {
      w.varuint(index);
      putDigest(w, digest);
    }
  }
  void operator()(const ReconcileEntries& f) {
    w.u8(f.reply ? 1 : 0);
    w.varuint(f.leaves.size());
    for (const auto& [leaf, digests] : f.leaves) {
      w.varuint(leaf);
      w.varuint(digests.size());
      for (const Digest128& d : digests) putDigest(w, d);
    }
  }
  void operator()(const Presence& f) { w.bytes(f.json); }
  void operator()(const BinaryMessage& f) { w.bytes(f.bytes); }
  void operator()(const Auth& f) { w.bytes(f.proof); }
  void operator()(const Capabilities& f) {
    w.varuint(f.workers);
    w.varuint(f.tasks.size());
    for (const std::string& t : f.tasks) w.bytes(t);
  }
  void operator()(const WorkAssign& f) {
    w.varuint(f.lease);
    w.bytes(f.task);
    w.bytes(f.input);
  }
  void operator()(const WorkResult& f) {
    w.varuint(f.lease);
    w.u8(f.ok ? 1 : 0);
    w.bytes(f.bytes);
  }
  void operator()(const WorkCancel& f) { w.varuint(f.lease); }
  void operator()(const Fragment& f) {
    w.varuint(f.messageId);
    w.varuint(f.index);
    w.varuint(f.count);
    w.bytes(f.bytes);
  }
};

class BodyReader {
 public:
  BodyReader(ByteReader& r, const Limits& limits) : r_(r), limits_(limits) {}
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

  std::string json(size_t length) {
    std::string_view s = r_.raw(length);
    if (r_.ok() && !isJsonText(s)) reject(DecodeError::InvalidJson);
    return std::string(s);
  }

  StateVector vector() {
    StateVector v;
    uint64_t n = r_.varuint();
    if (n > r_.remaining() / kMinVectorEntryBytes) return reject<StateVector>(DecodeError::BadLength);
    if (n > kMaxVectorEntries) return reject<StateVector>(DecodeError::TooLarge);
    for (uint64_t i = 0; i < n && r_.ok(); ++i) {
      uint64_t replica = r_.varuint();
      v[replica] = r_.varuint();
    }
    return v;
  }

  std::vector<Write> writes() {
    std::vector<Write> out;
    uint64_t runs = r_.varuint();
    if (runs > r_.remaining() / kMinRunBytes) return reject<std::vector<Write>>(DecodeError::BadLength);
    for (uint64_t run = 0; run < runs && ok(); ++run) {
      uint64_t replica = r_.varuint();
      // No reserve per run: growing a little for each of many small runs
      // would copy the whole list each time. The vector's own doubling keeps
      // decoding linear, and the count check in entries() bounds it.
      entries(replica, &out);
    }
    return out;
  }

  // A count (at least 1), then that many entries of one writer, appended to *out.
  void entries(uint64_t replica, std::vector<Write>* out) {
    uint64_t n = r_.varuint();
    if (ok() && n == 0) reject(DecodeError::InvalidField);
    if (n > r_.remaining() / kMinEntryBytes) return void(reject(DecodeError::BadLength));
    if (n > limits_.maxWritesPerFrame - out->size()) return void(reject(DecodeError::TooLarge));
    uint64_t wall = 0, seq = 0;
    for (uint64_t i = 0; i < n && ok(); ++i) {
      Write w;
      w.key = text();
      if (ok() && w.key.empty()) reject(DecodeError::InvalidField);
      uint64_t valueLength = r_.varuint();
      if (ok() && valueLength > 0) {
        if (valueLength - 1 > r_.remaining()) return void(reject(DecodeError::Truncated));
        w.value = json(static_cast<size_t>(valueLength - 1));
      }
      // Deltas are taken modulo 2^64, so every wall value round-trips.
      wall += static_cast<uint64_t>(unzigzag(r_.varuint()));
      uint64_t logical = r_.varuint();
      if (logical > UINT32_MAX) reject(DecodeError::InvalidField);
      uint64_t seqDelta = r_.varuint();
      if (ok() && (seqDelta == 0 || UINT64_MAX - seq < seqDelta)) reject(DecodeError::InvalidField);
      seq += seqDelta;
      w.stamp = Stamp{wall, static_cast<uint32_t>(logical), replica};
      w.seq = seq;
      out->push_back(std::move(w));
    }
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
  const Limits& limits_;
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
      f.challenge = std::string(r.bytes());
      if (b.ok() && f.nodeId.empty()) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::SyncRequest:
      return SyncRequest{b.vector()};
    case FrameType::SyncResponse: {
      SyncResponse f;
      StateVector explicitEntries = b.vector();
      f.writes = b.writes();
      f.seen = impliedBy(f.writes);
      for (const auto& [replica, seq] : explicitEntries) f.seen[replica] = seq;
      for (auto it = f.seen.begin(); it != f.seen.end();) it = it->second == 0 ? f.seen.erase(it) : std::next(it);
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
    case FrameType::StateAck: {
      StateAck f;
      if (r.remaining() >= 16) f.root = getDigest(r);  // else the body ends here (or has trailing bytes)
      return f;
    }
    case FrameType::SyncWrites: {
      SyncWrites f{b.writes()};
      if (b.ok() && f.writes.empty()) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::OwnUpdate: {
      OwnUpdate f;
      b.entries(0, &f.writes);  // the writer is the sender; its session fills it in
      return f;
    }
    case FrameType::ReconcileNodes: {
      ReconcileNodes f;
      f.level = r.u8();
      uint64_t n = r.varuint();
      if (b.ok() && (f.level < 1 || f.level > 3)) b.reject(DecodeError::InvalidField);
      if (n > r.remaining() / 17) return b.reject<std::optional<Frame>>(DecodeError::BadLength);
      if (n > kMaxReconcileNodes) return b.reject<std::optional<Frame>>(DecodeError::TooLarge);
      f.nodes.reserve(static_cast<size_t>(n));
      const uint64_t levelSize = b.ok() ? uint64_t{1} << (4 * f.level) : 0;
      for (uint64_t i = 0; i < n && b.ok(); ++i) {
        uint64_t index = r.varuint();
        if (b.ok() && index >= levelSize) b.reject(DecodeError::InvalidField);
        f.nodes.emplace_back(static_cast<uint32_t>(index), getDigest(r));
      }
      return f;
    }
    case FrameType::ReconcileEntries: {
      ReconcileEntries f;
      uint8_t flags = r.u8();
      if (b.ok() && flags > 1) b.reject(DecodeError::InvalidField);
      f.reply = flags == 1;
      uint64_t leaves = r.varuint();
      if (leaves > r.remaining() / 2) return b.reject<std::optional<Frame>>(DecodeError::BadLength);
      if (leaves > kMaxReconcileLeaves) return b.reject<std::optional<Frame>>(DecodeError::TooLarge);
      size_t digests = 0;
      for (uint64_t i = 0; i < leaves && b.ok(); ++i) {
        uint64_t leaf = r.varuint();
        uint64_t m = r.varuint();
        if (b.ok() && leaf >= (uint64_t{1} << 12)) b.reject(DecodeError::InvalidField);
        if (m > r.remaining() / 16) return b.reject<std::optional<Frame>>(DecodeError::BadLength);
        if (m > kMaxReconcileDigests - digests) return b.reject<std::optional<Frame>>(DecodeError::TooLarge);
        digests += static_cast<size_t>(m);
        auto& entry = f.leaves.emplace_back(static_cast<uint32_t>(leaf), std::vector<Digest128>());
        entry.second.reserve(static_cast<size_t>(m));
        for (uint64_t k = 0; k < m && b.ok(); ++k) entry.second.push_back(getDigest(r));
      }
      return f;
    }
    case FrameType::Presence: {
      Presence f{b.json()};
      if (b.ok() && f.json.size() > kMaxPresenceBytes) b.reject(DecodeError::TooLarge);
      return f;
    }
    case FrameType::BinaryMessage:
      return BinaryMessage{std::string(r.bytes())};
    case FrameType::Auth: {
      Auth f{std::string(r.bytes())};
      if (b.ok() && f.proof.empty()) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::Capabilities: {
      Capabilities f;
      f.workers = r.varuint();
      uint64_t n = r.varuint();
      if (n > r.remaining()) return b.reject<std::optional<Frame>>(DecodeError::BadLength);
      if (n > kMaxTasksAdvertised) return b.reject<std::optional<Frame>>(DecodeError::TooLarge);
      f.tasks.reserve(static_cast<size_t>(n));
      for (uint64_t i = 0; i < n && b.ok(); ++i) {
        f.tasks.push_back(b.text());
        if (b.ok() && (f.tasks.back().empty() || f.tasks.back().size() > kMaxTaskNameBytes))
          b.reject(DecodeError::InvalidField);
      }
      return f;
    }
    case FrameType::WorkAssign: {
      WorkAssign f;
      f.lease = r.varuint();
      f.task = b.text();
      f.input = std::string(r.bytes());
      if (b.ok() && (f.task.empty() || f.task.size() > kMaxTaskNameBytes)) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::WorkResult: {
      WorkResult f;
      f.lease = r.varuint();
      uint8_t ok = r.u8();
      if (b.ok() && ok > 1) b.reject(DecodeError::InvalidField);
      f.ok = ok == 1;
      f.bytes = f.ok ? std::string(r.bytes()) : b.text();
      if (b.ok() && !f.ok && f.bytes.size() > kMaxTaskErrorBytes) b.reject(DecodeError::InvalidField);
      return f;
    }
    case FrameType::WorkCancel:
      return WorkCancel{r.varuint()};
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
    case DecodeError::TooLarge: return "larger than the protocol allows for its frame type";
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

size_t maxBodyBytes(FrameType type, const Limits& limits) {
  constexpr size_t kTaskFrameOverhead = 1024;  // lease, task name, lengths
  switch (type) {
    case FrameType::Hello: return 4096;  // ids and the room: a few hundred bytes
    case FrameType::SyncRequest: return kMaxVectorEntries * 20;
    case FrameType::StateAck: return 32;
    case FrameType::SyncResponse:
    case FrameType::SyncWrites:
    case FrameType::Update:
    case FrameType::OwnUpdate: return limits.maxStateFrameBytes;
    case FrameType::AppMessage:
    case FrameType::BinaryMessage: return limits.maxFrameBytes;
    case FrameType::Ping:
    case FrameType::Pong:
    case FrameType::WorkCancel: return 16;
    case FrameType::Fragment: return kMaxFragmentPieceBytes + 32;
    case FrameType::Presence: return kMaxPresenceBytes + 8;
    case FrameType::Auth: return 64;
    case FrameType::Capabilities: return 16 + kMaxTasksAdvertised * (kMaxTaskNameBytes + 2);
    case FrameType::WorkAssign:
    case FrameType::WorkResult: return kMaxTaskDataLimit + kTaskFrameOverhead;
    case FrameType::ReconcileNodes: return 2 + 4 + kMaxReconcileNodes * (4 + 16);
    case FrameType::ReconcileEntries: return 16 + kMaxReconcileLeaves * 8 + kMaxReconcileDigests * 16;
  }
  return 0;
}

std::optional<Header> peekHeader(const uint8_t* data, size_t size, const Limits& limits, DecodeError* error) {
  auto fail = [&](DecodeError e) -> std::optional<Header> {
    *error = e;
    return std::nullopt;
  };
  if (size < 4) return fail(DecodeError::TooShort);
  if (data[0] != kMagic) return fail(DecodeError::BadMagic);
  if (data[1] != kVersion) return fail(DecodeError::UnsupportedVersion);
  uint8_t type = data[2];
  if (type < static_cast<uint8_t>(FrameType::Hello) || type > static_cast<uint8_t>(FrameType::OwnUpdate))
    return fail(DecodeError::UnknownType);
  ByteReader header(data + 3, size - 3);
  uint64_t length = header.varuint();
  if (!header.ok()) return fail(DecodeError::BadLength);
  Header h{static_cast<FrameType>(type), size - header.remaining(), 0};
  if (length > maxBodyBytes(h.type, limits)) return fail(DecodeError::TooLarge);
  h.bodyBytes = static_cast<size_t>(length);
  return h;
}

Decoded decode(const uint8_t* data, size_t size, const Limits& limits) {
  DecodeError error = DecodeError::None;
  std::optional<Header> h = peekHeader(data, size, limits, &error);
  if (!h) return {std::nullopt, error};
  if (h->bodyBytes != size - h->headerBytes) return {std::nullopt, DecodeError::BadLength};

  ByteReader body(data + h->headerBytes, h->bodyBytes);
  BodyReader reader(body, limits);
  std::optional<Frame> frame = readBody(h->type, reader);
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
