// A kernel fed malformed bytes or signals counts them, applies nothing of
// them, and carries on.
#include <gtest/gtest.h>

#include "support/simulated_network.h"
#include "rules/app_rules.h"
#include "support/peer_view.h"
#include "wire/byte_codec.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

std::vector<uint8_t> bytesOf(const std::string& s) { return {s.begin(), s.end()}; }

Write write(std::string key, std::optional<std::string> value, uint64_t seq) {
  return Write{std::move(key), std::move(value), Stamp{1, 0, 1}, seq};
}

// Fragments of `inner`, which fits one message but is split anyway.
std::vector<std::vector<uint8_t>> splitInTwo(const std::vector<uint8_t>& inner, uint64_t id) {
  return wire::fragment(inner, id, (inner.size() + 1) / 2);
}

struct Bad {
  std::string what;
  std::vector<std::vector<uint8_t>> messages;  // delivered in order; together one rejection
};

std::vector<Bad> malformedFrames() {
  std::vector<Bad> out;
  auto one = [&](std::string what, std::vector<uint8_t> bytes) { out.push_back({std::move(what), {std::move(bytes)}}); };
  Rng rng(11);
  std::vector<uint8_t> noise(16);
  for (auto& b : noise) b = static_cast<uint8_t>(rng.next());

  const std::vector<uint8_t> update = wire::encode(wire::Update{{write("evil", "\"applied?\"", 1)}});
  one("random bytes", noise);
  one("empty message", {});
  one("text", bytesOf("{\"hello\":\"world\"}"));
  one("truncated update", std::vector<uint8_t>(update.begin(), update.end() - 1));
  std::vector<uint8_t> badMagic = update;
  badMagic[0] ^= 0xff;
  one("bad magic", badMagic);
  std::vector<uint8_t> badVersion = update;
  badVersion[1] = wire::kVersion + 1;
  one("bad version", badVersion);
  std::vector<uint8_t> trailing = update;
  trailing.push_back(0);
  one("trailing byte", trailing);
  one("valid write then invalid JSON, in one transaction",
      wire::encode(wire::Update{{write("evil", "1", 1), write("evil2", "{not json", 2)}}));
  one("invalid UTF-8 key", wire::encode(wire::Update{{write("evil\xff", "1", 1)}}));
  {
    wire::ByteWriter w;
    w.varuint(UINT64_MAX);  // forged count of writes
    w.bytes("evil");
    one("forged write count", [&] {
      wire::ByteWriter f;
      f.u8(wire::kMagic);
      f.u8(wire::kVersion);
      f.u8(static_cast<uint8_t>(wire::FrameType::Update));
      f.varuint(w.size());
      f.raw(w.buffer().data(), w.size());
      return f.take();
    }());
  }
  one("a second Hello", wire::encode(wire::Hello{"a", 1, "default", ""}));
  one("a fragment out of sequence", wire::encode(wire::Fragment{42, 1, 3, "xyz"}));
  out.push_back({"fragments of a fragment", splitInTwo(wire::encode(wire::Fragment{1, 0, 2, "nested"}), 500)});
  out.push_back({"fragments of garbage", splitInTwo(std::vector<uint8_t>(100, 0xC5), 501)});
  out.push_back({"fragments of a truncated update",
                 splitInTwo(std::vector<uint8_t>(update.begin(), update.end() - 2), 502)});
  return out;
}

}  // namespace

TEST(Robustness, MalformedFramesAreCountedNotAppliedAndTheNodeKeepsWorking) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  ASSERT_TRUE(net.write("a", "base", "1").ok);
  net.runFor(500);
  ASSERT_TRUE(net.kernel("b").state().has("base"));
  const auto stateBefore = contents(net.kernel("b").state());

  for (const Bad& bad : malformedFrames()) {
    SCOPED_TRACE(bad.what);
    const NodeKernel& b = net.kernel("b");
    const uint64_t counted = b.counters().rejectedFrames;
    const uint64_t perPeer = pcsim::peerOf(b, "a")->stats.rejected;
    const size_t events = net.log("b").size();
    for (const auto& message : bad.messages)
      net.input("b", [&](NodeKernel& k, Millis now) { k.handleData("a", message.data(), message.size(), now); });
    EXPECT_EQ(b.counters().rejectedFrames, counted + 1);
    ASSERT_NE(pcsim::peerOf(b, "a"), std::nullopt) << "a bad frame does not cost the connection";
    EXPECT_EQ(pcsim::peerOf(b, "a")->stats.rejected, perPeer + 1);
    EXPECT_EQ(pcsim::peerOf(b, "a")->state, PeerState::Connected);
    EXPECT_NE(b.counters().lastRejection.find("a"), std::string::npos) << b.counters().lastRejection;
    EXPECT_EQ(net.log("b").size(), events) << "no output at all: no StateChanged, no reply, no close";
    EXPECT_EQ(contents(b.state()), stateBefore) << "nothing of it applied";
  }
  EXPECT_FALSE(net.kernel("b").state().has("evil"));

  // The node still works, both ways.
  ASSERT_TRUE(net.write("a", "after", "2").ok);
  ASSERT_TRUE(net.write("b", "from-b", "3").ok);
  net.runFor(500);
  EXPECT_TRUE(net.kernel("b").state().has("after"));
  EXPECT_TRUE(net.kernel("a").state().has("from-b"));
  EXPECT_TRUE(net.outputs<PeerDisconnected>("a").empty());
  EXPECT_TRUE(net.outputs<PeerDisconnected>("b").empty());
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u);
}

TEST(Robustness, DataFromStrangersIsCounted) {
  SimulatedNetwork net;
  net.addNode("a");
  net.start("a");
  const std::vector<uint8_t> update = wire::encode(wire::Update{{write("evil", "1", 1)}});
  net.input("a", [&](NodeKernel& k, Millis now) { k.handleData("stranger", update.data(), update.size(), now); });
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 1u);
  EXPECT_FALSE(net.kernel("a").state().has("evil"));
  EXPECT_EQ(net.kernel("a").knownPeerCount(), 0u);
  EXPECT_EQ(net.log("a").size(), 2u) << "only the start's: the BroadcastChannel opened, and the announce";
  EXPECT_TRUE(std::holds_alternative<RouteOpen>(net.log("a")[0].output));
  EXPECT_TRUE(std::holds_alternative<RouteSend>(net.log("a")[1].output));
}

TEST(Robustness, MalformedSignalsAreCounted) {
  SimulatedNetwork net;
  net.addNode("a");
  net.addNode("b");
  net.start("a");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"empty", ""},
      {"not JSON", "hello"},
      {"invalid UTF-8", "\xff\xfe"},
      {"an array", "[]"},
      {"a number", "42"},
      {"empty object", "{}"},
      {"version 2", R"({"v":2,"t":"announce","room":"default","from":"x"})"},
      {"version as text", R"({"v":"1","t":"announce","room":"default","from":"x"})"},
      {"no type", R"({"v":1,"room":"default","from":"x"})"},
      {"unknown type", R"({"v":1,"t":"shout","room":"default","from":"x"})"},
      {"no room", R"({"v":1,"t":"announce","from":"x"})"},
      {"room a number", R"({"v":1,"t":"announce","room":5,"from":"x"})"},
      {"no sender", R"({"v":1,"t":"announce","room":"default"})"},
      {"bad sender id", R"({"v":1,"t":"announce","room":"default","from":"x y"})"},
      {"bad recipient id", R"({"v":1,"t":"announce","room":"default","from":"x","to":"a/b"})"},
      {"rtc without data", R"({"v":1,"t":"rtc","room":"default","from":"x","to":"a"})"},
      {"rtc data not an object", R"({"v":1,"t":"rtc","room":"default","from":"x","to":"a","data":"sdp"})"},
      {"rtc without recipient", R"({"v":1,"t":"rtc","room":"default","from":"x","data":{}})"},
      {"too large", R"({"v":1,"t":"announce","room":"default","from":"x","pad":")" + std::string(70000, 'p') + "\"}"},
  };
  for (const auto& [what, text] : bad) {
    SCOPED_TRACE(what);
    const uint64_t before = net.kernel("a").counters().rejectedSignals;
    const size_t events = net.log("a").size();
    net.input("a", [&](NodeKernel& k, Millis now) { k.handleRouteMessage(pcsim::kBroadcastRoute, text, now); });
    EXPECT_EQ(net.kernel("a").counters().rejectedSignals, before + 1);
    EXPECT_FALSE(net.kernel("a").counters().lastRejection.empty());
    EXPECT_EQ(net.log("a").size(), events);
    EXPECT_EQ(net.kernel("a").knownPeerCount(), 0u);
  }

  // Well-formed signals that are simply not for this node are no error.
  const uint64_t before = net.kernel("a").counters().rejectedSignals;
  for (const Signal& s : {
           Signal{SignalType::Announce, "elsewhere", "x", "", "", 1},
           Signal{SignalType::Announce, "default", "x", "someone-else", "", 1},
           Signal{SignalType::Announce, "default", "a", "", "", 1},
       })
    net.input("a", [&](NodeKernel& k, Millis now) { k.handleRouteMessage(pcsim::kBroadcastRoute, signalText(s, now), now); });
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, before);
  EXPECT_EQ(net.kernel("a").knownPeerCount(), 0u);
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u);

  // The node still finds peers.
  net.start("b");
  EXPECT_TRUE(net.runUntil([&] { return net.fullMesh(); }, net.now() + 5000));
}

TEST(Robustness, BadApplicationWritesAreRefused) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  const size_t sent = net.outputs<SendData>("a").size();
  EXPECT_FALSE(net.write("a", "", "1").ok);
  EXPECT_FALSE(net.write("a", "k\xff", "1").ok);
  EXPECT_FALSE(net.write("a", std::string(pc::rules::kMaxKeyBytes + 1, 'k'), "1").ok);
  EXPECT_FALSE(net.write("a", "k", "{not json").ok);
  EXPECT_FALSE(net.write("a", "k", "").ok);
  EXPECT_FALSE(net.commit("a", {{"fine", "1"}, {"k", "nope"}}).ok) << "one bad op refuses the whole batch";
  EXPECT_EQ(net.kernel("a").counters().rejectedWrites, 6u);
  EXPECT_EQ(net.kernel("a").state().size(), 0u);
  EXPECT_EQ(net.outputs<SendData>("a").size(), sent) << "nothing was sent";
  EXPECT_TRUE(net.outputs<StateChanged>("a").empty());
  EXPECT_TRUE(net.write("a", std::string(pc::rules::kMaxKeyBytes, 'k'), "1").ok);
}
