// No signal can make a node exceed its connection budget (finding 9): a
// flood of announces or offers opens at most the budget, the peer table is
// capped, and a thousand ids under the room's tag on the server cost a
// bounded rate of server messages (PROTOCOL.md, section 1).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "signaling/signal_codec.h"
#include "support/heap_usage.h"
#include "support/room_nodes.h"
#include "support/simulated_network.h"

using namespace pc;
using namespace pcsim;

namespace {

}  // namespace

TEST(ConnectionBudget, FiveThousandAnnouncesOpenNoMoreThanTheBudget) {
  // A bare kernel, its outputs drained and dropped, so the heap measured is
  // the kernel's own.
  NodeKernel a;
  NodeConfig config;
  config.nodeId = "a";
  config.replicaId = 1;
  config.maxConnections = 16;
  addTestEntropy(a);
  ASSERT_TRUE(a.initialize(config, 0).ok);
  ASSERT_TRUE(a.start(0).ok);
  size_t opened = 0;
  auto drain = [&] {
    while (auto o = a.pollOutput()) opened += std::holds_alternative<OpenConnection>(*o);
  };
  auto count = [&](bool pendingOnly) {
    size_t n = 0;
    for (const auto& [id, p] : a.discovery().peers()) {
      const PeerState state = *a.peerState(id);
      n += pendingOnly ? state == PeerState::Connecting || state == PeerState::Handshaking
                       : state != PeerState::Discovered;
    }
    return n;
  };
  drain();
  HeapProbe heap;
  size_t mostPending = 0, mostOpen = 0, mostKnown = 0;
  // 5,000 made-up ids announce, every one of them again every 2 s (as a
  // live peer would, to be dialled), for a minute. None ever answers.
  double ms = 0;
  std::vector<std::string> round(5000);
  for (Millis now = 0; now < 60'000; now += 2000) {
    for (int i = 0; i < 5000; ++i)
      round[i] = signalText(Signal{SignalType::Announce, "default", "z" + std::to_string(i), "", "", 1}, now);
    heap.sample();
    ms += elapsedMs([&] {
      for (const std::string& text : round) {
        a.handleRouteMessage(pcsim::kBroadcastRoute, text, now);
        drain();
      }
      for (Millis t = now; t < now + 2000; t += 100)
        if (auto wake = a.pollTimeout(); wake && *wake <= t) {
          a.handleTimeout(t);
          drain();
        }
    });
    mostPending = std::max(mostPending, count(true));
    mostOpen = std::max(mostOpen, count(false));
    mostKnown = std::max(mostKnown, a.knownPeerCount());
    heap.sample();
  }
  EXPECT_LE(mostPending, 8u) << "connections being set up at once";
  EXPECT_LE(mostOpen, 16u) << "maxConnections";
  EXPECT_LE(opened, 32u + 2 * 60u + 2) << "a burst, then two new connections a second";
  EXPECT_LE(mostKnown, 256u + 16u) << "the peer table";
  // Budget: the minute of flood (150,000 signals, each a new peer to the
  // table, each answered) costs under 2 s (about 6 us a signal measured) and
  // under 2 MiB of kernel memory here (the round of 5,000 texts the test
  // holds is included).
  EXPECT_LT(heap.peak(), size_t{2} << 20);
  EXPECT_LT(ms, 2000 * kTimeBudgetScale);
  std::printf("5,000 ids announcing for a minute: %zu connections opened, at most %zu at once, %.0f ms, peak heap +%zu KiB\n",
              opened, mostOpen, ms, heap.peak() >> 10);

  // Offers (from ids that dial a) are bounded the same way.
  const size_t before = opened;
  for (int i = 0; i < 5000; ++i) {
    Signal offer{SignalType::Rtc, "default", "0" + std::to_string(i), "a", R"({"sdp":{"type":"offer"}})", 1};
    a.handleRouteMessage(pcsim::kBroadcastRoute, signalText(offer, 61'000), 61'000);
    drain();
  }
  EXPECT_LE(opened - before, 8u);
  EXPECT_LE(count(false), 16u);
}

// A real peer still gets in: the flood costs the room its time, not its
// correctness.
TEST(ConnectionBudget, ARoomStillFormsWithinTheBudget) {
  SimulatedNetwork net;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back("n" + std::to_string(i));
  NodeConfig config;
  config.maxConnections = 9;
  EXPECT_TRUE(net.startMesh(ids, config, 20'000)) << "ten nodes, each with a budget of nine: a full mesh";
}

// Finding 9: 1,000 ids registered under a room's tag made a node send 700
// server messages a second (each sealed, in a password room).
TEST(ConnectionBudget, AThousandIdsUnderTheRoomsTagCostABoundedServerRate) {
  SimulatedNetwork net;
  net.addServer();
  for (int i = 0; i < 1000; ++i) net.rawConnect(0, serverId("x" + std::to_string(i)), "t");
  join(net, "a", viaServer(net, "a"), browser("a"));
  net.runFor(5000);
  const size_t settled = net.routeOutputs<RouteSend>("a", kPeerServerRoute).size();
  net.runFor(60'000);
  const size_t perSecond = (net.routeOutputs<RouteSend>("a", kPeerServerRoute).size() - settled) / 60;
  EXPECT_LE(perSecond, 8u + 1u) << "announces through the server are rationed";
  EXPECT_LE(settled, 32u + 5 * 8u + 5u);
  std::printf("1,000 ids under the tag: %zu server messages a second\n", perSecond);
}
