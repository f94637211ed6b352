// Signaling through a PeerJS server (the simulator's model of the unmodified
// npm `peer` server): nodes that share no browser find each other through
// it, rooms stay apart, the server may go away and come back, ids may be
// taken or silently taken over, and whatever the server or its other
// clients send that is not right is counted and ignored.
#include <gtest/gtest.h>

#include "signaling/signal_codec.h"
#include "support/peer_view.h"
#include "support/room_nodes.h"
#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

size_t roomMembers(SimulatedNetwork& net, const std::string& id) {
  return net.kernel(id).describeStatus()["network"]["signalingServer"]["roomMembers"].get<size_t>();
}

// How many of `id`'s outputs of type T satisfy `pred`.
template <typename T, typename Pred>
size_t countOutputs(const SimulatedNetwork& net, const std::string& id, Pred pred) {
  size_t n = 0;
  for (const auto& [at, o] : net.outputs<T>(id)) n += pred(at, o);
  return n;
}

// How many of `id`'s outputs of type T on the server route satisfy `pred`.
template <typename T, typename Pred>
size_t countServerOutputs(const SimulatedNetwork& net, const std::string& id, Pred pred) {
  size_t n = 0;
  for (const auto& [at, o] : net.routeOutputs<T>(id, kPeerServerRoute)) n += pred(at, o);
  return n;
}

// The HEARTBEATs a node handed its host.
size_t heartbeats(const SimulatedNetwork& net, const std::string& id) {
  return countServerOutputs<RouteSend>(net, id, [](Millis, const RouteSend& s) {
    return s.text.find("\"HEARTBEAT\"") != std::string::npos;
  });
}

// The HEARTBEATs the server got from a client id.
uint64_t beatsAtServer(const SimulatedNetwork& net, const std::string& clientId) {
  const auto& beats = net.serverStats(0).heartbeats;
  auto it = beats.find(clientId);
  return it == beats.end() ? 0 : it->second;
}

bool sawServerMessage(const SimulatedNetwork& net, const std::string& id, const std::string& type, Millis since) {
  for (const auto& [at, text] : net.serverMessages(id)) {
    if (at < since) continue;
    nlohmann::json m = nlohmann::json::parse(text, nullptr, false);
    if (m.is_object() && m.value("type", "") == type) return true;
  }
  return false;
}

}  // namespace

TEST(PeerServer, NodesInSeparateBrowsersMeetOnlyThroughTheServer) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b", "c"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, 10'000));

  EXPECT_EQ(net.openConnections(), 3u);
  EXPECT_EQ(net.registeredIds(0), (std::vector<std::string>{serverId("a"), serverId("b"), serverId("c")}));
  for (const char* id : {"a", "b", "c"}) {
    const NodeKernel& k = net.kernel(id);
    EXPECT_TRUE(k.serverLink().registered()) << id;
    EXPECT_EQ(k.serverLink().serverId(), serverId(id));
    EXPECT_EQ(k.counters().rejectedSignals, 0u) << id << ": " << k.counters().lastRejection;
    for (const auto& [peerId, peer] : k.discovery().peers()) {
      EXPECT_EQ(k.discovery().addressOn(peer, kBroadcastRoute), "") << id << " heard " << peerId << " in another browser";
      EXPECT_EQ(k.discovery().addressOn(peer, kPeerServerRoute), serverId(peerId));
    }
    for (const auto& p : k.describePeers()) EXPECT_EQ(p["signaling"], "peerjs-server");
    // One connection per pair, made once.
    for (const char* other : {"a", "b", "c"}) {
      if (std::string(other) == id) continue;
      EXPECT_EQ(countOutputs<OpenConnection>(net, id, [&](Millis, const OpenConnection& o) { return o.peerId == other; }),
                1u)
          << id << " -> " << other;
    }
  }
  EXPECT_GT(net.serverStats(0).relayed, 0u);
  EXPECT_EQ(net.hostErrors(), 0u) << "the kernel sent on a socket that was not open";

  // State flows over the data channels the server set up.
  ASSERT_TRUE(net.write("a", "k", "\"v\"").ok);
  net.runFor(200);
  EXPECT_EQ(valueAt(net, "b", "k"), std::optional<std::string>("\"v\""));
  EXPECT_EQ(valueAt(net, "c", "k"), std::optional<std::string>("\"v\""));
}

// A handshake that fails at the dialer only (a DTLS failure between a
// node-datachannel dialer and a Chromium answerer was seen to do this): the
// answerer's half stays connecting and hears nothing. The dialer's next
// announce, sent after its offer, tells the answerer to drop that half and
// answer afresh, so the pair connects within a few announce intervals, not
// after the answerer's connect timeout.
TEST(PeerServer, AHandshakeThatFailsAtTheDialerOnlyIsRetriedWellBeforeTheConnectTimeout) {
  NetworkOptions options;
  options.dialerOnlyHandshakeFailures = 1;
  SimulatedNetwork net(options);
  net.addServer();
  join(net, "a", viaServer(net, "a"), browser("a"));
  net.runFor(1000);
  const Millis joined = net.now();
  join(net, "b", viaServer(net, "b"), browser("b"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, joined + 6000))
      << "connected within 6 s; the connect timeout is " << net.kernel("a").config().connectTimeoutMs << " ms";
  // The first handshake failed, and the second made the connection.
  size_t opens = 0;
  for (const char* id : {"a", "b"}) opens += net.outputs<OpenConnection>(id).size();
  EXPECT_EQ(opens, 4u) << "two tries, each opened at both ends";
  for (const char* id : {"a", "b"}) EXPECT_EQ(net.kernel(id).counters().rejectedSignals, 0u) << id;
}

// On a BroadcastChannel the periodic announce goes to every node, connected
// or not. A handshake slower than the announce interval must not be taken
// for one the dialer gave up: one try, at each end.
TEST(PeerServer, ASlowHandshakeOnABroadcastChannelIsNotTakenForAGivenUpOne) {
  NetworkOptions options;
  options.rtcDelay = 1500;  // offer, answer and channel: 4.5 s, past two announces
  SimulatedNetwork net(options);
  net.addNode("a");
  net.start("a");
  net.runFor(1000);
  net.addNode("b");
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 12'000));
  for (const char* id : {"a", "b"}) EXPECT_EQ(net.outputs<OpenConnection>(id).size(), 1u) << id;
}

TEST(PeerServer, SeparateBrowsersWithoutAServerNeverMeet) {
  // The control for the test above: local signaling does not cross browsers.
  SimulatedNetwork net;
  for (const char* id : {"a", "b", "c"}) join(net, id, NodeConfig{}, browser(id));
  net.runFor(20'000);
  EXPECT_EQ(net.openConnections(), 0u);
  for (const char* id : {"a", "b", "c"}) EXPECT_EQ(net.kernel(id).knownPeerCount(), 0u);
}

TEST(PeerServer, ALateJoinerListsTheRoomAndConnectsToItsMembers) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  ASSERT_TRUE(net.write("a", "before-c", "1").ok);
  net.runFor(30'000);

  // Members never announce to an id they have not listed, and their next
  // listing is up to discoveryIntervalMs away: c must use its own listing.
  const Millis joined = net.now();
  join(net, "c", viaServer(net, "c"), browser("c"));
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("c").serverLink().registered(); }, joined + 5000));
  const Millis registered = net.now();
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, registered + 1000))
      << "c connects within a second of registering, long before anyone's next listing";
  EXPECT_EQ(roomMembers(net, "c"), 2u);
  EXPECT_EQ(countServerOutputs<RouteList>(net, "c", [](Millis, const RouteList&) { return true; }), 1u);
  // It announced to each member it listed, by its server id.
  for (const char* member : {"a", "b"}) {
    EXPECT_EQ(countServerOutputs<RouteSend>(net, "c",
                                       [&](Millis, const RouteSend& s) {
                                         nlohmann::json m = nlohmann::json::parse(s.text);
                                         return m["type"] == "OFFER" && m["dst"] == serverId(member) &&
                                                m["payload"].get<std::string>().find("\"announce\"") !=
                                                    std::string::npos;
                                       }),
              1u)
        << member;
  }
  net.runFor(500);
  EXPECT_EQ(valueAt(net, "c", "before-c"), std::optional<std::string>("1"));
}

TEST(PeerServer, WithoutDiscoveryNoOneIsFoundAndTheRefusalIsCounted) {
  SimulatedNetwork net;
  ServerOptions o;
  o.allowDiscovery = false;
  net.addServer(o);
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  net.runFor(30'000);
  EXPECT_EQ(net.openConnections(), 0u);
  EXPECT_TRUE(net.kernel("a").serverLink().registered());
  EXPECT_GT(net.kernel("a").counters().rejectedSignals, 0u);
  EXPECT_NE(net.kernel("a").counters().lastRejection.find("allow_discovery"), std::string::npos)
      << net.kernel("a").counters().lastRejection;
}

TEST(PeerServer, OtherRoomsOnTheSameServerNeverConnectNorSeeState) {
  SimulatedNetwork net;
  net.addServer();
  // a, b: room "default" under tag 5eed. x, y: room "other" under tag 0bed.
  // z: room "third" under 5eed, so it lists a and b and signals them.
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  for (const char* id : {"x", "y"}) {
    NodeConfig c = viaServer(net, id, 0, "0bed");
    c.roomId = "other";
    join(net, id, c, browser(id));
  }
  NodeConfig zc = viaServer(net, "z");
  zc.roomId = "third";
  join(net, "z", zc, browser("z"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}) && net.meshAmong({"x", "y"}); }, 10'000));
  ASSERT_TRUE(net.write("a", "room-default", "1").ok);
  ASSERT_TRUE(net.write("x", "room-other", "2").ok);
  ASSERT_TRUE(net.write("z", "room-third", "3").ok);
  net.runFor(60'000);

  EXPECT_EQ(net.openConnections(), 2u);
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_TRUE(net.meshAmong({"x", "y"}));
  EXPECT_EQ(net.kernel("z").knownPeerCount(), 0u);
  const std::map<std::string, std::vector<std::string>> rooms = {
      {"a", {"b"}}, {"b", {"a"}}, {"x", {"y"}}, {"y", {"x"}}, {"z", {}}};
  for (const auto& [id, mates] : rooms) {
    auto mate = [&, &mates = mates](const std::string& peer) {
      return std::find(mates.begin(), mates.end(), peer) != mates.end();
    };
    for (const auto& [peerId, peer] : net.kernel(id).discovery().peers()) EXPECT_TRUE(mate(peerId)) << id << " knows " << peerId;
    EXPECT_EQ(countOutputs<OpenConnection>(net, id, [&](Millis, const OpenConnection& o) { return !mate(o.peerId); }), 0u)
        << id;
    EXPECT_EQ(countOutputs<StateChanged>(net, id,
                                         [&](Millis, const StateChanged& s) { return !s.origin.empty() && !mate(s.origin); }),
              0u)
        << id;
  }
  EXPECT_EQ(contents(net.kernel("a").state()), (std::map<std::string, std::string>{{"room-default", "1"}}));
  EXPECT_EQ(contents(net.kernel("b").state()), (std::map<std::string, std::string>{{"room-default", "1"}}));
  EXPECT_EQ(contents(net.kernel("y").state()), (std::map<std::string, std::string>{{"room-other", "2"}}));
  EXPECT_EQ(contents(net.kernel("z").state()), (std::map<std::string, std::string>{{"room-third", "3"}}));
  // Ids of another tag are never room members; z shares a's tag, so it is
  // listed, but its signals name another room and are ignored, not errors.
  EXPECT_EQ(roomMembers(net, "x"), 1u);
  EXPECT_EQ(roomMembers(net, "a"), 2u);
  for (const char* id : {"a", "b", "x", "y", "z"}) EXPECT_EQ(net.kernel(id).counters().rejectedSignals, 0u) << id;
}

TEST(PeerServer, BothTransportsAtOnceMakeOneConnectionPerPair) {
  // Same browser and same server: every pair hears each other twice. The
  // delays vary so that either transport may be first.
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 1;
    o.signalDelayMax = 400;
    SimulatedNetwork net(o);
    ServerOptions so;
    so.delay = static_cast<Millis>(1 + seed * 7);
    net.addServer(so);
    const std::vector<std::string> ids = {"a", "b", "c", "d"};
    for (size_t i = 0; i < ids.size(); ++i) {
      join(net, ids[i], viaServer(net, ids[i]), NodeSetup{});
      net.runFor(static_cast<Millis>(seed * 37 % 200));
    }
    ASSERT_TRUE(net.runUntil([&] { return net.meshAmong(ids); }, net.now() + 10'000)) << "seed " << seed;
    net.runFor(20'000);
    EXPECT_TRUE(net.meshAmong(ids)) << "seed " << seed;
    EXPECT_EQ(net.openConnections(), 6u) << "seed " << seed;
    auto opens = [&](const std::string& id, const std::string& other) {
      return countOutputs<OpenConnection>(net, id, [&](Millis, const OpenConnection& c) { return c.peerId == other; });
    };
    for (const auto& id : ids) {
      EXPECT_TRUE(net.outputs<PeerDisconnected>(id).empty()) << "seed " << seed << ": " << id;
      for (const auto& other : ids) {
        if (other != id) {
          EXPECT_EQ(opens(id, other), 1u) << "seed " << seed << ": " << id << " -> " << other;
        }
      }
      EXPECT_EQ(net.kernel(id).counters().rejectedSignals, 0u) << net.kernel(id).counters().lastRejection;
    }
    // A connection that breaks is made again once, whichever transport the
    // redial's signals take.
    net.breakConnection("a", "c");
    ASSERT_TRUE(net.runUntil([&] { return net.kernel("a").connectedPeerCount() == 2; }, net.now() + 2000));
    ASSERT_TRUE(net.runUntil([&] { return net.meshAmong(ids); }, net.now() + 20'000)) << "seed " << seed;
    net.runFor(20'000);
    EXPECT_EQ(net.openConnections(), 6u) << "seed " << seed;
    EXPECT_EQ(opens("a", "c"), 2u) << "seed " << seed;
    EXPECT_EQ(opens("c", "a"), 2u) << "seed " << seed;
    EXPECT_EQ(opens("a", "b"), 1u) << "seed " << seed;
    EXPECT_EQ(net.hostErrors(), 0u);
  }
}

TEST(PeerServer, HeartbeatsKeepTheRegistrationAlive) {
  SimulatedNetwork net;
  net.addServer();  // closes a client silent for 90 s
  join(net, "a", viaServer(net, "a"), browser("a"));
  // b's heartbeats come too rarely: the control that shows the server would
  // close a client that does not send them.
  NodeConfig bc = viaServer(net, "b");
  bc.peerServer->heartbeatIntervalMs = 120'000;
  join(net, "b", bc, browser("b"));
  // c is a background tab whose timers run once a minute (Chrome's intensive
  // throttling): a heartbeat per wake is still within the 90 s.
  join(net, "c", viaServer(net, "c"), browser("c"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, 10'000));
  net.throttleTimers("c", 60'000);
  net.runFor(300'000);

  // a: one heartbeat per 5 s, every one of them reaching the server.
  size_t sent = heartbeats(net, "a");
  EXPECT_GE(sent, 59u);
  EXPECT_LE(sent, 61u);
  EXPECT_EQ(beatsAtServer(net, serverId("a")), sent);
  EXPECT_EQ(net.kernel("a").serverLink().reconnects(), 0u);
  EXPECT_TRUE(net.kernel("a").serverLink().registered());
  // Heartbeats only while registered: none before the first OPEN.
  Millis registeredAt = 0;
  for (const auto& [at, text] : net.serverMessages("a"))
    if (text.find("\"OPEN\"") != std::string::npos) {
      registeredAt = at;
      break;
    }
  EXPECT_EQ(countServerOutputs<RouteSend>(net, "a",
                                     [&](Millis at, const RouteSend& s) {
                                       return at < registeredAt && s.text.find("HEARTBEAT") != std::string::npos;
                                     }),
            0u);

  // b was closed for silence (more than once in 300 s), and reconnected.
  EXPECT_GE(net.serverStats(0).aliveClosed, 2u);
  EXPECT_GE(net.kernel("b").serverLink().reconnects(), 2u);
  EXPECT_TRUE(net.meshAmong({"a", "b"})) << "the data channel does not need the server";

  EXPECT_GE(beatsAtServer(net, serverId("c")), 4u) << "one per wake";
  EXPECT_EQ(net.kernel("c").serverLink().reconnects(), 0u) << "never closed for silence";
  EXPECT_TRUE(net.kernel("c").serverLink().registered());
}

TEST(PeerServer, ServerRestartKeepsConnectionsThenNodesReRegisterAndResync) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  net.runFor(2000);

  const Millis killedAt = net.now();
  net.killServer(0);
  net.runFor(5000);
  // The channels do not depend on the server.
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_FALSE(net.kernel("a").serverLink().registered());
  ASSERT_TRUE(net.write("b", "during-outage", "1").ok);
  net.runFor(200);
  EXPECT_EQ(valueAt(net, "a", "during-outage"), std::optional<std::string>("1"));

  // The channel breaks while the server is down: nothing can re-signal it.
  net.breakConnection("a", "b");
  net.runFor(1000);
  EXPECT_EQ(net.kernel("a").connectedPeerCount(), 0u);
  EXPECT_EQ(net.kernel("b").connectedPeerCount(), 0u);
  ASSERT_TRUE(net.write("a", "while-apart", "2").ok);
  net.runFor(40'000);
  EXPECT_FALSE(net.kernel("b").state().has("while-apart"));
  EXPECT_EQ(net.openConnections(), 0u);

  // Meanwhile the link retried with growing delays, capped near reconnectMaxMs.
  std::vector<Millis> attempts;
  for (const auto& [at, c] : net.routeOutputs<RouteOpen>("a", kPeerServerRoute))
    if (at > killedAt) attempts.push_back(at);
  ASSERT_GE(attempts.size(), 5u);
  EXPECT_LE(attempts.size(), 15u) << "backoff, not a retry storm";
  const PeerServerConfig& sc = *net.kernel("a").config().peerServer;
  EXPECT_LE(attempts[1] - attempts[0], sc.reconnectBaseMs * 2 * 3 / 2 + 30);
  for (size_t i = 1; i < attempts.size(); ++i) {
    EXPECT_GE(attempts[i] - attempts[i - 1], sc.reconnectBaseMs / 2) << i;
    EXPECT_LE(attempts[i] - attempts[i - 1], sc.reconnectMaxMs * 3 / 2 + 30) << i;
  }
  EXPECT_GE(attempts.back() - attempts[attempts.size() - 2], sc.reconnectMaxMs / 2) << "the delay grew to the cap";

  // Back up: both register again, reconnect, and b catches up with only
  // what it missed.
  std::vector<size_t> syncedToB;
  net.onFrameSent = [&](const std::string& from, const std::string& to, const std::vector<uint8_t>& bytes) {
    wire::Decoded d = wire::decode(bytes);
    if (auto* r = d.frame ? std::get_if<wire::SyncResponse>(&*d.frame) : nullptr; r && from == "a" && to == "b")
      syncedToB.push_back(r->writes.size());
  };
  const Millis restartedAt = net.now();
  net.restartServer(0);
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("a").serverLink().registered() && net.kernel("b").serverLink().registered(); },
                           restartedAt + sc.reconnectMaxMs * 3 / 2 + 1000));
  EXPECT_EQ(net.serverStats(0).opens, 4u) << "each registered once per server run";
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}) && net.kernel("b").state().has("while-apart"); },
                           net.now() + 10'000));
  EXPECT_EQ(valueAt(net, "b", "while-apart"), std::optional<std::string>("2"));
  size_t fromA = countOutputs<StateChanged>(net, "b", [&](Millis at, const StateChanged& s) {
    return at > restartedAt && s.origin == "a" && s.changes.size() == 1 && s.changes[0].key == "while-apart";
  });
  EXPECT_EQ(fromA, 1u) << "the missed write arrived once, from a, after the restart";
  EXPECT_EQ(syncedToB, std::vector<size_t>{1}) << "a delta: only the write b missed";
  net.onFrameSent = nullptr;

  // A node that joins after the restart finds the old ones.
  join(net, "c", viaServer(net, "c"), browser("c"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, net.now() + 10'000));
  net.runFor(500);
  EXPECT_EQ(contents(net.kernel("c").state()), contents(net.kernel("a").state()));
  for (const char* id : {"a", "b", "c"}) EXPECT_EQ(net.kernel(id).counters().rejectedSignals, 0u) << id;
  EXPECT_EQ(net.hostErrors(), 0u);
}

TEST(PeerServer, IdTakenRegistersUnderANewIdAndStillConnects) {
  SimulatedNetwork net;
  net.addServer();
  // Someone else (another token) holds b's id: say b's own earlier page.
  const uint64_t squatter = net.rawConnect(0, serverId("b"), "someone-else");
  join(net, "a", viaServer(net, "a"), browser("a"));
  join(net, "b", viaServer(net, "b"), browser("b"));
  // While "5eed.b" is registered, "5eed.b.1" does not speak for b: an
  // impostor could register it as easily as b's new page.
  net.runFor(10'000);
  EXPECT_FALSE(net.meshAmong({"a", "b"}));
  EXPECT_GT(net.kernel("a").counters().shadowedSignals, 0u);
  // The old socket goes (its page is gone); at a's next listing b.1 is b.
  net.rawClose(squatter);
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, net.now() + 15'000));

  EXPECT_EQ(net.serverStats(0).idTaken, 1u);
  EXPECT_EQ(net.kernel("b").serverLink().idTaken(), 1u);
  EXPECT_EQ(net.kernel("b").serverLink().serverId(), serverId("b") + ".1");
  EXPECT_TRUE(net.kernel("b").serverLink().registered());
  EXPECT_EQ(net.registeredIds(0), (std::vector<std::string>{serverId("a"), serverId("b") + ".1"}));
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->serverId, serverId("b") + ".1");
  // The new socket was asked for at once, not after a backoff.
  auto connects = net.routeOutputs<RouteOpen>("b", kPeerServerRoute);
  ASSERT_EQ(connects.size(), 2u);
  EXPECT_NE(connects[1].second.url.find("id=" + serverId("b") + ".1&"), std::string::npos) << connects[1].second.url;
  Millis idTakenAt = 0;
  for (const auto& [at, text] : net.serverMessages("b"))
    if (text.find("ID-TAKEN") != std::string::npos) idTakenAt = at;
  EXPECT_EQ(connects[1].first, idTakenAt);

  ASSERT_TRUE(net.write("b", "k", "1").ok);
  net.runFor(200);
  EXPECT_TRUE(net.kernel("a").state().has("k"));
  // A third node, listing both "5eed.b" and "5eed.b.1", still reaches b.
  join(net, "c", viaServer(net, "c"), browser("c"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, net.now() + 10'000));
  EXPECT_EQ(net.hostErrors(), 0u);
}

TEST(PeerServer, SilentReplacementCountsAsRegisteredAfterTheGraceAndStaysReachable) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  net.runFor(3000);
  ASSERT_EQ(net.serverStats(0).opens, 2u);

  // b's socket dies on b's side; the server still holds 5eed.b on it.
  const Millis lostAt = net.now();
  net.forgetSocket("b");
  EXPECT_EQ(net.kernel("b").serverLink().state(), LinkState::Waiting);
  EXPECT_EQ(net.registeredIds(0), (std::vector<std::string>{serverId("a"), serverId("b")}));
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("b").serverLink().state() == LinkState::AwaitingOpen; },
                           lostAt + 5000));
  const Millis openedAt = net.now();
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("b").serverLink().registered(); }, openedAt + 5000));
  const Millis registeredAt = net.now();

  // Same id and token: the server moved the id to the new socket, no OPEN.
  EXPECT_EQ(net.serverStats(0).replacements, 1u);
  EXPECT_EQ(net.serverStats(0).opens, 2u);
  EXPECT_FALSE(sawServerMessage(net, "b", "OPEN", lostAt));
  EXPECT_EQ(registeredAt - openedAt, net.kernel("b").config().peerServer->openGraceMs)
      << "registered when the grace ran out";
  EXPECT_EQ(net.kernel("b").serverLink().serverId(), serverId("b"));
  EXPECT_EQ(net.routeOutputs<RouteOpen>("b", kPeerServerRoute).back().second.url, net.routeOutputs<RouteOpen>("b", kPeerServerRoute).front().second.url);
  // Registered, it lists and heartbeats again on the new socket.
  EXPECT_EQ(countServerOutputs<RouteList>(net, "b", [&](Millis at, const RouteList&) { return at == registeredAt; }), 1u);
  uint64_t beatsBefore = beatsAtServer(net, serverId("b"));
  net.runFor(11'000);
  EXPECT_GE(beatsAtServer(net, serverId("b")), beatsBefore + 2);

  // And others reach it: a newcomer's announce to 5eed.b gets to the new socket.
  join(net, "c", viaServer(net, "c"), browser("c"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, net.now() + 10'000));
  EXPECT_EQ(pcsim::peerOf(net.kernel("b"), "c")->serverId, serverId("c"));
  EXPECT_TRUE(net.meshAmong({"a", "b"})) << "the replacement touched no data channel";
  EXPECT_EQ(net.hostErrors(), 0u);
}

TEST(PeerServer, ExpireForAStaleListedIdDoesNoHarm) {
  SimulatedNetwork net;
  net.addServer();
  // A member that is listed and then gone before anyone's message reaches it.
  uint64_t ghost = net.rawConnect(0, serverId("ghost"), "t");
  join(net, "b", viaServer(net, "b"), browser("b"));
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("b").serverLink().registered(); }, 5000));
  join(net, "a", viaServer(net, "a"), browser("a"));
  ASSERT_TRUE(net.runUntil([&] { return roomMembers(net, "a") == 2; }, net.now() + 5000));
  net.rawClose(ghost);  // a's announce to it is still on its way
  const Millis goneAt = net.now();

  ASSERT_TRUE(net.runUntil([&] { return sawServerMessage(net, "a", "EXPIRE", goneAt); }, goneAt + 10'000));
  EXPECT_GE(net.now() - goneAt, 5000) << "the server waits expire_timeout first";
  EXPECT_GE(net.serverStats(0).expires, 1u);
  net.runFor(100);
  EXPECT_EQ(roomMembers(net, "a"), 1u) << "the expired id left the directory";
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "ghost"), std::nullopt);
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, 0u) << net.kernel("a").counters().lastRejection;

  // An EXPIRE naming a connected peer (a message to it was queued while its
  // socket was away) does not touch the connection.
  ASSERT_TRUE(net.injectServerMessage("a", R"({"type":"EXPIRE","src":"5eed.b","dst":"5eed.a"})"));
  ASSERT_TRUE(net.injectServerMessage("a", R"({"type":"LEAVE","src":"5eed.b","dst":"5eed.a"})"));
  net.runFor(5000);
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_TRUE(net.outputs<PeerDisconnected>("a").empty());
  ASSERT_TRUE(net.write("b", "after", "1").ok);
  net.runFor(200);
  EXPECT_TRUE(net.kernel("a").state().has("after"));
  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, 0u);
}

TEST(PeerServer, ASignalWhoseSenderDiffersFromTheServerStampIsRejected) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  net.runFor(1000);
  const uint64_t before = net.kernel("a").counters().rejectedSignals;
  const uint64_t incarnation = pcsim::peerOf(net.kernel("a"), "b")->incarnation;

  // evil, a member of the room on the server, writes envelopes as if from b:
  // a later incarnation of b (which would make a drop b) and a leave.
  uint64_t evil = net.rawConnect(0, serverId("evil"), "t");
  Signal restart{SignalType::Announce, "default", "b", "a", "", incarnation + 1};
  Signal leave{SignalType::Leave, "default", "b", "", "", incarnation};
  for (const Signal& s : {restart, leave}) {
    nlohmann::json m = {{"type", "OFFER"}, {"dst", serverId("a")}, {"payload", signalText(s, net.now())},
                        {"src", serverId("b")}};  // the server overwrites src
    net.rawSend(evil, m.dump());
  }
  // And one from outside the room.
  uint64_t outsider = net.rawConnect(0, "0bed.mallory", "t");
  net.rawSend(outsider, nlohmann::json{{"type", "OFFER"},
                                       {"dst", serverId("a")},
                                       {"payload", signalText(Signal{SignalType::Announce, "default", "mallory", "a", "", 1}, net.now())}}
                            .dump());
  net.runFor(3000);

  EXPECT_EQ(net.kernel("a").counters().rejectedSignals, before + 3);
  EXPECT_TRUE(net.meshAmong({"a", "b"})) << "the forged restart and leave were not believed";
  EXPECT_TRUE(net.outputs<PeerDisconnected>("a").empty());
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->incarnation, incarnation);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "mallory"), std::nullopt);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "evil"), std::nullopt);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->serverId, serverId("b"));
}

TEST(PeerServer, MalformedServerMessagesAreCountedAndChangeNothing) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  ASSERT_TRUE(net.write("a", "k", "1").ok);
  net.runFor(1000);

  const auto stateBefore = contents(net.kernel("a").state());
  const auto peersBefore = net.kernel("a").describePeers().size();
  const std::string idBefore = net.kernel("a").serverLink().serverId();
  const std::vector<std::string> malformed = {
      "",
      "not json {",
      "[]",
      "42",
      "\"OPEN\"",
      "{}",
      R"({"type":5})",
      R"({"type":null,"src":"5eed.b"})",
      R"({"type":"BOGUS","src":"5eed.b","payload":"x"})",
      R"({"type":"OFFER","src":"5eed.b","payload":{"v":1,"t":"announce"}})",
      R"({"type":"ANSWER","src":"5eed.b","payload":7})",
      R"({"type":"CANDIDATE","src":"5eed.b","payload":["x"]})",
      R"({"type":"OFFER","payload":"x"})",
      R"({"type":"OFFER","src":"","payload":"x"})",
      R"({"type":"OFFER","src":5,"payload":"x"})",
      R"({"type":"OFFER","src":"5eed.b","payload":"not an envelope"})",
      R"({"type":"OFFER","src":"5eed.b","payload":"{\"v\":1,\"t\":\"rtc\",\"room\":\"default\",\"from\":\"b\",\"to\":\"a\"}"})",
      R"({"type":"OFFER","src":"5eed.b","payload":"{\"v\":2,\"t\":\"announce\",\"room\":\"default\",\"from\":\"b\"}"})",
      "{\"type\":\"OFFER\",\"src\":\"5eed.b\",\"payload\":\"" + std::string(200 * 1024, 'x') + "\"}",
      "{\"type\":\"OFFER\",\"src\":\"5eed.b\",\"payload\":\"" + std::string(100 * 1024, 'x') + "\"}",
      std::string(100 * 1024, '['),
      std::string(60 * 1024, '[') + std::string(60 * 1024, ']'),
      "{\"type\":\"OFFER\",\"src\":\"5eed.b\",\"payload\":\"\xff\xfe\"}",
  };
  for (const std::string& text : malformed) {
    const uint64_t rejected = net.kernel("a").counters().rejectedSignals;
    ASSERT_TRUE(net.injectServerMessage("a", text));
    EXPECT_EQ(net.kernel("a").counters().rejectedSignals, rejected + 1) << text.substr(0, 120);
    EXPECT_TRUE(net.kernel("a").serverLink().registered()) << text.substr(0, 120);
  }
  // Listings that are not a JSON array of ids are counted and leave the
  // room's directory as it was; ids that are not of this room are skipped.
  for (const std::string& body : std::vector<std::string>{"not json", "{}", "\"5eed.b\"", "", std::string(200 * 1024, '[')}) {
    const uint64_t rejected = net.kernel("a").counters().rejectedSignals;
    net.input("a", [&](NodeKernel& k, Millis now) { k.handleRouteListing(kPeerServerRoute, true, body, now); });
    EXPECT_EQ(net.kernel("a").counters().rejectedSignals, rejected + 1) << body.substr(0, 40);
    EXPECT_EQ(roomMembers(net, "a"), 1u) << body.substr(0, 40);
  }
  {
    const uint64_t rejected = net.kernel("a").counters().rejectedSignals;
    net.input("a", [&](NodeKernel& k, Millis now) {
      k.handleRouteListing(kPeerServerRoute, true, R"(["5eed.b", 7, null, "5eed.a", "0bed.x", "5eed.b.x", "5eed.", "5eed.bad id", "5eed.c.2"])", now);
    });
    EXPECT_EQ(net.kernel("a").counters().rejectedSignals, rejected);
    EXPECT_EQ(roomMembers(net, "a"), 2u) << "b, and c under its second id";
  }
  net.runFor(10'000);
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_EQ(contents(net.kernel("a").state()), stateBefore);
  EXPECT_EQ(net.kernel("a").describePeers().size(), peersBefore);
  EXPECT_TRUE(net.kernel("a").serverLink().registered());
  EXPECT_EQ(net.kernel("a").serverLink().serverId(), idBefore);
  EXPECT_EQ(net.kernel("a").serverLink().reconnects(), 0u);
  EXPECT_TRUE(net.outputs<PeerDisconnected>("a").empty());
  // Still works: a newcomer connects through the same link.
  join(net, "c", viaServer(net, "c"), browser("c"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, net.now() + 10'000));
}

TEST(PeerServer, UrlsFollowTheServerConfig) {
  // A server at the root path with a key that needs escaping.
  SimulatedNetwork net;
  ServerOptions o;
  o.host = "signal.example";
  o.port = 443;
  o.path = "/";
  o.key = "my key&more";
  net.addServer(o);
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  EXPECT_EQ(net.serverStats(0).errors, 0u);
  EXPECT_GE(net.serverStats(0).listings, 2u);

  // A node with the wrong key is refused with ERROR and keeps retrying.
  NodeConfig c = viaServer(net, "c");
  c.peerServer->key = "peerjs";
  join(net, "c", c, browser("c"));
  net.runFor(20'000);
  EXPECT_FALSE(net.kernel("c").serverLink().registered());
  EXPECT_GE(net.serverStats(0).errors, 1u);
  EXPECT_NE(net.kernel("c").serverLink().lastError().find("Invalid key"), std::string::npos)
      << net.kernel("c").serverLink().lastError();
  EXPECT_EQ(net.kernel("c").connectedPeerCount(), 0u);
  EXPECT_EQ(net.hostErrors(), 0u);
}

TEST(PeerServer, AReloadedPageWhoseOldSocketLingersComesBackUnderANewId) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  ASSERT_TRUE(net.write("a", "kept", "1").ok);
  net.runFor(1000);

  // b's page dies without a word (its socket stays registered, half-open),
  // and a new page, with a new token, comes up under the same node id.
  NodeConfig again = viaServer(net, "b");
  again.peerServer->token = "token-b-second-page";
  net.reload("b", again, browser("b"), CrashMode::Silent);
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.kernel("b").serverLink().registered(); }, net.now() + 5000));
  EXPECT_EQ(net.kernel("b").serverLink().serverId(), serverId("b") + ".1");
  EXPECT_EQ(net.registeredIds(0), (std::vector<std::string>{serverId("a"), serverId("b"), serverId("b") + ".1"}));

  // While the old page's socket still holds "5eed.b", the new page's
  // "5eed.b.1" does not speak for b; once the server closes the old one for
  // silence (alive_timeout), a takes the new page for b.
  net.runFor(30'000);
  EXPECT_FALSE(net.meshAmong({"a", "b"}));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, net.now() + 120'000));
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->serverId, serverId("b") + ".1");
  net.runFor(500);
  EXPECT_EQ(valueAt(net, "b", "kept"), std::optional<std::string>("1")) << "the new page synced from a";
  net.runFor(120'000);
  EXPECT_EQ(net.registeredIds(0), (std::vector<std::string>{serverId("a"), serverId("b") + ".1"}));
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_EQ(net.hostErrors(), 0u);
}

TEST(PeerServer, NodesOnDifferentServersMeetOnlyThroughASharedBrowser) {
  SimulatedNetwork net;
  ServerOptions one, two;
  one.host = "one.test";
  two.host = "two.test";
  net.addServer(one);
  net.addServer(two);
  // a and c share a browser; a uses server 0, c and b server 1.
  join(net, "a", viaServer(net, "a", 0), browser("x"));
  join(net, "c", viaServer(net, "c", 1), browser("x"));
  join(net, "b", viaServer(net, "b", 1), browser("y"));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "c"}) && net.meshAmong({"b", "c"}); }, 10'000));
  net.runFor(30'000);
  EXPECT_EQ(net.registeredIds(0), std::vector<std::string>{serverId("a")});
  EXPECT_EQ(net.registeredIds(1), (std::vector<std::string>{serverId("c"), serverId("b")}));
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b"), std::nullopt) << "no signaling path from a to b";
  EXPECT_EQ(net.openConnections(), 2u);
  // State still reaches b through c.
  ASSERT_TRUE(net.write("a", "k", "1").ok);
  net.runFor(200);
  EXPECT_TRUE(net.kernel("c").state().has("k"));
  ASSERT_TRUE(net.write("c", "k2", "2").ok);
  net.runFor(200);
  EXPECT_TRUE(net.kernel("b").state().has("k2"));
}

TEST(PeerServer, AStoppedNodeLeavesAndComesBackWhenStartedAgain) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b", "c"}) join(net, id, viaServer(net, id), browser(id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, 10'000));
  net.runFor(1000);

  net.stop("b");
  // Its leave went to each member through the server, and it closed its socket.
  size_t leaves = countServerOutputs<RouteSend>(net, "b", [](Millis, const RouteSend& s) {
    return s.text.find("\"LEAVE\"") != std::string::npos;
  });
  EXPECT_EQ(leaves, 2u);
  EXPECT_EQ(countServerOutputs<RouteClose>(net, "b", [](Millis, const RouteClose&) { return true; }), 1u);
  net.runFor(1000);
  EXPECT_EQ(net.registeredIds(0), (std::vector<std::string>{serverId("a"), serverId("c")}));
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b"), std::nullopt);
  EXPECT_EQ(pcsim::peerOf(net.kernel("c"), "b"), std::nullopt);
  ASSERT_TRUE(net.write("a", "while-stopped", "1").ok);

  net.runFor(5000);
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, net.now() + 10'000));
  EXPECT_EQ(net.kernel("b").serverLink().serverId(), serverId("b"));
  net.runFor(500);
  EXPECT_TRUE(net.kernel("b").state().has("while-stopped"));
  EXPECT_EQ(net.hostErrors(), 0u);
}

TEST(PeerServer, ChurnWithReloadsOutagesAndBrokenChannelsHealsAndConverges) {
  // Seven nodes meet through the server (some also share a browser) while
  // pages reload (politely or silently, keeping their node ids), sockets
  // die on one side, channels break, the server dies and comes back, and
  // everyone writes. Once it stops, the mesh heals and the state converges,
  // and nothing along the way was a protocol error.
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const bool sealed = seed % 2 == 1;
    const bool sharedBrowsers = seed % 3 == 0;
    NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 1;
    o.signalDelayMax = 50;
    o.dataDelayMin = 1;
    o.dataDelayMax = 60;
    SimulatedNetwork net(o);
    ServerOptions so;
    so.delay = static_cast<Millis>(10 + seed % 40);
    net.addServer(so);
    const std::vector<std::string> ids = {"n1", "n2", "n3", "n4", "n5", "n6", "n7"};
    std::map<std::string, int> pages;
    auto config = [&](const std::string& id) {
      NodeConfig c = viaServer(net, id);
      c.sealed = sealed;
      c.peerServer->token = "token-" + id + "-" + std::to_string(pages[id]);  // a token per page
      return c;
    };
    auto setup = [&](const std::string& id) {
      // Shared: n2 and n3, n4 and n5, n6 and n7 are tabs of one browser.
      NodeSetup s = browser(sharedBrowsers ? std::to_string((id[1] - '0') / 2) : id);
      if (sealed) s.password = "pw";
      return s;
    };
    for (const auto& id : ids) join(net, id, config(id), setup(id));

    Rng rng(seed * 77);
    int writes = 0;
    for (int step = 0; step < 120; ++step) {
      net.runFor(rng.between(100, 3000));
      const std::string& id = ids[rng.below(ids.size())];
      const std::string& other = ids[rng.below(ids.size())];
      switch (rng.below(8)) {
        case 0:
        case 1:
          ++pages[id];
          net.reload(id, config(id), setup(id), rng.chance(0.5) ? CrashMode::Silent : CrashMode::ClosesChannels);
          net.start(id);
          break;
        case 2:
          if (id != other) net.breakConnection(id, other);
          break;
        case 3:
          if (net.serverUp(0)) net.killServer(0);
          else net.restartServer(0);
          break;
        case 4:
          net.forgetSocket(id);
          break;
        default:
          ASSERT_TRUE(net.write(id, "k" + std::to_string(writes++), std::to_string(step)).ok);
      }
    }
    if (!net.serverUp(0)) net.restartServer(0);
    for (const auto& id : ids) ASSERT_TRUE(net.write(id, "last-" + id, "1").ok);
    auto converged = [&] {
      if (!net.meshAmong(ids)) return false;
      for (const auto& id : ids)
        if (!net.kernel(id).serverLink().registered() ||
            contents(net.kernel(id).state()) != contents(net.kernel(ids[0]).state()))
          return false;
      return true;
    };
    EXPECT_TRUE(net.runUntil(converged, net.now() + 120'000));
    for (const auto& id : ids) {
      const NodeCounters& c = net.kernel(id).counters();
      // Pages that reload keeping their ids come back as "<tag>.<id>.<n>"
      // while their old socket lingers: refused (as an impostor would be)
      // until the old id is gone. Nothing else may be refused.
      EXPECT_EQ(c.rejectedFrames + c.rejectedSignals - c.shadowedSignals, 0u) << id << ": " << c.lastRejection;
      EXPECT_TRUE(net.kernel(id).state().has("last-" + id));
    }
    EXPECT_EQ(net.hostErrors(), 0u);
  }
}
