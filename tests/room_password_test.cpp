// Room passwords: the host seals every signal and proves the password on the
// data channel. Nodes with the same password connect and sync; a node with
// another password, or none, never connects and learns nothing; nothing but
// Hello and Auth crosses a channel before both proofs are verified.
#include <gtest/gtest.h>

#include "support/room_nodes.h"
#include "support/peer_view.h"
#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

// Every frame handed to a channel: when, who to whom, and its type.
struct SentFrame {
  Millis at;
  std::string from, to;
  wire::FrameType type;
  wire::Frame frame;
};

void recordFrames(SimulatedNetwork& net, std::vector<SentFrame>* out) {
  net.onFrameSent = [&net, out](const std::string& from, const std::string& to, const std::vector<uint8_t>& bytes) {
    wire::Decoded d = wire::decode(bytes);
    ASSERT_TRUE(d.frame.has_value());
    out->push_back({net.now(), from, to, static_cast<wire::FrameType>(d.frame->index() + 1), *d.frame});
  };
}

// When `id` raised PeerConnected for `peer`; nullopt if it never did.
std::optional<Millis> connectedAt(const SimulatedNetwork& net, const std::string& id, const std::string& peer) {
  for (const auto& [at, c] : net.outputs<PeerConnected>(id))
    if (c.peerId == peer) return at;
  return std::nullopt;
}

// Nothing but Hello and Auth leaves a node for a peer before it has
// verified that peer's proof.
void expectOnlyHandshakeBeforeVerified(const SimulatedNetwork& net, const std::vector<SentFrame>& frames) {
  for (const SentFrame& f : frames) {
    std::optional<Millis> at = connectedAt(net, f.from, f.to);
    bool handshake = f.type == wire::FrameType::Hello || f.type == wire::FrameType::Auth;
    if (!at || f.at < *at) {
      EXPECT_TRUE(handshake) << f.from << " sent frame type " << int(f.type) << " to " << f.to << " at " << f.at
                             << " before verifying it";
    }
  }
}

}  // namespace

TEST(RoomPassword, SamePasswordConnectsAndStateSyncs) {
  SimulatedNetwork net;
  std::vector<SentFrame> frames;
  recordFrames(net, &frames);
  for (const char* id : {"a", "b", "c"}) {
    net.addNode(id, sealedNode(id), withPassword("correct horse"));
    ASSERT_TRUE(net.write(id, std::string("from-") + id, "1").ok);
    net.start(id);
  }
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, 10'000));
  net.runFor(500);

  for (const char* id : {"a", "b", "c"}) {
    EXPECT_EQ(net.kernel(id).state().size(), 3u) << id;
    EXPECT_EQ(net.kernel(id).counters().rejectedSignals, 0u) << net.kernel(id).counters().lastRejection;
    EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << net.kernel(id).counters().lastRejection;
    for (const auto& p : net.kernel(id).describePeers()) EXPECT_TRUE(p["passwordVerified"].get<bool>());
    // No signal leaves unsealed.
    for (const auto& [at, s] : net.routeOutputs<RouteSend>(id, kBroadcastRoute)) EXPECT_EQ(s.text.rfind("sealed1.", 0), 0u) << s.text;
    EXPECT_EQ(net.outputs<AuthenticatePeer>(id).size(), 2u) << "one proof request per peer";
  }
  // Each Hello carried a 16-byte challenge and each side sent one Auth.
  size_t hellos = 0, auths = 0;
  for (const SentFrame& f : frames) {
    if (auto* h = std::get_if<wire::Hello>(&f.frame)) {
      ++hellos;
      EXPECT_EQ(h->challenge.size(), 16u);
    }
    auths += f.type == wire::FrameType::Auth;
  }
  EXPECT_EQ(hellos, 6u);
  EXPECT_EQ(auths, 6u);
  expectOnlyHandshakeBeforeVerified(net, frames);

  ASSERT_TRUE(net.write("a", "later", "\"x\"").ok);
  net.runFor(200);
  EXPECT_EQ(valueAt(net, "c", "later"), std::optional<std::string>("\"x\""));
}

TEST(RoomPassword, SamePasswordConnectsThroughTheServer) {
  SimulatedNetwork net;
  net.addServer();
  for (const char* id : {"a", "b", "c"}) join(net, id, sealedViaServer(net, id), withPassword("pw", id));
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b", "c"}); }, 10'000));
  ASSERT_TRUE(net.write("b", "k", "2").ok);
  net.runFor(200);
  EXPECT_EQ(valueAt(net, "a", "k"), std::optional<std::string>("2"));
  EXPECT_EQ(valueAt(net, "c", "k"), std::optional<std::string>("2"));
  // The server relays only sealed envelopes.
  size_t relayed = 0;
  for (const char* id : {"a", "b", "c"}) {
    for (const auto& [at, s] : net.routeOutputs<RouteSend>(id, kPeerServerRoute)) {
      nlohmann::json m = nlohmann::json::parse(s.text);
      if (m["type"] == "HEARTBEAT") continue;
      ++relayed;
      EXPECT_EQ(m["payload"].get<std::string>().rfind("sealed1.", 0), 0u) << s.text;
    }
    EXPECT_EQ(net.kernel(id).counters().rejectedSignals, 0u) << net.kernel(id).counters().lastRejection;
  }
  EXPECT_GT(relayed, 0u);
}

TEST(RoomPassword, AWrongPasswordNeverConnectsAndLearnsNothing) {
  SimulatedNetwork net;
  net.addServer();
  std::vector<SentFrame> frames;
  recordFrames(net, &frames);
  // x shares the browser and even the server tag, but not the password.
  for (const char* id : {"a", "b"}) {
    net.addNode(id, sealedViaServer(net, id), withPassword("right"));
    ASSERT_TRUE(net.write(id, std::string("secret-") + id, "1").ok);
    net.start(id);
  }
  net.addNode("x", sealedViaServer(net, "x"), withPassword("wrong"));
  ASSERT_TRUE(net.write("x", "x-key", "1").ok);
  net.start("x");
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000));
  ASSERT_TRUE(net.input("a", [](NodeKernel& k, Millis now) { return k.broadcast("\"hello room\"", now); }).ok);
  ASSERT_TRUE(net.write("b", "secret-later", "2").ok);
  net.runFor(30'000);

  const NodeKernel& x = net.kernel("x");
  EXPECT_EQ(x.knownPeerCount(), 0u);
  EXPECT_TRUE(net.outputs<OpenConnection>("x").empty());
  EXPECT_TRUE(net.outputs<PeerConnected>("x").empty());
  EXPECT_TRUE(net.outputs<MessageReceived>("x").empty());
  for (const auto& [at, s] : net.outputs<StateChanged>("x")) EXPECT_EQ(s.origin, "") << "only x's own write";
  EXPECT_EQ(contents(x.state()), (std::map<std::string, std::string>{{"x-key", "1"}}));
  EXPECT_GT(x.counters().rejectedSignals, 0u);
  EXPECT_NE(x.counters().lastRejection.find("decrypt"), std::string::npos) << x.counters().lastRejection;
  for (const char* id : {"a", "b"}) {
    EXPECT_EQ(pcsim::peerOf(net.kernel(id), "x"), std::nullopt) << id;
    EXPECT_GT(net.kernel(id).counters().rejectedSignals, 0u) << id << " saw x's signals and refused them";
    EXPECT_FALSE(net.kernel(id).state().has("x-key")) << id;
    for (const auto& [at, s] : net.outputs<StateChanged>(id)) EXPECT_NE(s.origin, "x");
    for (const auto& [at, o] : net.outputs<OpenConnection>(id)) EXPECT_NE(o.peerId, "x");
  }
  for (const SentFrame& f : frames) EXPECT_TRUE(f.from != "x" && f.to != "x");
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
  EXPECT_TRUE(net.kernel("a").state().has("secret-later"));
}

TEST(RoomPassword, ANodeWithoutAPasswordNeverConnectsToOneWith) {
  SimulatedNetwork net;
  net.addServer();
  join(net, "a", sealedViaServer(net, "a"), withPassword("pw"));
  NodeConfig open;
  open.nodeId = "p";
  open.roomTag = kRoomTag;
  open.peerServer = net.serverConfig(0, "token-p");
  net.addNode("p", open);
  ASSERT_TRUE(net.write("p", "open-key", "1").ok);
  net.start("p");
  ASSERT_TRUE(net.write("a", "sealed-key", "1").ok);
  net.runFor(30'000);

  for (const char* id : {"a", "p"}) {
    EXPECT_EQ(net.kernel(id).knownPeerCount(), 0u) << id;
    EXPECT_TRUE(net.outputs<OpenConnection>(id).empty()) << id;
    EXPECT_EQ(net.kernel(id).state().size(), 1u) << id;
    EXPECT_GT(net.kernel(id).counters().rejectedSignals, 0u) << id;
  }
  EXPECT_EQ(net.openConnections(), 0u);
}

TEST(RoomPassword, AuthArrivingBeforeTheHostsProofsIsHandled) {
  // One side's host is slow (WebCrypto under load): the peer's Auth reaches
  // it before its own proofs. Try it on either side of the dial.
  for (const char* slow : {"a", "b"}) {
    SimulatedNetwork net;
    std::vector<SentFrame> frames;
    recordFrames(net, &frames);
    const std::string fast = std::string(slow) == "a" ? "b" : "a";
    NodeSetup slowSetup = withPassword("pw");
    slowSetup.cryptoDelay = 400;
    net.addNode(slow, sealedNode(slow), slowSetup);
    net.addNode(fast, sealedNode(fast), withPassword("pw"));
    for (const std::string id : {"a", "b"}) {
      ASSERT_TRUE(net.write(id, "from-" + id, "1").ok);
      ASSERT_TRUE(net.input(id, [&](NodeKernel& k, Millis now) { return k.setPresence("\"" + id + "\"", now); }).ok);
      net.start(id);
    }
    ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, 10'000)) << "slow " << slow;
    net.runFor(500);

    auto requests = net.outputs<AuthenticatePeer>(slow);
    ASSERT_EQ(requests.size(), 1u);
    const Millis proofsAt = requests[0].first + 400;
    std::optional<Millis> fastAuthAt, slowAuthAt;
    for (const SentFrame& f : frames) {
      if (f.from == fast && f.type == wire::FrameType::Auth) fastAuthAt = f.at;
      if (f.from == slow && f.type == wire::FrameType::Auth) slowAuthAt = f.at;
    }
    ASSERT_TRUE(fastAuthAt && slowAuthAt);
    if (fast == "a") {
      // The dialer proves first: its Auth reaches the slow side before its proofs.
      EXPECT_LT(*fastAuthAt + 10, proofsAt) << "the fast side's Auth arrived first";
    } else {
      // The fast side answers: it proves only after the slow dialer's proof
      // arrived and checked out, however early its own proofs were ready.
      EXPECT_GE(*slowAuthAt, proofsAt);
      EXPECT_GT(*fastAuthAt, *slowAuthAt);
    }
    EXPECT_GE(*connectedAt(net, slow, fast), proofsAt);

    for (const char* id : {"a", "b"}) {
      EXPECT_EQ(net.kernel(id).state().size(), 2u) << "slow " << slow << ", at " << id;
      EXPECT_EQ(net.kernel(id).counters().rejectedFrames, 0u) << net.kernel(id).counters().lastRejection;
      EXPECT_EQ(net.outputs<PresenceChanged>(id).size(), 1u) << "slow " << slow << ", at " << id;
    }
    expectOnlyHandshakeBeforeVerified(net, frames);
    // Nor does anything from a peer show before it is verified.
    for (const char* id : {"a", "b"}) {
      for (const auto& [at, s] : net.outputs<StateChanged>(id)) {
        if (!s.origin.empty()) {
          EXPECT_GE(at, *connectedAt(net, id, s.origin));
        }
      }
    }
  }
}

// m unseals the signals (same password) but its proofs come from another
// key. Whichever side dials, nothing flows; and a node hands its own proof
// (which could be attacked offline) only to a peer whose proof checked out.
TEST(RoomPassword, APeerThatSendsABadProofIsDropped) {
  for (const std::string m : {"0m", "zm"}) {  // m dials a and b; a and b dial m
    SCOPED_TRACE(m);
    SimulatedNetwork net;
    std::vector<SentFrame> frames;
    recordFrames(net, &frames);
    NodeSetup bad = withPassword("pw");
    bad.proofPassword = "not-pw";
    for (const char* id : {"a", "b"}) {
      net.addNode(id, sealedNode(id), withPassword("pw"));
      ASSERT_TRUE(net.write(id, std::string("k-") + id, "1").ok);
      net.start(id);
    }
    net.addNode(m, sealedNode(m), bad);
    ASSERT_TRUE(net.write(m, "k-m", "1").ok);
    net.start(m);
    net.runFor(20'000);

    EXPECT_TRUE(net.meshAmong({"a", "b"}));
    for (const char* id : {"a", "b"}) {
      const NodeKernel& k = net.kernel(id);
      EXPECT_FALSE(connectedAt(net, id, m)) << id;
      EXPECT_FALSE(k.state().has("k-m")) << id;
      size_t closes = 0;
      for (const auto& [at, c] : net.outputs<CloseConnection>(id)) closes += c.peerId == m;
      EXPECT_GT(closes, 0u) << id << " closed the connection to m";
      const std::optional<pcsim::PeerView> p = pcsim::peerOf(k, m);
      EXPECT_TRUE(!p || p->state != PeerState::Connected);
      if (m == "0m") {
        // m dialed: its proof came first and was found wrong.
        EXPECT_GT(k.counters().rejectedFrames, 0u) << id;
        EXPECT_NE(k.counters().lastRejection.find("wrong password proof"), std::string::npos) << k.counters().lastRejection;
        for (const SentFrame& f : frames)
          EXPECT_FALSE(f.from == id && f.to == m && f.type == wire::FrameType::Auth) << id << " proved itself to m";
      }
    }
    EXPECT_TRUE(net.outputs<PeerConnected>(m).empty());
    EXPECT_EQ(contents(net.kernel(m).state()), (std::map<std::string, std::string>{{"k-m", "1"}}));
  }
}
