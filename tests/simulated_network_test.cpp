// The harness itself: the fake negotiation connects two nodes, and a seed
// fixes the whole run.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "support/simulated_network.h"

using namespace pcsim;

namespace {

std::string trace(const SimulatedNetwork& net) {
  std::ostringstream out;
  for (const std::string& id : net.ids()) {
    for (const Logged& l : net.log(id)) {
      out << id << '@' << l.at << ':' << l.output.index();
      if (const auto* s = std::get_if<pc::RouteSend>(&l.output)) out << ' ' << s->route << ' ' << s->to << ' ' << s->text;
      if (const auto* d = std::get_if<pc::SendData>(&l.output)) out << ' ' << d->peerId << ' ' << d->bytes.size();
      out << '\n';
    }
  }
  return out.str();
}

std::string runScenario(uint64_t seed) {
  NetworkOptions o;
  o.seed = seed;
  o.signalDelayMin = 1;
  o.signalDelayMax = 80;
  o.dataDelayMin = 1;
  o.dataDelayMax = 120;
  SimulatedNetwork net(o);
  for (const char* id : {"n1", "n2", "n3", "n4"}) {
    net.addNode(id);
    net.start(id);
  }
  net.runFor(1500);
  for (int i = 0; i < 20; ++i) {
    net.write(i % 2 ? "n1" : "n3", "k" + std::to_string(i), std::to_string(i));
    net.runFor(37);
  }
  net.runFor(3000);
  return trace(net);
}

}  // namespace

TEST(SimulatedNetwork, FakeNegotiationOpensOneChannel) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));

  EXPECT_TRUE(net.channelOpen("a", "b"));
  EXPECT_EQ(net.openConnections(), 1u);
  // The host saw the whole negotiation: an offer delivered to the responder,
  // an answer delivered to the initiator.
  auto aOpens = net.outputs<pc::OpenConnection>("a");
  auto bOpens = net.outputs<pc::OpenConnection>("b");
  ASSERT_EQ(aOpens.size(), 1u);
  ASSERT_EQ(bOpens.size(), 1u);
  EXPECT_TRUE(aOpens[0].second.initiator);
  EXPECT_FALSE(bOpens[0].second.initiator);
  auto toA = net.outputs<pc::DeliverRtcSignal>("a");
  auto toB = net.outputs<pc::DeliverRtcSignal>("b");
  ASSERT_EQ(toA.size(), 1u);
  ASSERT_EQ(toB.size(), 1u);
  EXPECT_NE(toA[0].second.data.find("answer"), std::string::npos);
  EXPECT_NE(toB[0].second.data.find("offer"), std::string::npos);
  EXPECT_GT(net.framesDelivered(), 0u);
  EXPECT_EQ(net.oversizeFrames(), 0u);
}

TEST(SimulatedNetwork, SameSeedSameRun) {
  std::string first = runScenario(42);
  EXPECT_EQ(first, runScenario(42));
  EXPECT_NE(first, runScenario(43));
}

TEST(SimulatedNetwork, CloseConnectionClosesTheFarEnd) {
  NetworkOptions o;
  o.signalDelayMin = o.signalDelayMax = 200;  // b's Leave arrives well after its close
  o.closeDelay = 10;
  SimulatedNetwork net(o);
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  net.stop("b");  // b's kernel outputs CloseConnection for a
  net.runFor(100);
  EXPECT_FALSE(net.channelOpen("a", "b"));
  EXPECT_EQ(net.openConnections(), 0u);
  EXPECT_EQ(net.kernel("a").connectedPeerCount(), 0u);
  auto gone = net.outputs<pc::PeerDisconnected>("a");
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].second.reason, "channel closed");
}

TEST(SimulatedNetwork, UnorderedLinksReorderAndDuplicateButKeepHelloFirst) {
  NetworkOptions o;
  o.seed = 9;
  o.dataDelayMin = 1;
  o.dataDelayMax = 200;
  o.orderedData = false;
  o.duplicateData = 0.5;
  SimulatedNetwork net(o);
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(net.input("a", [&](pc::NodeKernel& k, Millis now) { return k.sendToPeer("b", std::to_string(i), now); }).ok);
    net.runFor(2);
  }
  net.runFor(1000);
  std::vector<int> received;
  for (const auto& [at, m] : net.outputs<pc::MessageReceived>("b")) received.push_back(std::stoi(m.payload));
  EXPECT_GT(received.size(), 50u) << "some messages arrive twice";
  EXPECT_FALSE(std::is_sorted(received.begin(), received.end())) << "some messages overtake others";
  std::set<int> distinct(received.begin(), received.end());
  EXPECT_EQ(distinct.size(), 50u) << "none is lost";
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u);
  EXPECT_EQ(net.kernel("b").counters().rejectedFrames, 0u) << "the Hello still arrives first";
}
