// Presence: each node's ephemeral state reaches its connected peers, reaches
// newcomers on connect, and disappears when the node leaves or goes silent,
// but not while a throttled tab still answers pings.
#include <gtest/gtest.h>

#include <map>

#include "support/simulated_network.h"

using namespace pc;
using namespace pcsim;

namespace {

// What node `id` believes about everyone's presence, from its outputs.
struct PresenceView {
  std::map<std::string, std::map<std::string, std::string>> seen;  // observer -> peer -> json
  void attach(SimulatedNetwork& net) {
    net.onOutput = [this](const std::string& node, const Output& o) {
      if (auto* p = std::get_if<PresenceChanged>(&o)) {
        if (p->json) seen[node][p->peerId] = *p->json;
        else seen[node].erase(p->peerId);
      }
    };
  }
};

}  // namespace

TEST(Presence, ReachesPeersAndNewcomersAndGoesWithTheNode) {
  SimulatedNetwork net(NetworkOptions{});
  PresenceView view;
  view.attach(net);
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  ASSERT_TRUE(net.input("a", [](NodeKernel& k, Millis t) { return k.setPresence(R"({"cursor":1})", t); }).ok);
  net.runFor(200);
  EXPECT_EQ(view.seen["b"]["a"], R"({"cursor":1})");

  net.addNode("c");
  net.start("c");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, 5000));
  net.runFor(200);
  EXPECT_EQ(view.seen["c"]["a"], R"({"cursor":1})") << "a newcomer gets it on connect";

  ASSERT_TRUE(net.input("a", [](NodeKernel& k, Millis t) { return k.setPresence("null", t); }).ok);
  net.runFor(200);
  EXPECT_EQ(view.seen["b"].count("a"), 0u) << "cleared";

  ASSERT_TRUE(net.input("b", [](NodeKernel& k, Millis t) { return k.setPresence(R"("here")", t); }).ok);
  net.runFor(200);
  ASSERT_EQ(view.seen["c"]["b"], R"("here")");
  net.crash("b", CrashMode::Silent);
  net.runFor(5000 + 1000 + 200);  // peer timeout plus a ping interval
  EXPECT_EQ(view.seen["c"].count("b"), 0u) << "gone within the liveness timeout";
  EXPECT_EQ(view.seen["a"].count("b"), 0u);
}

TEST(Presence, AThrottledTabThatAnswersPingsKeepsItsPresence) {
  SimulatedNetwork net(NetworkOptions{});
  PresenceView view;
  view.attach(net);
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  ASSERT_TRUE(net.input("b", [](NodeKernel& k, Millis t) { return k.setPresence(R"({"tab":"hidden"})", t); }).ok);
  net.throttleTimers("b", 60'000);
  net.runFor(5 * 60'000);
  EXPECT_EQ(view.seen["a"]["b"], R"({"tab":"hidden"})");
}
