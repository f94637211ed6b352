// The wire decoder takes bytes from untrusted peers. It must decode what
// encode() writes, and refuse everything else without crashing and without
// allocating more than the input could justify.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <set>

#include "support/simulated_network.h"
#include "wire/byte_codec.h"
#include "wire/fragment_assembler.h"
#include "wire/frame_codec.h"

// ---- allocation probe ---------------------------------------------------------------
// The test binary's global operator new records the largest single request
// and the total requested while a probe is active, so a test can show that a
// forged count or length is refused before anything is reserved for it.

namespace {
bool g_probing = false;
size_t g_largest = 0;
size_t g_total = 0;
}  // namespace

// GCC cannot see that these allocate with malloc and free with free.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  if (g_probing) {
    g_largest = std::max(g_largest, n);
    g_total += n;
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace pc::wire {
// Lets gtest print a DecodeError by name.
void PrintTo(DecodeError e, std::ostream* os) { *os << describe(e); }
}  // namespace pc::wire

using namespace pc;
using namespace pc::wire;

namespace {

struct Probed {
  Decoded decoded;
  size_t largest = 0;  // the largest single allocation decode made
  size_t total = 0;    // everything decode allocated
};

Probed probedDecode(const std::vector<uint8_t>& bytes) {
  Probed p;
  g_largest = g_total = 0;
  g_probing = true;
  p.decoded = decode(bytes.data(), bytes.size());
  g_probing = false;
  p.largest = g_largest;
  p.total = g_total;
  return p;
}

// What decoding `size` bytes may allocate at most: a small multiple of the
// input (a Write in memory is far bigger than its smallest encoding) plus a
// little slack. A count or length taken at its word would blow far past it.
size_t allocationBound(size_t size) { return 32 * size + 4096; }

Write write(std::string key, std::optional<std::string> value, uint64_t wall, uint32_t logical, uint64_t replica,
            uint64_t seq) {
  return Write{std::move(key), std::move(value), Stamp{wall, logical, replica}, seq};
}

bool sameWrites(const std::vector<Write>& a, const std::vector<Write>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].key != b[i].key || a[i].value != b[i].value || a[i].stamp != b[i].stamp || a[i].seq != b[i].seq)
      return false;
  return true;
}

bool same(const Frame& x, const Frame& y) {
  if (x.index() != y.index()) return false;
  return std::visit(
      [&](const auto& a) {
        using T = std::decay_t<decltype(a)>;
        const T& b = std::get<T>(y);
        if constexpr (std::is_same_v<T, Hello>) {
          return a.nodeId == b.nodeId && a.replica == b.replica && a.room == b.room && a.challenge == b.challenge;
        } else if constexpr (std::is_same_v<T, SyncRequest>) {
          return a.seen == b.seen;
        } else if constexpr (std::is_same_v<T, StateAck>) {
          return a.root == b.root;
        } else if constexpr (std::is_same_v<T, SyncResponse>) {
          return a.seen == b.seen && sameWrites(a.writes, b.writes);
        } else if constexpr (std::is_same_v<T, SyncWrites>) {
          return sameWrites(a.writes, b.writes);
        } else if constexpr (std::is_same_v<T, ReconcileNodes>) {
          return a.level == b.level && a.nodes == b.nodes;
        } else if constexpr (std::is_same_v<T, ReconcileEntries>) {
          return a.reply == b.reply && a.leaves == b.leaves;
        } else if constexpr (std::is_same_v<T, Update> || std::is_same_v<T, OwnUpdate>) {
          return sameWrites(a.writes, b.writes);
        } else if constexpr (std::is_same_v<T, AppMessage> || std::is_same_v<T, Presence>) {
          return a.json == b.json;
        } else if constexpr (std::is_same_v<T, Ping> || std::is_same_v<T, Pong>) {
          return a.nonce == b.nonce;
        } else if constexpr (std::is_same_v<T, BinaryMessage>) {
          return a.bytes == b.bytes;
        } else if constexpr (std::is_same_v<T, Auth>) {
          return a.proof == b.proof;
        } else if constexpr (std::is_same_v<T, Capabilities>) {
          return a.workers == b.workers && a.tasks == b.tasks;
        } else if constexpr (std::is_same_v<T, WorkAssign>) {
          return a.lease == b.lease && a.task == b.task && a.input == b.input;
        } else if constexpr (std::is_same_v<T, WorkResult>) {
          return a.lease == b.lease && a.ok == b.ok && a.bytes == b.bytes;
        } else if constexpr (std::is_same_v<T, WorkCancel>) {
          return a.lease == b.lease;
        } else {
          static_assert(std::is_same_v<T, Fragment>);
          return a.messageId == b.messageId && a.index == b.index && a.count == b.count && a.bytes == b.bytes;
        }
      },
      x);
}

struct Sample {
  const char* name;
  Frame frame;
};

std::vector<Sample> samples() {
  const uint64_t kMax = UINT64_MAX;
  return {
      {"Hello", Hello{"node-1", 42, "room", ""}},
      {"Hello with challenge", Hello{"node-1", 42, "room", std::string("\x00\xff\x10" "challenge-bytes", 18)}},
      {"BinaryMessage", BinaryMessage{std::string("\x00\x01\xfe\xff" "binary", 10)}},
      {"BinaryMessage empty", BinaryMessage{""}},
      {"Auth", Auth{std::string(32, '\x7f')}},
      {"Hello utf8 room", Hello{"n", (uint64_t{1} << 53) - 1, "r\xc3\xa9union \xf0\x9f\x8e\x89", ""}},
      {"SyncRequest empty", SyncRequest{}},
      {"SyncRequest", SyncRequest{{{1, 5}, {2, 1}, {300, 70000}, {kMax, kMax}}}},
      {"StateAck", StateAck{Digest128{0x0123456789abcdefULL, kMax}}},
      {"StateAck without root", StateAck{}},
      {"SyncWrites", SyncWrites{{write("k", "1", 9, 0, 2, 3), write("j", std::nullopt, 9, 0, 2, 4)}}},
      {"ReconcileNodes", ReconcileNodes{2, {{0, Digest128{1, 2}}, {255, Digest128{kMax, 0}}}}},
      {"ReconcileNodes leaves", ReconcileNodes{3, {{4095, Digest128{3, 4}}}}},
      {"ReconcileEntries", ReconcileEntries{false, {{7, {Digest128{5, 6}, Digest128{7, 8}}}, {4095, {}}}}},
      {"ReconcileEntries reply", ReconcileEntries{true, {}}},
      {"Presence", Presence{R"({"cursor":[3,4],"name":"ada"})"}},
      {"SyncResponse empty", SyncResponse{{{1, 3}}, {}}},
      // The vector leaves out entries its writes imply; these must still
      // round-trip exactly: an entry below the writes (a gap), a writer the
      // vector lacks, and one it matches.
      {"SyncResponse vector below its writes", SyncResponse{{{1, 1}}, {write("k", "1", 9, 0, 1, 5)}}},
      {"SyncResponse writer not in vector", SyncResponse{{{4, 2}}, {write("k", "1", 9, 0, 2, 3)}}},
      {"SyncResponse implied entry", SyncResponse{{{2, 3}}, {write("k", "1", 9, 0, 2, 3)}}},
      {"SyncResponse",
       SyncResponse{{{1, 3}, {7, 9}},
                    {write("k", "1", 1700000000000, 0, 1, 1),
                     write("\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", std::nullopt, 5, 3, 7, 9),
                     write("emoji\xf0\x9f\x98\x80", R"({"a":[1,2,{"b":null}],"s":"\u00e9"})", kMax, UINT32_MAX, kMax,
                           kMax)}}},
      {"Update one", Update{{write("a", "\"x\"", 1, 0, 1, 1)}}},
      {"Update batch",
       Update{{write("a", "true", 10, 2, 3, 4), write("b", std::nullopt, 10, 2, 3, 5),
               write("c", " [ 1 , 2 ] ", 10, 2, 3, 6), write(std::string(300, 'k'), std::string(200, '1'), 10, 2, 3, 7)}}},
      // An OwnUpdate's writer is the sender: it decodes as replica 0.
      {"OwnUpdate one", OwnUpdate{{write("v", "1539", 1764331200000, 0, 0, 1)}}},
      {"OwnUpdate batch",
       OwnUpdate{{write("a", "true", 10, 2, 0, 4), write("b", std::nullopt, 10, 2, 0, 5), write("c", "[1,2]", 11, 0, 0, 9)}}},
      {"AppMessage", AppMessage{R"({"hello":"world"})"}},
      {"AppMessage null", AppMessage{"null"}},
      {"Ping 0", Ping{0}},
      {"Ping max", Ping{kMax}},
      {"Pong", Pong{1}},
      {"Pong big", Pong{uint64_t{1} << 40}},
      {"Fragment binary", Fragment{1, 0, 2, std::string("\x00\x01\xff\xc5", 4)}},
      {"Fragment last", Fragment{kMax, 5, 6, std::string(300, 'z')}},
      {"Capabilities none", Capabilities{0, {}}},
      {"Capabilities", Capabilities{4, {"countPrimes", "mandelbrot", "app:render.v2"}}},
      {"WorkAssign", WorkAssign{kMax, "mandelbrot", std::string("\xa1\x61\x61\x00", 4)}},
      {"WorkResult ok", WorkResult{7, true, std::string("\xd8\x46\x44\x01\x00\x00\x00", 7)}},
      {"WorkResult error", WorkResult{8, false, "mandelbrot: input.x0 must be a number"}},
      {"WorkCancel", WorkCancel{1}},
  };
}

std::vector<uint8_t> rawFrame(uint8_t type, const std::vector<uint8_t>& body) {
  ByteWriter w;
  w.u8(kMagic);
  w.u8(kVersion);
  w.u8(type);
  w.varuint(body.size());
  w.raw(body.data(), body.size());
  return w.take();
}
std::vector<uint8_t> rawFrame(FrameType type, const std::vector<uint8_t>& body) {
  return rawFrame(static_cast<uint8_t>(type), body);
}

std::vector<uint8_t> bodyOf(const std::vector<uint8_t>& frame) {
  ByteReader r(frame.data() + 3, frame.size() - 3);
  r.varuint();
  return {frame.end() - static_cast<std::ptrdiff_t>(r.remaining()), frame.end()};
}

// One write as the wire has it, in a run of its own, with every field free
// to be wrong. Clock and sequence are the deltas the wire carries.
struct RawWrite {
  std::string key = "k";
  std::optional<std::string> value = "1";
  uint64_t wallZigzag = 2;  // +1
  uint64_t logical = 0, replica = 1, seqDelta = 1;
};

std::vector<uint8_t> updateBody(const std::vector<RawWrite>& writes) {
  ByteWriter w;
  w.varuint(writes.size());
  for (const RawWrite& x : writes) {
    w.varuint(x.replica);
    w.varuint(1);
    w.bytes(x.key);
    if (x.value) {
      w.varuint(x.value->size() + 1);
      w.raw(x.value->data(), x.value->size());
    } else {
      w.varuint(0);
    }
    w.varuint(x.wallZigzag);
    w.varuint(x.logical);
    w.varuint(x.seqDelta);
  }
  return w.take();
}

std::vector<uint8_t> bytesOf(std::initializer_list<int> list) {
  std::vector<uint8_t> out;
  for (int b : list) out.push_back(static_cast<uint8_t>(b));
  return out;
}

// Decodes bytes that must be refused, with the given error when one is named.
void expectRejected(const std::vector<uint8_t>& bytes, std::optional<DecodeError> error = std::nullopt) {
  Probed p = probedDecode(bytes);
  EXPECT_FALSE(p.decoded.frame.has_value());
  EXPECT_NE(p.decoded.error, DecodeError::None);
  if (error) {
    EXPECT_EQ(p.decoded.error, *error) << describe(p.decoded.error) << " instead of " << describe(*error);
  }
  EXPECT_LE(p.largest, allocationBound(bytes.size()));
}

// For bytes of unknown validity: accepted or refused, never both or neither,
// and an accepted frame encodes back to one that decodes the same.
void expectConsistent(const std::vector<uint8_t>& bytes, const std::string& where) {
  Probed p = probedDecode(bytes);
  EXPECT_LE(p.largest, allocationBound(bytes.size())) << where;
  if (!p.decoded.frame) {
    EXPECT_NE(p.decoded.error, DecodeError::None) << where;
    return;
  }
  EXPECT_EQ(p.decoded.error, DecodeError::None) << where;
  Decoded again = decode(encode(*p.decoded.frame));
  ASSERT_TRUE(again.frame.has_value()) << where << ": " << describe(again.error);
  EXPECT_TRUE(same(*again.frame, *p.decoded.frame)) << where;
}

}  // namespace

// ---- round trips -----------------------------------------------------------------------

TEST(FrameCodec, RoundTripsEveryFrameType) {
  std::set<size_t> types;
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    types.insert(s.frame.index());
    std::vector<uint8_t> bytes = encode(s.frame);
    ASSERT_GE(bytes.size(), 4u);
    EXPECT_EQ(bytes[0], kMagic);
    EXPECT_EQ(bytes[1], kVersion);
    EXPECT_EQ(bytes[2], s.frame.index() + 1);
    Decoded d = decode(bytes);
    ASSERT_TRUE(d.frame.has_value()) << describe(d.error);
    EXPECT_EQ(d.error, DecodeError::None);
    EXPECT_TRUE(same(*d.frame, s.frame));
    EXPECT_EQ(encode(*d.frame), bytes);
  }
  EXPECT_EQ(types.size(), std::variant_size_v<Frame>) << "a sample of every frame type";
}

// A node's own transaction goes to its peers without its writer: the frame
// is the Update's, less the run count and the replica id, and everything
// else (keys, values, clocks, sequence numbers) decodes the same.
TEST(FrameCodec, AnOwnUpdateIsAnUpdateWithoutItsWriter) {
  const uint64_t replica = (uint64_t{1} << 53) - 12345;  // a replica id as the JS glue draws them
  std::vector<Write> writes = {write("v", "1539", 1764331200000, 0, replica, 1),
                               write("w", std::nullopt, 1764331200000, 1, replica, 2)};
  std::vector<uint8_t> update = encode(Update{writes});
  std::vector<uint8_t> own = encode(OwnUpdate{writes});
  EXPECT_EQ(own[2], static_cast<uint8_t>(FrameType::OwnUpdate));
  // The run count (1 byte) and the 53-bit replica id (8 bytes) are gone.
  EXPECT_EQ(update.size() - own.size(), 1u + 8u);
  Decoded d = decode(own);
  ASSERT_TRUE(d.frame.has_value()) << describe(d.error);
  const auto& decoded = std::get<OwnUpdate>(*d.frame).writes;
  ASSERT_EQ(decoded.size(), writes.size());
  for (size_t i = 0; i < writes.size(); ++i) {
    Write expected = writes[i];
    expected.stamp.replica = 0;  // the receiving session names the writer
    EXPECT_EQ(decoded[i].key, expected.key);
    EXPECT_EQ(decoded[i].value, expected.value);
    EXPECT_EQ(decoded[i].stamp, expected.stamp);
    EXPECT_EQ(decoded[i].seq, expected.seq);
  }
  // B3's write (one key, a number of four digits): a 4-byte header, the
  // count, key and value with their lengths (8), the clock (6 + 1) and seq.
  EXPECT_EQ(encode(OwnUpdate{{writes[0]}}).size(), 20u);
}

// ---- malformed input ---------------------------------------------------------------------

TEST(FrameCodec, EveryPrefixOfEveryFrameIsRejected) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    std::vector<uint8_t> bytes = encode(s.frame);
    for (size_t len = 0; len < bytes.size(); ++len) {
      SCOPED_TRACE("prefix of " + std::to_string(len) + " bytes");
      // An exact-size copy, so a read past the end is a read past the buffer.
      expectRejected(std::vector<uint8_t>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len)));
    }
  }
  expectRejected({}, DecodeError::TooShort);
  EXPECT_FALSE(decode(nullptr, 0).frame.has_value());
}

TEST(FrameCodec, RejectsBadMagicVersionAndType) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    std::vector<uint8_t> bytes = encode(s.frame);
    for (int magic : {0x00, 0xC4, 0xC6, 0xFF, 0x7B}) {
      std::vector<uint8_t> b = bytes;
      b[0] = static_cast<uint8_t>(magic);
      expectRejected(b, DecodeError::BadMagic);
    }
    for (int version : {0, 1, 3, 0x81, 0xFF}) {
      std::vector<uint8_t> b = bytes;
      b[1] = static_cast<uint8_t>(version);
      expectRejected(b, DecodeError::UnsupportedVersion);
    }
  }
  for (int type : {0, 21, 22, 0x7F, 0xFF}) expectRejected(rawFrame(static_cast<uint8_t>(type), {0}), DecodeError::UnknownType);
}

TEST(FrameCodec, RejectsTrailingBytes) {
  for (const Sample& s : samples()) {
    SCOPED_TRACE(s.name);
    std::vector<uint8_t> bytes = encode(s.frame);
    // Bytes after the frame: the declared length no longer matches.
    for (uint8_t extra : {0x00, 0x01, 0xC5}) {
      std::vector<uint8_t> b = bytes;
      b.push_back(extra);
      expectRejected(b, DecodeError::BadLength);
    }
    // Bytes inside the declared length, after a complete body.
    std::vector<uint8_t> body = bodyOf(bytes);
    body.push_back(0);
    expectRejected(rawFrame(static_cast<uint8_t>(s.frame.index() + 1), body), DecodeError::TrailingBytes);
  }
}

TEST(FrameCodec, ForgedLengthsAndCountsAllocateNothingLarge) {
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    DecodeError error;
  };
  auto varint = [](uint64_t v) {
    ByteWriter w;
    w.varuint(v);
    return w.take();
  };
  auto cat = [](std::initializer_list<std::vector<uint8_t>> parts) {
    std::vector<uint8_t> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  auto header = [&](FrameType t, uint64_t length) {
    return cat({bytesOf({kMagic, kVersion, static_cast<int>(t)}), varint(length)});
  };
  const uint64_t huge = uint64_t{1} << 62;
  std::vector<Case> cases = {
      {"frame length 2^62", cat({header(FrameType::Ping, huge), {1}}), DecodeError::TooLarge},
      {"frame length UINT64_MAX", cat({header(FrameType::Ping, UINT64_MAX), {1}}), DecodeError::TooLarge},
      {"frame length varint overflows 64 bits",
       cat({bytesOf({kMagic, kVersion, 6}), bytesOf({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}), {0}}),
       DecodeError::BadLength},
      {"frame length varint of 11 bytes",
       cat({bytesOf({kMagic, kVersion, 6}), bytesOf({0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})}),
       DecodeError::BadLength},
      {"state vector count 2^62", rawFrame(FrameType::SyncRequest, cat({varint(huge), {1, 1}})), DecodeError::BadLength},
      {"state vector count 1000 in 4 bytes", rawFrame(FrameType::SyncRequest, cat({varint(1000), {1, 1, 2, 2}})),
       DecodeError::BadLength},
      {"sync writes count 2^40", rawFrame(FrameType::SyncResponse, cat({{0}, varint(uint64_t{1} << 40), {1, 2, 3}})),
       DecodeError::BadLength},
      {"update writes count UINT64_MAX", rawFrame(FrameType::Update, cat({varint(UINT64_MAX), updateBody({{}})})),
       DecodeError::BadLength},
      {"update writes count 10000 in 60 bytes",
       rawFrame(FrameType::Update, cat({varint(10000), std::vector<uint8_t>(60, 1)})), DecodeError::BadLength},
      {"key length 2^50", rawFrame(FrameType::Update, cat({{1, 1, 1}, varint(uint64_t{1} << 50), {'k', 1}})),
       DecodeError::Truncated},
      {"value length 2^31", rawFrame(FrameType::Update, cat({{1, 1, 1, 1, 'k'}, varint(uint64_t{1} << 31), {'1'}})),
       DecodeError::Truncated},
      {"message length 2^63", rawFrame(FrameType::AppMessage, cat({varint(uint64_t{1} << 63), {'1'}})),
       DecodeError::Truncated},
      {"node id length 2^40", rawFrame(FrameType::Hello, cat({varint(uint64_t{1} << 40), {'n', 1}})),
       DecodeError::Truncated},
      {"fragment length 2^60", rawFrame(FrameType::Fragment, cat({{1, 0, 2}, varint(uint64_t{1} << 60), {'x'}})),
       DecodeError::Truncated},
  };
  // The probe works: a genuine 100 kB value is allocated as such.
  Probed control = probedDecode(encode(AppMessage{"\"" + std::string(100000, 'v') + "\""}));
  ASSERT_TRUE(control.decoded.frame.has_value());
  EXPECT_GE(control.largest, 100000u);

  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Probed p = probedDecode(c.bytes);
    EXPECT_FALSE(p.decoded.frame.has_value());
    EXPECT_EQ(p.decoded.error, c.error) << describe(p.decoded.error);
    EXPECT_LT(p.largest, 1024u) << "decode reserved memory for a forged size";
    EXPECT_LT(p.total, 4096u);
  }
}

TEST(FrameCodec, RejectsInvalidUtf8Text) {
  const std::vector<std::string> bad = {
      "\xff",             "\x80",          "a\x80z",          "\xc0\x80",         "\xc1\xbf",
      "\xe0\x80\x80",     "\xed\xa0\x80",  "\xed\xbf\xbf",    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
      "\xf8\x88\x80\x80", "\xe2\x82",      "ok\xe2\x82",      "\xf0\x9f\x98",     "a\xc3",
      "\xc3\x28",         "\xe2\x28\xa1",  "\xf0\x28\x8c\xbc"};
  for (const std::string& key : bad) {
    SCOPED_TRACE(::testing::PrintToString(key));
    expectRejected(encode(Update{{write(key, "1", 1, 0, 1, 1)}}), DecodeError::InvalidText);
    expectRejected(encode(SyncResponse{{}, {write("fine", "1", 1, 0, 1, 1), write(key, std::nullopt, 1, 0, 1, 2)}}),
                   DecodeError::InvalidText);
    expectRejected(encode(Hello{key, 1, "room", ""}), DecodeError::InvalidText);
    expectRejected(encode(Hello{"node", 1, key, ""}), DecodeError::InvalidText);
  }
  const std::vector<std::string> good = {"plain", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", "\xe2\x82\xac",
                                         "\xf0\x9f\x98\x80", "\x7f", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
                                         std::string("nul\0inside", 10)};
  for (const std::string& key : good) {
    SCOPED_TRACE(::testing::PrintToString(key));
    Decoded d = decode(encode(Update{{write(key, "1", 1, 0, 1, 1)}}));
    ASSERT_TRUE(d.frame.has_value()) << describe(d.error);
    EXPECT_EQ(std::get<Update>(*d.frame).writes.at(0).key, key);
  }
}

TEST(FrameCodec, RejectsInvalidJsonValues) {
  const std::vector<std::string> bad = {"",       " ",         "{",         "}",           "[1,]",
                                        "{'a':1}", "undefined", "NaN",       "Infinity",    "-Infinity",
                                        "1 2",    "\"open",    "tru",       "01",          "{\"a\":1,}",
                                        "/* c */ 1", "[1] x",  "\"\xff\"",  "{\"a\" 1}",   "+1",
                                        ".5",     "0x10",      "'single'"};
  for (const std::string& value : bad) {
    SCOPED_TRACE(::testing::PrintToString(value));
    expectRejected(encode(Update{{write("k", value, 1, 0, 1, 1)}}), DecodeError::InvalidJson);
    expectRejected(encode(SyncResponse{{}, {write("k", value, 1, 0, 1, 1)}}), DecodeError::InvalidJson);
    expectRejected(encode(AppMessage{value}), DecodeError::InvalidJson);
  }
  const std::vector<std::string> good = {"null", "true", "false", "0", "-1.5e3", "\"s\"", "[]", "{}",
                                         " {\"a\" : [1, 2, {\"b\": null}]} ", "\"\\u00e9\\n\""};
  for (const std::string& value : good) {
    SCOPED_TRACE(value);
    Decoded d = decode(encode(AppMessage{value}));
    ASSERT_TRUE(d.frame.has_value()) << describe(d.error);
    EXPECT_EQ(std::get<AppMessage>(*d.frame).json, value);
    EXPECT_TRUE(decode(encode(Update{{write("k", value, 1, 0, 1, 1)}})).frame.has_value());
  }
}

TEST(FrameCodec, RejectsForbiddenFieldValues) {
  RawWrite emptyKey;
  emptyKey.key = "";
  RawWrite zeroSeq;
  zeroSeq.seqDelta = 0;
  RawWrite wideLogical;
  wideLogical.logical = uint64_t{UINT32_MAX} + 1;
  RawWrite fine;
  expectRejected(rawFrame(FrameType::Update, updateBody({emptyKey})), DecodeError::InvalidField);
  expectRejected(rawFrame(FrameType::Update, bytesOf({1, 1, 0, 0, 0})), DecodeError::InvalidField);  // a run of no writes
  expectRejected(rawFrame(FrameType::Update, updateBody({zeroSeq})), DecodeError::InvalidField);
  expectRejected(rawFrame(FrameType::Update, updateBody({wideLogical})), DecodeError::InvalidField);
  expectRejected(rawFrame(FrameType::Update, updateBody({})), DecodeError::InvalidField);  // an empty transaction
  expectRejected(encode(OwnUpdate{}), DecodeError::InvalidField);  // an empty transaction
  expectRejected(encode(Hello{"", 1, "room", ""}), DecodeError::InvalidField);
  expectRejected(encode(Fragment{1, 0, 1, "x"}), DecodeError::InvalidField);
  expectRejected(encode(Auth{""}), DecodeError::InvalidField);  // an empty proof proves nothing  // one fragment is no fragment
  expectRejected(encode(Fragment{1, 0, 0, "x"}), DecodeError::InvalidField);
  expectRejected(encode(Fragment{1, 2, 2, "x"}), DecodeError::InvalidField);
  expectRejected(encode(Fragment{1, 0, 2, ""}), DecodeError::InvalidField);
  // The same fields at their limits are fine.
  RawWrite edge;
  edge.logical = UINT32_MAX;
  edge.value = std::nullopt;
  EXPECT_TRUE(decode(rawFrame(FrameType::Update, updateBody({edge}))).frame.has_value());
}

TEST(FrameCodec, RandomBytesNeverCrash) {
  size_t accepted = 0;
  for (uint64_t seed = 0; seed < 100000; ++seed) {
    pcsim::Rng rng(seed);
    std::vector<uint8_t> bytes;
    if (seed % 2 == 0) {
      // Anything at all.
      bytes.resize(rng.below(120));
      for (auto& b : bytes) b = static_cast<uint8_t>(rng.next());
    } else {
      // A well-formed header and a random body: gets into the body readers.
      std::vector<uint8_t> body(rng.below(100));
      for (auto& b : body) b = static_cast<uint8_t>(rng.below(4) == 0 ? rng.next() : rng.below(4));
      bytes = rawFrame(static_cast<uint8_t>(1 + rng.below(8)), body);
    }
    expectConsistent(bytes, "seed " + std::to_string(seed));
    accepted += decode(bytes).frame.has_value();
    if (HasFailure()) break;
  }
  EXPECT_GT(accepted, 0u) << "the structured half should produce some valid frames";
}

TEST(FrameCodec, MutatedFramesNeverCrash) {
  std::vector<Sample> all = samples();
  for (size_t i = 0; i < all.size() && !HasFailure(); ++i) {
    const std::vector<uint8_t> valid = encode(all[i].frame);
    for (uint64_t seed = 0; seed < 4000; ++seed) {
      pcsim::Rng rng(seed * 1000 + i);
      std::vector<uint8_t> b = valid;
      int edits = 1 + static_cast<int>(rng.below(3));
      for (int e = 0; e < edits && !b.empty(); ++e) {
        size_t at = rng.below(b.size());
        switch (rng.below(6)) {
          case 0: b[at] ^= static_cast<uint8_t>(1u << rng.below(8)); break;
          case 1: b[at] = static_cast<uint8_t>(rng.next()); break;
          case 2: b.insert(b.begin() + static_cast<std::ptrdiff_t>(at), static_cast<uint8_t>(rng.next())); break;
          case 3: b.erase(b.begin() + static_cast<std::ptrdiff_t>(at)); break;
          case 4: b.resize(at); break;
          case 5: b[at] = static_cast<uint8_t>(rng.below(2) ? 0xff : 0x80); break;
        }
      }
      expectConsistent(b, std::string(all[i].name) + ", mutation seed " + std::to_string(seed));
      if (HasFailure()) break;
    }
  }
}

// ---- fragments ----------------------------------------------------------------------------

namespace {

std::vector<uint8_t> largeUpdate(size_t valueBytes) {
  pcsim::Rng rng(7);
  std::string value = "\"";
  for (size_t i = 0; i < valueBytes; ++i) value.push_back(static_cast<char>('a' + rng.below(26)));
  value.push_back('"');
  return encode(Update{{write("big", value, 5, 0, 1, 1)}});
}

std::vector<Fragment> fragmentsOf(const std::vector<uint8_t>& encoded, uint64_t id, size_t piece) {
  std::vector<Fragment> out;
  for (const auto& bytes : fragment(encoded, id, piece)) {
    Decoded d = decode(bytes);
    EXPECT_TRUE(d.frame.has_value()) << describe(d.error);
    if (d.frame) out.push_back(std::get<Fragment>(*d.frame));
  }
  return out;
}

}  // namespace

TEST(Fragments, OneMegabyteFrameSplitsAndReassembles) {
  const std::vector<uint8_t> encoded = largeUpdate(1 << 20);
  const size_t piece = 16 * 1024;
  std::vector<std::vector<uint8_t>> pieces = fragment(encoded, 99, piece);
  ASSERT_EQ(pieces.size(), (encoded.size() + piece - 1) / piece);
  FragmentAssembler assembler(Limits{2 << 20});
  std::vector<uint8_t> whole;
  for (size_t i = 0; i < pieces.size(); ++i) {
    EXPECT_LE(pieces[i].size(), piece + 32) << "fragment " << i << " overhead";
    Decoded d = decode(pieces[i]);
    ASSERT_TRUE(d.frame.has_value()) << describe(d.error);
    const Fragment& f = std::get<Fragment>(*d.frame);
    EXPECT_EQ(f.messageId, 99u);
    EXPECT_EQ(f.index, i);
    EXPECT_EQ(f.count, pieces.size());
    auto r = assembler.add(f, &whole);
    EXPECT_EQ(r, i + 1 < pieces.size() ? FragmentAssembler::Result::Incomplete : FragmentAssembler::Result::Complete);
  }
  EXPECT_FALSE(assembler.inProgress());
  ASSERT_EQ(whole, encoded);
  Decoded d = decode(whole);
  ASSERT_TRUE(d.frame.has_value());
  const Write& w = std::get<Update>(*d.frame).writes.at(0);
  EXPECT_EQ(w.key, "big");
  EXPECT_EQ(w.value->size(), (1u << 20) + 2);
}

TEST(Fragments, OutOfOrderFragmentsAreRejected) {
  const std::vector<uint8_t> encoded = largeUpdate(10000);
  std::vector<Fragment> f = fragmentsOf(encoded, 5, 1000);
  ASSERT_GE(f.size(), 6u);
  std::swap(f[2], f[3]);
  FragmentAssembler a(Limits{1 << 20});
  std::vector<uint8_t> whole;
  EXPECT_EQ(a.add(f[0], &whole), FragmentAssembler::Result::Incomplete);
  EXPECT_EQ(a.add(f[1], &whole), FragmentAssembler::Result::Incomplete);
  EXPECT_EQ(a.add(f[2], &whole), FragmentAssembler::Result::Rejected) << "index 3 where 2 was due";
  for (size_t i = 3; i < f.size(); ++i)
    EXPECT_EQ(a.add(f[i], &whole), FragmentAssembler::Result::Discarded)
        << "the partial frame was dropped, and the rest of it counts as no new fault";
  EXPECT_TRUE(whole.empty());
  EXPECT_FALSE(a.inProgress());

  // The assembler recovers for the next frame sent properly.
  std::swap(f[2], f[3]);
  for (size_t i = 0; i < f.size(); ++i) a.add(f[i], &whole);
  EXPECT_EQ(whole, encoded);

  // Reversed order never completes.
  FragmentAssembler b(Limits{1 << 20});
  whole.clear();
  for (size_t i = f.size(); i-- > 0;) EXPECT_NE(b.add(f[i], &whole), FragmentAssembler::Result::Complete);
  EXPECT_TRUE(whole.empty());
}

TEST(Fragments, MissingFragmentsAreRejected) {
  const std::vector<uint8_t> encoded = largeUpdate(10000);
  std::vector<Fragment> f = fragmentsOf(encoded, 8, 1000);
  ASSERT_GE(f.size(), 6u);
  std::vector<uint8_t> whole;

  // A gap in the middle.
  FragmentAssembler a(Limits{1 << 20});
  for (size_t i = 0; i < f.size(); ++i) {
    if (i == 3) continue;
    auto r = a.add(f[i], &whole);
    EXPECT_EQ(r, i < 3    ? FragmentAssembler::Result::Incomplete
                 : i == 4 ? FragmentAssembler::Result::Rejected
                          : FragmentAssembler::Result::Discarded)
        << i;
  }
  EXPECT_TRUE(whole.empty());

  // The first one missing.
  FragmentAssembler b(Limits{1 << 20});
  for (size_t i = 1; i < f.size(); ++i) EXPECT_EQ(b.add(f[i], &whole), FragmentAssembler::Result::Rejected);

  // The last one missing, then another frame starts: both are lost, the one
  // after that assembles.
  FragmentAssembler c(Limits{1 << 20});
  for (size_t i = 0; i + 1 < f.size(); ++i) EXPECT_EQ(c.add(f[i], &whole), FragmentAssembler::Result::Incomplete);
  EXPECT_TRUE(c.inProgress());
  std::vector<Fragment> next = fragmentsOf(encoded, 9, 1000);
  EXPECT_EQ(c.add(next[0], &whole), FragmentAssembler::Result::Rejected) << "a new frame interrupts a partial one";
  EXPECT_EQ(c.add(next[1], &whole), FragmentAssembler::Result::Rejected);
  std::vector<Fragment> third = fragmentsOf(encoded, 10, 1000);
  for (const Fragment& x : third) c.add(x, &whole);
  EXPECT_EQ(whole, encoded);
}

TEST(Fragments, MismatchedDuplicateAndOversizedFragmentsAreRejected) {
  const std::vector<uint8_t> encoded = largeUpdate(10000);
  std::vector<Fragment> f = fragmentsOf(encoded, 3, 1000);
  std::vector<uint8_t> whole;
  {
    FragmentAssembler a(Limits{1 << 20});
    a.add(f[0], &whole);
    Fragment other = f[1];
    other.messageId = 4;
    EXPECT_EQ(a.add(other, &whole), FragmentAssembler::Result::Rejected) << "another message's fragment";
  }
  {
    FragmentAssembler a(Limits{1 << 20});
    a.add(f[0], &whole);
    Fragment other = f[1];
    other.count += 1;
    EXPECT_EQ(a.add(other, &whole), FragmentAssembler::Result::Rejected) << "a changed count";
  }
  {
    FragmentAssembler a(Limits{1 << 20});
    a.add(f[0], &whole);
    a.add(f[1], &whole);
    EXPECT_EQ(a.add(f[1], &whole), FragmentAssembler::Result::Rejected) << "a duplicate";
  }
  {
    // A frame over its type's limit is refused at its first fragment, from
    // the header the piece begins with, before any more of it is held.
    FragmentAssembler a(Limits{4000});
    std::vector<Fragment> big = fragmentsOf(encode(AppMessage{"\"" + std::string(10000, 'm') + "\""}), 6, 1000);
    EXPECT_EQ(a.add(big[0], &whole), FragmentAssembler::Result::Rejected);
    EXPECT_STREQ(a.lastError(), "fragmented frame over its type's limit");
    EXPECT_FALSE(a.inProgress());
    EXPECT_TRUE(whole.empty());
  }
  {
    // The pieces must add up to the frame's declared length: no more is held.
    FragmentAssembler a(Limits{100000});
    std::vector<Fragment> pieces = fragmentsOf(encode(AppMessage{"\"" + std::string(5000, 'm') + "\""}), 7, 1000);
    Fragment extra = pieces.back();
    extra.index = pieces.size();
    for (Fragment& x : pieces) x.count += 1;
    extra.count = pieces.back().count;
    for (size_t i = 0; i + 1 < pieces.size(); ++i) EXPECT_EQ(a.add(pieces[i], &whole), FragmentAssembler::Result::Incomplete);
    EXPECT_EQ(a.add(pieces.back(), &whole), FragmentAssembler::Result::Incomplete);
    EXPECT_EQ(a.add(extra, &whole), FragmentAssembler::Result::Rejected);
    EXPECT_STREQ(a.lastError(), "fragments longer than the frame they carry");
  }
  {
    // A first piece that is not a frame's header is refused at once.
    FragmentAssembler a(Limits{100000});
    EXPECT_EQ(a.add(Fragment{77, 0, 5, std::string(1000, 'x')}, &whole), FragmentAssembler::Result::Rejected);
    EXPECT_STREQ(a.lastError(), "first fragment does not start with a frame header");
  }
  {
    // A forged count of 2^63 reserves nothing, and the declared length holds.
    FragmentAssembler a(Limits{100000});
    ByteWriter head;
    head.u8(kMagic);
    head.u8(kVersion);
    head.u8(static_cast<uint8_t>(FrameType::AppMessage));
    head.varuint(99000);
    std::string first(reinterpret_cast<const char*>(head.buffer().data()), head.size());
    first += std::string(1000 - first.size(), 'x');
    Fragment x{77, 0, uint64_t{1} << 63, first};
    g_largest = 0;
    g_probing = true;
    std::vector<FragmentAssembler::Result> results;
    results.reserve(200);
    for (uint64_t i = 0; i < 200; ++i) {
      x.index = i;
      if (i == 1) x.bytes = std::string(1000, 'x');
      results.push_back(a.add(x, &whole));
    }
    g_probing = false;
    EXPECT_EQ(results[98], FragmentAssembler::Result::Incomplete);
    EXPECT_EQ(results[99], FragmentAssembler::Result::Rejected);
    EXPECT_LE(g_largest, 2u * 100000u);
  }
}
