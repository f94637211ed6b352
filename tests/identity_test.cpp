// Identity on the signaling path: no signal from a different route tears a
// connection down, incarnations and send times are bounded by the clock, a
// "<tag>.<id>.<n>" server id does not speak for <id> while "<tag>.<id>" is
// registered, signals cannot be replayed, and password challenges come from
// the host's randomness (PROTOCOL.md, sections 1 and 1.2).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "signaling/signal_codec.h"
#include "support/peer_view.h"
#include "support/room_nodes.h"
#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

// Finding 11: any client could register "<tag>.b.1", which was read as b; a
// forged announce with the largest incarnation then made a drop its live
// connection to b, and repeating it kept a and b apart.
TEST(Identity, AnImpostorServerIdCannotTearDownOrReplaceALivePeer) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  net.runFor(11'000);  // a has listed the room since
  const uint64_t incarnation = pcsim::peerOf(net.kernel("a"), "b")->incarnation;

  const uint64_t evil = net.rawConnect(0, serverId("b") + ".1", "evil-token");
  const Millis attackEnds = net.now() + 60'000;
  while (net.now() < attackEnds) {
    for (uint64_t inc : {std::numeric_limits<uint64_t>::max() / 2, static_cast<uint64_t>(net.now()) + 1}) {
      Signal restart{SignalType::Announce, "default", "b", "a", "", inc};
      net.rawSend(evil, nlohmann::json{{"type", "OFFER"}, {"dst", serverId("a")}, {"payload", signalText(restart, net.now())}}.dump());
    }
    Signal leave{SignalType::Leave, "default", "b", "", "", incarnation};
    net.rawSend(evil, nlohmann::json{{"type", "LEAVE"}, {"dst", serverId("a")}, {"payload", signalText(leave, net.now())}}.dump());
    net.runFor(5000);
  }
  EXPECT_TRUE(net.meshAmong({"a", "b"})) << "a kept b for the whole minute";
  EXPECT_TRUE(net.outputs<PeerDisconnected>("a").empty());
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->incarnation, incarnation);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->serverId, serverId("b"));
  EXPECT_GT(net.kernel("a").counters().shadowedSignals, 0u) << "b.1 was refused as long as b is registered";
}

// An incarnation is a start time: one far ahead of the clock is refused,
// and so is a signal whose send time is far from ours (a replay, or a clock
// that is wrong).
TEST(Identity, IncarnationsAndSendTimesAreBoundedByTheClock) {
  SimulatedNetwork net;
  net.addNode("a");
  net.start("a");
  net.runFor(5 * 60'000);
  auto feed = [&](Signal s, Millis sentAt) {
    net.input("a", [&](NodeKernel& k, Millis now) { k.handleRouteMessage(pcsim::kBroadcastRoute, signalText(s, sentAt), now); });
  };
  const uint64_t now = static_cast<uint64_t>(net.now());
  uint64_t rejected = net.kernel("a").counters().rejectedSignals;
  feed(Signal{SignalType::Announce, "default", "future", "", "", now + 10 * 60'000}, net.now());
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, ++rejected);
  feed(Signal{SignalType::Announce, "default", "old", "", "", 1}, net.now() - 2 * 60'000);
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, ++rejected);
  feed(Signal{SignalType::Announce, "default", "ahead", "", "", 1}, net.now() + 2 * 60'000);
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, ++rejected);
  for (const char* id : {"future", "old", "ahead"}) EXPECT_EQ(pcsim::peerOf(net.kernel("a"), id), std::nullopt) << id;
  // Within the drift all is well.
  feed(Signal{SignalType::Announce, "default", "fine", "", "", now + 30'000}, net.now() - 30'000);
  EXPECT_NE(pcsim::peerOf(net.kernel("a"), "fine"), std::nullopt);
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, rejected);
}

// Finding 14: sealed signals had no replay protection. Whoever saw one (the
// server, or a client under the room's tag) could hand it back later.
TEST(Identity, SealedSignalsCannotBeReplayed) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, sealedViaServer(net, id), withPassword("pw", id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  // What the server handed a from b, sealed: b's announces and its offer.
  std::vector<std::string> seen;
  for (const auto& [at, text] : net.serverMessages("a"))
    if (text.find("\"src\":\"" + serverId("b") + "\"") != std::string::npos) seen.push_back(text);
  ASSERT_FALSE(seen.empty());

  net.stop("b");
  ASSERT_TRUE(net.runUntil([&] { return pcsim::peerOf(net.kernel("a"), "b") == std::nullopt; }, net.now() + 10'000));
  const size_t opened = net.outputs<OpenConnection>("a").size();
  const uint64_t rejectedBefore = net.kernel("a").counters().rejectedSignals;
  // At once: each was seen before, and is dropped.
  for (const std::string& text : seen) ASSERT_TRUE(net.injectServerMessage("a", text));
  net.runFor(5000);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b"), std::nullopt) << "no replayed announce brought b back";
  EXPECT_EQ(net.outputs<OpenConnection>("a").size(), opened);
  // Later than the drift: refused as stale (and counted).
  net.runFor(70'000);
  for (const std::string& text : seen) ASSERT_TRUE(net.injectServerMessage("a", text));
  net.runFor(5000);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b"), std::nullopt);
  EXPECT_EQ(net.outputs<OpenConnection>("a").size(), opened);
  EXPECT_GE(net.kernel("a").counters().rejectedSignals, rejectedBefore + seen.size());
}

// Finding 12: challenges came from the kernel's own generator, which is
// seeded by the host and invertible: one challenge seen predicted the rest.
// Now they are the host's CSPRNG bytes: nodes given the same seed (and even
// the same replica id) challenge differently, and no challenge repeats.
TEST(Identity, PasswordChallengesComeFromTheHostsRandomness) {
  std::vector<std::string> challenges;
  for (uint64_t entropy : {1, 2}) {
    SimulatedNetwork net(NetworkOptions{entropy});
    NodeConfig config = sealedNode("a");
    config.seed = 42;
    config.replicaId = 7;
    net.addNode("a", config, withPassword("pw"));
    NodeConfig other = sealedNode("b");
    other.seed = 42;
    other.replicaId = 8;
    net.addNode("b", other, withPassword("pw"));
    net.onFrameSent = [&](const std::string& from, const std::string&, const std::vector<uint8_t>& bytes) {
      wire::Decoded d = wire::decode(bytes);
      if (d.frame)
        if (auto* hello = std::get_if<wire::Hello>(&*d.frame)) challenges.push_back(from + ":" + hello->challenge);
    };
    net.start("a");
    net.start("b");
    ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
    // Reconnect a few times: each handshake has a fresh challenge.
    for (int i = 0; i < 3; ++i) {
      net.breakConnection("a", "b");
      net.runFor(100);
      ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, net.now() + 30'000));
    }
  }
  ASSERT_GE(challenges.size(), 16u);
  std::set<std::string> distinct;
  for (const std::string& c : challenges) distinct.insert(c.substr(c.find(':') + 1));
  EXPECT_EQ(distinct.size(), challenges.size()) << "every challenge differs, across runs with one seed";
}
