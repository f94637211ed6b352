// Nodes that stop and start again while others write: once the churn ends,
// the mesh heals and every replica holds the same state.
#include <gtest/gtest.h>

#include "support/simulated_network.h"

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
