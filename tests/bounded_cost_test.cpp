// Bounded cost per peer: each attack a peer can make with bytes on its data
// channel is sent here, and the time and memory it costs the receiver are
// held to a stated budget (see wasm/wire/PROTOCOL.md, "Threat model").
// Budgets are for an optimized native build; tests/support/heap_usage.h
// scales the time budgets under sanitizers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/heap_usage.h"
#include "support/peer_view.h"
#include "support/simulated_network.h"
#include "wire/byte_codec.h"
#include "wire/fragment_assembler.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

std::vector<uint8_t> frameOf(wire::FrameType type, const std::vector<uint8_t>& body) {
  wire::ByteWriter w;
  w.u8(wire::kMagic);
  w.u8(wire::kVersion);
  w.u8(static_cast<uint8_t>(type));
  w.varuint(body.size());
  w.raw(body.data(), body.size());
  return w.take();
}

// An Update of `groups` runs of one write each, every run by another writer,
// so nothing merges: the shape that made decoding quadratic.
std::vector<uint8_t> manyGroups(size_t groups) {
  wire::ByteWriter body;
  body.varuint(groups);
  for (size_t i = 0; i < groups; ++i) {
    body.varuint(i + 1);  // writer
    body.varuint(1);      // one write
    body.bytes("k");
    body.varuint(2);      // a value of one byte
    body.raw("1", 1);
    body.varuint(2);      // wall +1
    body.varuint(0);
    body.varuint(1);
  }
  return frameOf(wire::FrameType::Update, body.take());
}

// Hands bytes to `to` as if `from` had sent them on their channel.
void deliver(SimulatedNetwork& net, const std::string& to, const std::string& from, const std::vector<uint8_t>& bytes) {
  net.input(to, [&](NodeKernel& k, Millis now) { k.handleData(from, bytes.data(), bytes.size(), now); });
}

}  // namespace

// Finding 6: 60,000 groups in a 567 KB frame took 6.2 s in wasm. Budget:
// decoding is linear, well under 100 ms for this frame natively.
TEST(BoundedCost, DecodingManySmallGroupsIsLinear) {
  const std::vector<uint8_t> frame = manyGroups(60'000);
  ASSERT_GT(frame.size(), 500'000u);
  wire::Decoded d;
  double ms = elapsedMs([&] { d = wire::decode(frame); });
  ASSERT_TRUE(d.frame.has_value()) << wire::describe(d.error);
  EXPECT_EQ(std::get<wire::Update>(*d.frame).writes.size(), 60'000u);
  EXPECT_LT(ms, 100 * kTimeBudgetScale) << "decoding took " << ms << " ms";

  // Twice the groups take about twice the time, not four times.
  const std::vector<uint8_t> twice = manyGroups(120'000);
  double small = 1e9, large = 1e9;
  for (int i = 0; i < 3; ++i) {
    small = std::min(small, elapsedMs([&] { d = wire::decode(frame); }));
    large = std::min(large, elapsedMs([&] { d = wire::decode(twice); }));
  }
  EXPECT_LT(large, 3.5 * small + 2) << small << " ms for 60k groups, " << large << " ms for 120k";
}

// Finding 7: a 60 MiB Capabilities frame of empty names grew the heap by
// 1.6 GB, and a 60 MiB StateAck by 1.5 GB. Budget: refused from the header,
// with nothing allocated.
TEST(BoundedCost, OversizedControlFramesAreRefusedFromTheirHeader) {
  const size_t sixtyMiB = size_t{60} << 20;
  for (wire::FrameType type : {wire::FrameType::Capabilities, wire::FrameType::StateAck, wire::FrameType::SyncRequest,
                               wire::FrameType::Hello, wire::FrameType::Presence, wire::FrameType::Ping,
                               wire::FrameType::Auth}) {
    SCOPED_TRACE(static_cast<int>(type));
    std::vector<uint8_t> frame = frameOf(type, std::vector<uint8_t>(sixtyMiB, 0));
    HeapProbe heap;
    wire::Decoded d = wire::decode(frame);
    heap.sample();
    EXPECT_FALSE(d.frame.has_value());
    EXPECT_EQ(d.error, wire::DecodeError::TooLarge) << wire::describe(d.error);
    EXPECT_LT(heap.peak(), size_t{64} << 10);
  }
}

TEST(BoundedCost, CountsAreCappedPerFrameTypeBeforeAllocating) {
  {
    // 257 task names: one over the cap.
    wire::ByteWriter body;
    body.varuint(1);
    body.varuint(wire::kMaxTasksAdvertised + 1);
    for (size_t i = 0; i <= wire::kMaxTasksAdvertised; ++i) body.bytes("t");
    wire::Decoded d = wire::decode(frameOf(wire::FrameType::Capabilities, body.take()));
    EXPECT_EQ(d.error, wire::DecodeError::TooLarge);
  }
  {
    wire::ByteWriter body;
    body.varuint(1);
    body.varuint(1);
    body.bytes("");
    EXPECT_EQ(wire::decode(frameOf(wire::FrameType::Capabilities, body.take())).error,
              wire::DecodeError::InvalidField)
        << "an empty task name";
  }
  {
    // A vector naming more writers than any frame may.
    wire::ByteWriter body;
    body.varuint(wire::kMaxVectorEntries + 1);
    for (size_t i = 0; i <= wire::kMaxVectorEntries; ++i) {
      body.varuint(i + 1);
      body.varuint(1);
    }
    EXPECT_EQ(wire::decode(frameOf(wire::FrameType::SyncRequest, body.take())).error, wire::DecodeError::TooLarge);
  }
  {
    // A rejected task's error text is bounded.
    wire::WorkResult r{7, false, std::string(wire::kMaxTaskErrorBytes + 1, 'e')};
    EXPECT_EQ(wire::decode(wire::encode(r)).error, wire::DecodeError::InvalidField);
    r.bytes.pop_back();
    EXPECT_TRUE(wire::decode(wire::encode(r)).frame.has_value());
  }
}

// Before the handshake is done nothing but its own frames is decoded or
// reassembled: a peer that has not proved the password makes the node hold
// nothing.
TEST(BoundedCost, NothingButTheHandshakeIsReassembledOrDecodedBeforeIt) {
  NetworkOptions options;
  SimulatedNetwork net(options);
  NodeConfig config;
  config.sealed = true;
  NodeSetup setup;
  setup.password = "secret";
  net.addNode("a", config, setup);
  net.addNode("m", config, setup);
  net.start("a");
  net.start("m");
  // Run just until the channel is open and Hellos are on their way.
  ASSERT_TRUE(net.runUntil([&] {
    const std::optional<pcsim::PeerView> p = pcsim::peerOf(net.kernel("a"), "m");
    return p && p->state == PeerState::Handshaking;
  }, 5000));

  const std::vector<uint8_t> update = wire::encode(wire::Update{{Write{"evil", "1", Stamp{1, 0, 9}, 1}}});
  const std::vector<uint8_t> big = wire::encode(wire::AppMessage{"\"" + std::string(200'000, 'x') + "\""});
  const uint64_t before = net.kernel("a").counters().rejectedFrames;
  deliver(net, "a", "m", update);
  for (const auto& piece : wire::fragment(big, 5, 60'000)) deliver(net, "a", "m", piece);
  const std::optional<pcsim::PeerView> m = pcsim::peerOf(net.kernel("a"), "m");
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->reassembling) << "no fragment was taken in before the handshake";
  EXPECT_FALSE(net.kernel("a").state().has("evil"));
  EXPECT_GE(net.kernel("a").counters().rejectedFrames, before + 2);
}

// Finding 8: with 20,000 keys, a 5-byte SyncRequest returned 758 KB, and
// nothing stopped a peer from asking again and again. A peer is answered at
// most once a second, and not again before it acknowledged the last answer.
TEST(BoundedCost, ASyncRequestFloodIsAnsweredAtMostOnceASecond) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "m"}));
  std::vector<Operation> ops;
  for (int i = 0; i < 20'000; ++i) ops.push_back({"key-" + std::to_string(i), "{\"v\":" + std::to_string(i) + "}"});
  ASSERT_TRUE(net.commit("a", ops).ok);
  net.runFor(3000);
  size_t stateBytes = 0;
  for (const auto& [at, send] : net.outputs<SendData>("a")) stateBytes = std::max(stateBytes, send.bytes.size());
  const size_t sentBefore = net.outputs<SendData>("a").size();
  uint64_t answered = 0;
  size_t bytes = 0;
  wire::FragmentAssembler pieces;
  net.onFrameSent = [&](const std::string& from, const std::string& to, const std::vector<uint8_t>& frame) {
    if (from != "a" || to != "m") return;
    bytes += frame.size();
    wire::Decoded d = wire::decode(frame);
    if (!d.frame) return;
    if (auto* f = std::get_if<wire::Fragment>(&*d.frame)) {
      std::vector<uint8_t> whole;
      if (pieces.add(*f, &whole) != wire::FragmentAssembler::Result::Complete) return;
      d = wire::decode(whole);
    }
    if (std::holds_alternative<wire::SyncResponse>(*d.frame)) ++answered;
  };
  const std::vector<uint8_t> request = wire::encode(wire::SyncRequest{});
  double ms = 0;
  for (int second = 0; second < 10; ++second) {
    ms += elapsedMs([&] {
      for (int i = 0; i < 1000; ++i) deliver(net, "a", "m", request);
    });
    net.runFor(1000);
  }
  EXPECT_LE(answered, 11u) << "10,000 requests in 10 s";
  EXPECT_GE(answered, 5u) << "an honest peer that acknowledges is still answered";
  EXPECT_LT(bytes, 12 * size_t{900} << 10);
  EXPECT_LT(ms, 1000 * kTimeBudgetScale) << "the kernel's work for the whole flood";
  std::printf("10,000 SyncRequests over 10 s: %llu answers, %zu KiB sent, %.0f ms\n",
              static_cast<unsigned long long>(answered), bytes >> 10, ms);
  (void)sentBefore;
  (void)stateBytes;
}

// A peer that stops reading cannot grow this node's memory: whatever the
// node sends it (here the pongs to its pings) counts against the 64 MiB send
// queue, and past it the node gives the connection up. Others see nothing.
TEST(BoundedCost, APeerThatStopsReadingIsDisconnectedAtTheQueueBound) {
  NetworkOptions options;
  options.sendQueueLimit = size_t{4} << 20;  // 4 MiB here, to keep the test quick
  SimulatedNetwork net(options);
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  net.stopReading("m");
  const std::vector<uint8_t> ping = wire::encode(wire::Ping{123456789});
  size_t most = 0;
  for (int i = 0; i < 2'000'000 && pcsim::peerOf(net.kernel("a"), "m"); ++i) {
    deliver(net, "a", "m", ping);
    if (i % 10'000 == 0) {
      most = std::max(most, net.queuedFor("a", "m"));
      net.runFor(1);
    }
  }
  net.runFor(100);
  const std::optional<pcsim::PeerView> m = pcsim::peerOf(net.kernel("a"), "m");
  EXPECT_TRUE(!m || m->state != PeerState::Connected) << "a gave m up";
  EXPECT_LE(most, options.sendQueueLimit);
  bool overflowed = false;
  for (const auto& [at, d] : net.outputs<PeerDisconnected>("a")) overflowed |= d.peerId == "m" && d.reason == "send queue overflow";
  EXPECT_TRUE(overflowed);
  EXPECT_TRUE(net.meshAmong({"a", "b"})) << "b noticed nothing";
}

// Finding 10: one peer's 60 MiB presence was kept. A presence is at most
// 64 KiB: a larger frame is refused from its header, nothing is kept, and an
// app cannot set one either.
TEST(BoundedCost, APresenceOver64KiBIsNeitherKeptNorSent) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "m"}));
  const std::string big = "\"" + std::string(wire::kMaxPresenceBytes, 'p') + "\"";
  deliver(net, "a", "m", wire::encode(wire::Presence{big}));
  EXPECT_FALSE(pcsim::peerOf(net.kernel("a"), "m")->presence.has_value());
  EXPECT_TRUE(net.outputs<PresenceChanged>("a").empty());
  Result r = net.input("a", [&](NodeKernel& k, Millis now) { return k.setPresence(big, now); });
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("over the limit"), std::string::npos) << r.error;
  const std::string fits = "\"" + std::string(wire::kMaxPresenceBytes - 2, 'p') + "\"";
  EXPECT_TRUE(net.input("a", [&](NodeKernel& k, Millis now) { return k.setPresence(fits, now); }).ok);
  net.runFor(200);
  EXPECT_TRUE(pcsim::peerOf(net.kernel("m"), "a")->presence.has_value());
}
