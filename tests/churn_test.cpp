// Nodes that stop and start again while others write: once the churn ends,
// the mesh heals and every replica holds the same state.
#include <gtest/gtest.h>

#include "support/simulated_network.h"
#include "support/peer_view.h"

using namespace pc;
using namespace pcsim;

TEST(Churn, StopStartWhileWritingHealsAndConverges) {
  for (uint64_t seed = 0; seed < 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 0;
    o.signalDelayMax = 80;
    o.dataDelayMin = 1;
    o.dataDelayMax = 60;
    o.closeDelay = 30;
    SimulatedNetwork net(o);
    Rng rng(seed + 77);
    const std::vector<std::string> ids = {"n0", "n1", "n2", "n3"};
    for (const auto& id : ids) {
      net.addNode(id);
      net.start(id);
    }
    for (int step = 0; step < 120; ++step) {
      net.runFor(rng.between(0, 200));
      const std::string& id = ids[rng.below(ids.size())];
      switch (rng.below(6)) {
        case 0:
          if (net.kernel(id).isStarted()) net.stop(id); else net.start(id);
          break;
        case 1:
          ASSERT_TRUE(net.remove(id, "k" + std::to_string(rng.below(20))).ok);
          break;
        default:
          ASSERT_TRUE(net.write(id, "k" + std::to_string(rng.below(20)), std::to_string(step)).ok);
      }
    }
    for (const auto& id : ids)
      if (!net.kernel(id).isStarted()) net.start(id);
    auto settled = [&] {
      if (!net.fullMesh()) return false;
      for (const auto& id : ids)
        if (contents(net.kernel(id).state()) != contents(net.kernel(ids[0]).state())) return false;
      return true;
    };
    // Healing needs at most a periodic announce (2 s) and a connection.
    EXPECT_TRUE(net.runUntil(settled, net.now() + 8000));
    for (const auto& id : ids) {
      EXPECT_EQ(net.kernel(id).connectedPeerCount(), ids.size() - 1) << id;
      EXPECT_EQ(contents(net.kernel(id).state()), contents(net.kernel(ids[0]).state())) << id;
    }
    EXPECT_EQ(net.openConnections(), ids.size() * (ids.size() - 1) / 2);
    if (HasFailure()) break;
  }
}

TEST(Churn, AReloadedPageThatKeepsItsNodeIdReconnectsAtOnce) {
  // An app may give a page a stable node id. When such a page reloads after
  // its old one vanished silently, the peer still holds the old connection
  // (until its liveness timeout); the new page's signals must show it is a
  // new run, so that the peer drops the old connection and takes the new.
  for (const std::string reloaded : {"a", "b"}) {  // the dialer, then the dialed
    SCOPED_TRACE("reloading " + reloaded);
    const std::string other = reloaded == "a" ? "b" : "a";
    SimulatedNetwork net;
    ASSERT_TRUE(net.startMesh({"a", "b"}));
    ASSERT_TRUE(net.write(other, "kept", "1").ok);
    net.runFor(3000);
    net.reload(reloaded, NodeConfig{}, NodeSetup{}, CrashMode::Silent);
    net.runFor(300);  // the new page loads
    const Millis startedAt = net.now();
    net.start(reloaded);
    ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, startedAt + 1000))
        << "reconnected well before the old connection timed out";
    net.runFor(200);
    EXPECT_TRUE(net.kernel(reloaded).state().has("kept"));
    EXPECT_EQ(net.kernel(other).counters().rejectedFrames, 0u) << net.kernel(other).counters().lastRejection;
    EXPECT_EQ(net.kernel(reloaded).counters().rejectedFrames, 0u) << net.kernel(reloaded).counters().lastRejection;
    auto gone = net.outputs<PeerDisconnected>(other);
    ASSERT_EQ(gone.size(), 1u);
    EXPECT_EQ(gone[0].second.reason, "peer restarted");
    EXPECT_GT(pcsim::peerOf(net.kernel(other), reloaded)->incarnation, 1u);
  }
}
