// Lifecycle rules: initialize, then start; stop returns to initialized and
// start may follow again; bad configs are refused; state survives stop.
#include <gtest/gtest.h>

#include "signaling/signal_codec.h"
#include "support/simulated_network.h"

using namespace pc;
using pcsim::addTestEntropy;

namespace {

NodeConfig config(const std::string& id = "alpha", uint64_t replica = 1) {
  NodeConfig c;
  c.nodeId = id;
  c.replicaId = replica;
  return c;
}

std::vector<Output> drain(NodeKernel& k) {
  std::vector<Output> out;
  while (auto o = k.pollOutput()) out.push_back(std::move(*o));
  return out;
}

// The signals among `outputs`, decoded.
std::vector<Signal> signalsIn(const std::vector<Output>& outputs) {
  std::vector<Signal> out;
  for (const Output& o : outputs) {
    const auto* s = std::get_if<RouteSend>(&o);
    if (!s || s->route != "broadcast-channel") continue;
    std::string error;
    std::optional<Signal> decoded = decodeSignal(s->text, &error);
    EXPECT_TRUE(decoded) << error;
    if (decoded) out.push_back(*decoded);
  }
  return out;
}

}  // namespace

TEST(Lifecycle, StartBeforeInitializeFails) {
  NodeKernel k;
  Result r = k.start(0);
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.error.empty());
  EXPECT_EQ(k.lifecycle(), Lifecycle::Created);
  EXPECT_FALSE(k.isStarted());
  EXPECT_FALSE(k.pollOutput().has_value());
  EXPECT_FALSE(k.pollTimeout().has_value());
  // Nor may anything be written before initialize.
  EXPECT_FALSE(k.write("k", "1", 0).ok);
  EXPECT_FALSE(k.commit({{"k", "1"}}, 0).ok);
  EXPECT_EQ(k.state().size(), 0u);
}

TEST(Lifecycle, InitializeStartStopStartAgain) {
  NodeKernel k;
  addTestEntropy(k);
  ASSERT_TRUE(k.initialize(config(), 100).ok);
  EXPECT_EQ(k.lifecycle(), Lifecycle::Initialized);
  EXPECT_TRUE(k.isInitialized());
  EXPECT_FALSE(k.isStarted());
  EXPECT_FALSE(k.pollTimeout().has_value()) << "an unstarted node wants no timers";
  EXPECT_TRUE(drain(k).empty()) << "initialize touches no transport";

  ASSERT_TRUE(k.start(200).ok);
  EXPECT_TRUE(k.isStarted());
  EXPECT_EQ(k.startedAt(), 200);
  ASSERT_TRUE(k.pollTimeout().has_value());
  EXPECT_GT(*k.pollTimeout(), 200);
  std::vector<Signal> sent = signalsIn(drain(k));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, SignalType::Announce);
  EXPECT_EQ(sent[0].from, "alpha");
  EXPECT_TRUE(sent[0].to.empty()) << "start announces to everyone";

  EXPECT_TRUE(k.start(250).ok) << "start while started is a no-op";
  EXPECT_TRUE(drain(k).empty());
  EXPECT_EQ(k.startedAt(), 200);

  ASSERT_TRUE(k.stop(300).ok);
  EXPECT_EQ(k.lifecycle(), Lifecycle::Initialized);
  EXPECT_FALSE(k.isStarted());
  EXPECT_FALSE(k.pollTimeout().has_value());
  sent = signalsIn(drain(k));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, SignalType::Leave);

  ASSERT_TRUE(k.start(400).ok);
  EXPECT_TRUE(k.isStarted());
  EXPECT_EQ(k.startedAt(), 400);
  sent = signalsIn(drain(k));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, SignalType::Announce);
  // Timers run again after the restart.
  ASSERT_TRUE(k.pollTimeout().has_value());
  k.handleTimeout(*k.pollTimeout());
  sent = signalsIn(drain(k));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].type, SignalType::Announce);
}

TEST(Lifecycle, DoubleInitializeFails) {
  NodeKernel k;
  addTestEntropy(k);
  ASSERT_TRUE(k.initialize(config("alpha", 1), 0).ok);
  addTestEntropy(k);
  Result again = k.initialize(config("beta", 2), 0);
  EXPECT_FALSE(again.ok);
  EXPECT_FALSE(again.error.empty());
  EXPECT_EQ(k.config().nodeId, "alpha") << "a refused initialize leaves the config alone";
  EXPECT_EQ(k.config().replicaId, 1u);

  ASSERT_TRUE(k.start(0).ok);
  addTestEntropy(k);
  EXPECT_FALSE(k.initialize(config("beta", 2), 0).ok) << "nor may a started node be initialized";
  EXPECT_TRUE(k.isStarted());
  ASSERT_TRUE(k.stop(0).ok);
  addTestEntropy(k);
  EXPECT_FALSE(k.initialize(config("beta", 2), 0).ok) << "nor a stopped one";
  EXPECT_EQ(k.config().nodeId, "alpha");
}

TEST(Lifecycle, StopWhenNotStartedIsHarmless) {
  NodeKernel created;
  EXPECT_TRUE(created.stop(0).ok);
  EXPECT_EQ(created.lifecycle(), Lifecycle::Created);
  EXPECT_TRUE(drain(created).empty());

  NodeKernel k;
  addTestEntropy(k);
  ASSERT_TRUE(k.initialize(config(), 0).ok);
  EXPECT_TRUE(k.stop(0).ok);
  EXPECT_TRUE(k.stop(1).ok);
  EXPECT_EQ(k.lifecycle(), Lifecycle::Initialized);
  EXPECT_TRUE(drain(k).empty()) << "stopping an unstarted node must not send Leave";
  ASSERT_TRUE(k.start(2).ok);
  EXPECT_TRUE(k.isStarted());
  ASSERT_TRUE(k.stop(3).ok);
  drain(k);
  EXPECT_TRUE(k.stop(4).ok);
  EXPECT_TRUE(drain(k).empty()) << "a second stop sends nothing";
}

TEST(Lifecycle, InvalidConfigRejected) {
  struct Case {
    const char* what;
    NodeConfig config;
  };
  std::vector<Case> cases;
  auto add = [&](const char* what, auto change) {
    NodeConfig c = config();
    change(c);
    cases.push_back({what, c});
  };
  add("empty nodeId", [](NodeConfig& c) { c.nodeId = ""; });
  add("nodeId with a space", [](NodeConfig& c) { c.nodeId = "a b"; });
  add("nodeId with a slash", [](NodeConfig& c) { c.nodeId = "a/b"; });
  add("nodeId with a dot", [](NodeConfig& c) { c.nodeId = "a.b"; });
  add("nodeId not ASCII", [](NodeConfig& c) { c.nodeId = "n\xc3\xa9"; });
  add("nodeId of 65 characters", [](NodeConfig& c) { c.nodeId = std::string(65, 'x'); });
  add("replicaId 0", [](NodeConfig& c) { c.replicaId = 0; });
  add("replicaId 2^53", [](NodeConfig& c) { c.replicaId = uint64_t{1} << 53; });
  add("topology star", [](NodeConfig& c) { c.topology = "star"; });
  add("topology empty", [](NodeConfig& c) { c.topology = ""; });
  add("topology Mesh", [](NodeConfig& c) { c.topology = "Mesh"; });
  add("empty room", [](NodeConfig& c) { c.roomId = ""; });
  add("zero ping interval", [](NodeConfig& c) { c.pingIntervalMs = 0; });
  add("peer timeout not above ping", [](NodeConfig& c) { c.peerTimeoutMs = c.pingIntervalMs; });
  add("tiny channel messages", [](NodeConfig& c) { c.maxChannelMessageBytes = 100; });

  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    NodeKernel k;
    addTestEntropy(k);
    Result r = k.initialize(c.config, 0);
    EXPECT_FALSE(r.ok);
    EXPECT_FALSE(r.error.empty());
    EXPECT_FALSE(k.isInitialized());
    EXPECT_FALSE(k.start(0).ok);
    EXPECT_FALSE(k.pollOutput().has_value());
  }

  // The edges of the valid ranges are accepted.
  NodeKernel longest;
  addTestEntropy(longest);
  EXPECT_TRUE(longest.initialize(config(std::string(64, 'x'), (uint64_t{1} << 53) - 1), 0).ok);
  NodeKernel punctuated;
  addTestEntropy(punctuated);
  EXPECT_TRUE(punctuated.initialize(config("A-z_09", 7), 0).ok);

  // The JSON route the bindings use refuses the same things.
  std::string error;
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"a b","replicaId":1})", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":0})", &error));
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":1,"topology":"star"})", &error));
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":-1})", &error));
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":7,"replicaId":1})", &error));
  EXPECT_FALSE(NodeConfig::fromJson("[]", &error));
  EXPECT_FALSE(NodeConfig::fromJson("{", &error));
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":1,"unitsQueuedPerWorker":5})", &error));
  EXPECT_EQ(error, "unitsQueuedPerWorker must be an integer in 0..4");
  // An integer option is not truncated: 1.5 workers is refused, as the JS API refuses it.
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":1,"computeWorkers":1.5})", &error));
  EXPECT_EQ(error, "computeWorkers must be an integer");
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":1,"computeWorkers":1e10})", &error));
  EXPECT_EQ(error, "computeWorkers is too large");
  EXPECT_FALSE(NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":1,"replicaId":1.5})", &error));
  std::optional<NodeConfig> ok =
      NodeConfig::fromJson(R"({"nodeId":"ok","replicaId":5,"topology":"mesh","unitsQueuedPerWorker":1})", &error);
  ASSERT_TRUE(ok) << error;
  EXPECT_EQ(ok->nodeId, "ok");
  EXPECT_EQ(ok->replicaId, 5u);
  EXPECT_EQ(ok->unitsQueuedPerWorker, 1u);
}

TEST(Lifecycle, StateSurvivesStop) {
  NodeKernel k;
  addTestEntropy(k);
  ASSERT_TRUE(k.initialize(config(), 0).ok);
  ASSERT_TRUE(k.write("before-start", "1", 1).ok) << "an initialized node takes writes";
  ASSERT_TRUE(k.start(2).ok);
  ASSERT_TRUE(k.write("while-started", "{\"n\":2}", 3).ok);
  ASSERT_TRUE(k.stop(4).ok);
  ASSERT_TRUE(k.write("while-stopped", "[3]", 5).ok);
  ASSERT_TRUE(k.start(6).ok);
  ASSERT_TRUE(k.stop(7).ok);
  ASSERT_TRUE(k.start(8).ok);

  EXPECT_EQ(k.state().size(), 3u);
  ASSERT_NE(k.state().get("before-start"), nullptr);
  EXPECT_EQ(*k.state().get("before-start"), "1");
  ASSERT_NE(k.state().get("while-started"), nullptr);
  EXPECT_EQ(*k.state().get("while-started"), "{\"n\":2}");
  ASSERT_NE(k.state().get("while-stopped"), nullptr);
  EXPECT_EQ(*k.state().get("while-stopped"), "[3]");
}

TEST(Lifecycle, RestartedNodeSharesStateWrittenWhileStopped) {
  pcsim::SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  ASSERT_TRUE(net.write("a", "x", "1").ok);
  net.runFor(500);
  ASSERT_NE(net.kernel("b").state().get("x"), nullptr);

  net.stop("a");
  net.runFor(500);
  EXPECT_EQ(net.kernel("b").connectedPeerCount(), 0u);
  ASSERT_TRUE(net.write("a", "y", "2").ok);
  net.runFor(3000);
  EXPECT_EQ(net.kernel("b").state().get("y"), nullptr) << "a stopped node sends nothing";

  net.start("a");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh() && net.kernel("b").state().has("y"); }, 10000));
  EXPECT_EQ(net.kernel("a").state().size(), 2u);
  EXPECT_EQ(pcsim::contents(net.kernel("a").state()), pcsim::contents(net.kernel("b").state()));
}

// Secrets come from the host's CSPRNG, never from the kernel's generator: a
// host that hands over no randomness cannot initialize a node.
TEST(Lifecycle, InitializeNeedsTheHostsRandomness) {
  NodeKernel k;
  NodeConfig c;
  c.nodeId = "alpha";
  c.replicaId = 1;
  Result r = k.initialize(c, 0);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("addEntropy"), std::string::npos) << r.error;
  EXPECT_FALSE(k.isInitialized());
  pcsim::addTestEntropy(k);
  EXPECT_TRUE(k.initialize(c, 0).ok);
}
