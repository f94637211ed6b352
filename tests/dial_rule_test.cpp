// The dial rule: of two nodes, only the one with the smaller id dials, so
// nodes that discover each other at the same moment make one connection, and
// N nodes make exactly N*(N-1)/2.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/simulated_network.h"
#include "support/peer_view.h"

using namespace pc;
using namespace pcsim;

namespace {

size_t initiatorOpens(const SimulatedNetwork& net, const std::string& id) {
  size_t n = 0;
  for (const auto& [at, open] : net.outputs<pc::OpenConnection>(id)) n += open.initiator;
  return n;
}

size_t allOpens(const SimulatedNetwork& net, bool initiator) {
  size_t n = 0;
  for (const std::string& id : net.ids())
    for (const auto& [at, open] : net.outputs<pc::OpenConnection>(id)) n += open.initiator == initiator;
  return n;
}

}  // namespace

TEST(DialRule, SimultaneousDiscoveryMakesOneConnection) {
  // Both nodes announce at t=0 and, with equal signal delays, each hears the
  // other's announce at the same instant, before either has heard a reply.
  SimulatedNetwork net;
  net.addNode("bob");
  net.addNode("alice");
  net.start("bob");
  net.start("alice");
  net.runFor(5);  // the announces are delivered at t=5
  EXPECT_EQ(net.kernel("alice").knownPeerCount(), 1u);
  EXPECT_EQ(net.kernel("bob").knownPeerCount(), 1u);
  net.runFor(5000);

  EXPECT_EQ(allOpens(net, true), 1u) << "exactly one side dials";
  EXPECT_EQ(initiatorOpens(net, "alice"), 1u) << "the smaller id dials";
  EXPECT_EQ(initiatorOpens(net, "bob"), 0u);
  EXPECT_EQ(allOpens(net, false), 1u);
  EXPECT_EQ(net.openConnections(), 1u);
  for (const auto& [self, other] : {std::pair{"alice", "bob"}, std::pair{"bob", "alice"}}) {
    SCOPED_TRACE(self);
    const std::optional<pcsim::PeerView> p = pcsim::peerOf(net.kernel(self), other);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state, pc::PeerState::Connected);
    EXPECT_EQ(net.kernel(self).connectedPeerCount(), 1u);
    auto connected = net.outputs<pc::PeerConnected>(self);
    ASSERT_EQ(connected.size(), 1u);
    EXPECT_EQ(connected[0].second.peerId, other);
    EXPECT_TRUE(net.outputs<pc::PeerDisconnected>(self).empty());
  }
  EXPECT_TRUE(pcsim::peerOf(net.kernel("alice"), "bob")->initiator);
  EXPECT_FALSE(pcsim::peerOf(net.kernel("bob"), "alice")->initiator);
}

TEST(DialRule, OneConnectionWhateverTheSignalTiming) {
  // Random signal delays shuffle which announce, reply and offer lands first.
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 0;
    o.signalDelayMax = 60;
    SimulatedNetwork net(o);
    Rng rng(seed);
    const std::string a = "x" + std::to_string(rng.below(100000));
    const std::string b = "x" + std::to_string(rng.below(100000)) + "b";  // never equal to a
    net.addNode(a);
    net.addNode(b);
    net.start(a);
    net.runFor(rng.between(0, 3));
    net.start(b);
    net.runFor(4000);
    EXPECT_EQ(allOpens(net, true), 1u);
    EXPECT_EQ(initiatorOpens(net, std::min(a, b)), 1u);
    EXPECT_EQ(net.openConnections(), 1u);
    EXPECT_TRUE(net.fullMesh());
    EXPECT_EQ(net.outputs<pc::PeerConnected>(a).size(), 1u);
    EXPECT_EQ(net.outputs<pc::PeerConnected>(b).size(), 1u);
  }
}

TEST(DialRule, SixNodeFullMesh) {
  constexpr size_t kNodes = 6;
  constexpr size_t kConnections = kNodes * (kNodes - 1) / 2;
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 0;
    o.signalDelayMax = 40;
    o.dataDelayMin = 1;
    o.dataDelayMax = 30;
    SimulatedNetwork net(o);
    Rng rng(seed * 7919);
    std::vector<std::string> ids;
    for (size_t i = 0; i < kNodes; ++i) ids.push_back("node-" + std::to_string(rng.below(1'000'000)) + "-" + std::to_string(i));
    for (const auto& id : ids) net.addNode(id);
    for (const auto& id : ids) net.start(id);  // all at t=0
    net.runFor(6000);

    for (const auto& id : ids) {
      SCOPED_TRACE(id);
      EXPECT_EQ(net.kernel(id).connectedPeerCount(), kNodes - 1);
      EXPECT_EQ(net.outputs<pc::PeerConnected>(id).size(), kNodes - 1);
      EXPECT_TRUE(net.outputs<pc::PeerDisconnected>(id).empty());
      // A node dials exactly the peers whose ids sort after its own.
      size_t larger = std::count_if(ids.begin(), ids.end(), [&](const std::string& other) { return other > id; });
      EXPECT_EQ(initiatorOpens(net, id), larger);
    }
    EXPECT_EQ(allOpens(net, true), kConnections);
    EXPECT_EQ(allOpens(net, false), kConnections);
    EXPECT_EQ(net.openConnections(), kConnections);
    EXPECT_TRUE(net.fullMesh());
  }
}

// Signals travel with independent delays, so a peer's Announce can arrive
// after the Leave it sent later. The dial that this stale Announce starts
// must not block the peer's next run: its new incarnation resets the record.
TEST(DialRule, RestartedPeerIsRedialledDespiteAStaleAnnounce) {
  NodeKernel a;
  NodeConfig config;
  config.nodeId = "a";
  config.replicaId = 1;
  addTestEntropy(a);
  ASSERT_TRUE(a.initialize(config, 0).ok);
  ASSERT_TRUE(a.start(0).ok);
  auto send = [&a](SignalType type, uint64_t incarnation, Millis now) {
    Signal s;
    s.type = type;
    s.room = "default";
    s.from = "b";
    s.incarnation = incarnation;
    a.handleRouteMessage(pcsim::kBroadcastRoute, signalText(s, now), now);
  };
  auto drain = [&a] {
    std::vector<Output> out;
    while (auto o = a.pollOutput()) out.push_back(std::move(*o));
    return out;
  };
  auto opens = [](const std::vector<Output>& out) {
    return std::count_if(out.begin(), out.end(), [](const Output& o) {
      auto* open = std::get_if<OpenConnection>(&o);
      return open && open->peerId == "b" && open->initiator;
    });
  };
  auto closes = [](const std::vector<Output>& out) {
    return std::count_if(out.begin(), out.end(), [](const Output& o) { return std::holds_alternative<CloseConnection>(o); });
  };
  drain();

  send(SignalType::Leave, 1, 10);  // b's leave overtook its announce
  send(SignalType::Announce, 1, 20);
  EXPECT_EQ(opens(drain()), 1) << "a dials b, which is no longer there";
  ASSERT_EQ(pcsim::peerOf(a, "b")->state, PeerState::Connecting);

  send(SignalType::Announce, 2, 500);  // b starts again
  std::vector<Output> out = drain();
  EXPECT_EQ(closes(out), 1) << "the dead attempt is closed";
  EXPECT_EQ(opens(out), 1) << "and b is dialled again at once, not after the connect timeout";
  EXPECT_EQ(pcsim::peerOf(a, "b")->incarnation, 2u);

  send(SignalType::Leave, 1, 600);  // a stale leave from b's first run
  EXPECT_EQ(closes(drain()), 0);
  EXPECT_EQ(pcsim::peerOf(a, "b")->state, PeerState::Connecting);
}
