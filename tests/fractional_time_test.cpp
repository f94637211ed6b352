// Time is a double, with fractions (jittered backoffs make them, and hosts
// pass them). Where a deadline b + c crosses a power of two, (b + c) - b
// need not be c. Whatever the deadlines, handleTimeout(pollTimeout()) must
// move pollTimeout() on; the simulator throws if it does not.
#include <gtest/gtest.h>

#include "support/simulated_network.h"

using namespace pc;
using namespace pcsim;

TEST(FractionalTime, EveryDeadlineAdvancesWithFractionalTimes) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    NetworkOptions o;
    o.seed = seed;
    // A clock from zero (performance.now()): deadlines cross many powers of two.
    o.startTime = 0.123 * static_cast<double>(seed);
    o.signalDelayMin = 1;
    o.signalDelayMax = 30;
    o.dataDelayMin = 1;
    o.dataDelayMax = 30;
    SimulatedNetwork net(o);
    net.addServer();
    const std::vector<std::string> ids = {"a", "b", "c"};
    for (const auto& id : ids) {
      NodeConfig c;
      c.nodeId = id;
      c.seed = seed;
      c.sealed = true;
      c.roomTag = "5eed";
      c.peerServer = net.serverConfig(0, "token-" + id);
      NodeSetup s;
      s.browser = id;
      s.password = "pw";
      net.addNode(id, c, s);
      net.start(id);
    }
    // Connections fail and are redialled after jittered (fractional)
    // delays; the server goes and comes back, so the link backs off too.
    try {
      ASSERT_TRUE(net.runUntil([&] { return net.meshAmong(ids); }, net.now() + 10'000)) << "seed " << seed;
      for (int round = 0; round < 6; ++round) {
        net.breakConnection("a", "b");
        net.breakConnection("b", "c");
        net.runFor(3000 + 17.3 * round);
        ASSERT_TRUE(net.write(ids[round % 3], "k" + std::to_string(round), std::to_string(round)).ok);
        net.runUntil([&] { return net.meshAmong(ids); }, net.now() + 30'000);
      }
      net.killServer(0);
      net.runFor(25'000.7);
      net.restartServer(0);
      net.runFor(60'000);
    } catch (const std::exception& e) {
      FAIL() << "seed " << seed << ": " << e.what();
    }
    EXPECT_TRUE(net.meshAmong(ids)) << "seed " << seed;
    for (const auto& id : ids) {
      EXPECT_EQ(net.kernel(id).state().size(), 6u) << "seed " << seed << ", " << id;
      EXPECT_TRUE(net.kernel(id).serverLink().registered()) << "seed " << seed << ", " << id;
    }
  }
}
