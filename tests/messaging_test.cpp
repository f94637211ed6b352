// Application messages: sendToPeer and broadcast reach connected peers as
// MessageReceived, and are refused when they cannot be delivered. Binary
// messages arrive byte for byte; unreliable ones arrive when their channel
// delivers them, must fit one channel message, and that channel carries
// nothing but messages.
#include <gtest/gtest.h>

#include <set>

#include "support/simulated_network.h"
#include "support/peer_view.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

Result sendMessage(SimulatedNetwork& net, const std::string& from, const std::string& to, const std::string& payload,
                   MessageKind kind) {
  return net.input(from, [&](NodeKernel& k, Millis now) { return k.sendMessage(to, payload, kind, now); });
}

Result broadcastMessage(SimulatedNetwork& net, const std::string& from, const std::string& payload, MessageKind kind) {
  return net.input(from, [&](NodeKernel& k, Millis now) { return k.broadcastMessage(payload, kind, now); });
}

// Bytes of every value, zeros included, then pseudo-random ones.
std::string binaryPayload(size_t size, uint64_t seed) {
  std::string out;
  Rng rng(seed);
  for (size_t i = 0; i < size; ++i) out += static_cast<char>(i < 1024 ? i % 256 : rng.next() & 0xFF);
  return out;
}

constexpr MessageKind kBinary{true, true};
constexpr MessageKind kUnreliable{false, false};
constexpr MessageKind kUnreliableBinary{true, false};

}  // namespace

TEST(Messaging, SendToPeerAndBroadcast) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));

  auto send = [&](const std::string& from, const std::string& to, const std::string& json) {
    return net.input(from, [&](NodeKernel& k, Millis now) { return k.sendToPeer(to, json, now); });
  };
  auto broadcast = [&](const std::string& from, const std::string& json) {
    return net.input(from, [&](NodeKernel& k, Millis now) { return k.broadcast(json, now); });
  };
  ASSERT_TRUE(send("a", "b", R"({"to":"b"})").ok);
  ASSERT_TRUE(broadcast("c", R"(["all"])").ok);
  net.runFor(500);

  auto atB = net.outputs<MessageReceived>("b");
  ASSERT_EQ(atB.size(), 2u);
  EXPECT_EQ(atB[0].second.peerId, "a");
  EXPECT_EQ(atB[0].second.payload, R"({"to":"b"})");
  EXPECT_EQ(atB[1].second.peerId, "c");
  EXPECT_EQ(atB[1].second.payload, R"(["all"])");
  auto atA = net.outputs<MessageReceived>("a");
  ASSERT_EQ(atA.size(), 1u);
  EXPECT_EQ(atA[0].second.peerId, "c");
  EXPECT_TRUE(net.outputs<MessageReceived>("c").empty()) << "a broadcast does not come back";
  EXPECT_EQ(pcsim::peerOf(net.kernel("b"), "a")->stats.messagesIn, 1u);
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->stats.messagesOut, 1u);
  EXPECT_EQ(pcsim::peerOf(net.kernel("c"), "a")->stats.messagesOut, 1u);
  EXPECT_EQ(pcsim::peerOf(net.kernel("c"), "b")->stats.messagesOut, 1u);
  EXPECT_EQ(net.kernel("a").state().size(), 0u) << "messages are not state";

  EXPECT_FALSE(send("a", "nobody", "1").ok);
  EXPECT_FALSE(send("a", "b", "{not json").ok);
  EXPECT_FALSE(broadcast("a", "").ok);
  net.stop("a");
  EXPECT_FALSE(send("a", "b", "1").ok) << "a stopped node sends nothing";
  EXPECT_FALSE(broadcast("a", "1").ok);
  net.runFor(500);
  EXPECT_EQ(net.outputs<MessageReceived>("b").size(), 2u);
}

TEST(Messaging, BinaryMessagesArriveByteExact) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  size_t fragments = 0;
  net.onFrameSent = [&](const std::string&, const std::string&, const std::vector<uint8_t>& bytes) {
    wire::Decoded d = wire::decode(bytes);
    fragments += d.frame && std::holds_alternative<wire::Fragment>(*d.frame);
  };

  const std::string small = binaryPayload(1024, 1);  // every byte value, four times
  const std::string zeros(100, '\0');
  const std::string big = binaryPayload(1 << 20, 2);  // 1 MiB: travels in fragments
  ASSERT_TRUE(sendMessage(net, "a", "b", small, kBinary).ok);
  ASSERT_TRUE(sendMessage(net, "a", "b", zeros, kBinary).ok);
  ASSERT_TRUE(sendMessage(net, "a", "b", "", kBinary).ok);
  ASSERT_TRUE(sendMessage(net, "a", "b", "{not json", kBinary).ok) << "binary payloads are not checked as JSON";
  ASSERT_TRUE(sendMessage(net, "a", "b", "[1]", MessageKind{}).ok);
  ASSERT_TRUE(broadcastMessage(net, "a", big, kBinary).ok);
  net.runFor(5000);

  auto atB = net.outputs<MessageReceived>("b");
  ASSERT_EQ(atB.size(), 6u);
  const std::vector<std::pair<std::string, bool>> expected = {
      {small, true}, {zeros, true}, {"", true}, {"{not json", true}, {"[1]", false}, {big, true}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(atB[i].second.peerId, "a");
    EXPECT_EQ(atB[i].second.binary, expected[i].second) << i;
    EXPECT_EQ(atB[i].second.payload.size(), expected[i].first.size()) << i;
    EXPECT_TRUE(atB[i].second.payload == expected[i].first) << "message " << i << " differs";
  }
  auto atC = net.outputs<MessageReceived>("c");
  ASSERT_EQ(atC.size(), 1u);
  EXPECT_TRUE(atC[0].second.binary);
  EXPECT_TRUE(atC[0].second.payload == big);
  EXPECT_GE(fragments, 2 * (big.size() / net.kernel("a").config().maxChannelMessageBytes));
  EXPECT_EQ(net.oversizeFrames(), 0u);
  EXPECT_EQ(net.kernel("b").counters().rejectedFrames, 0u);
  EXPECT_EQ(pcsim::peerOf(net.kernel("b"), "a")->stats.messagesIn, 6u);
}

TEST(Messaging, UnreliableMessagesArriveWhenTheChannelDeliversThem) {
  NetworkOptions o;
  o.seed = 5;
  o.unreliableDelayMin = 1;
  o.unreliableDelayMax = 150;
  o.unreliableLoss = 0.3;
  SimulatedNetwork net(o);
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  const size_t sent = 200;
  for (size_t i = 0; i < sent; ++i) {
    MessageKind kind = i % 2 ? kUnreliableBinary : kUnreliable;
    std::string payload = i % 2 ? std::string("\0bin", 4) + std::to_string(i) : std::to_string(i);
    ASSERT_TRUE(sendMessage(net, "a", "b", payload, kind).ok);
    net.runFor(3);
  }
  net.runFor(10'000);

  // Every send went once to the unreliable channel, and nothing was sent again.
  size_t unreliableOut = 0;
  for (const auto& [at, d] : net.outputs<SendData>("a")) unreliableOut += d.unreliable;
  EXPECT_EQ(unreliableOut, sent);
  EXPECT_EQ(net.unreliableSent(), sent);
  EXPECT_GT(net.unreliableLost(), 0u);

  std::vector<size_t> order;
  std::set<size_t> distinct;
  for (const auto& [at, m] : net.outputs<MessageReceived>("b")) {
    size_t i = m.binary ? std::stoul(m.payload.substr(4)) : std::stoul(m.payload);
    EXPECT_EQ(m.binary, i % 2 == 1) << i;
    if (m.binary) {
      EXPECT_EQ(m.payload.substr(0, 4), std::string("\0bin", 4));
    }
    order.push_back(i);
    distinct.insert(i);
  }
  EXPECT_EQ(order.size(), net.unreliableDelivered()) << "each delivered message raised one event";
  EXPECT_EQ(order.size(), sent - net.unreliableLost());
  EXPECT_EQ(distinct.size(), order.size()) << "none twice";
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end())) << "some overtook others";
  EXPECT_EQ(net.kernel("b").counters().rejectedFrames, 0u) << net.kernel("b").counters().lastRejection;
  EXPECT_EQ(pcsim::peerOf(net.kernel("b"), "a")->stats.messagesIn, order.size());

  // A lossless unreliable channel delivers everything; broadcasts too.
  NetworkOptions lossless;
  SimulatedNetwork net2(lossless);
  ASSERT_TRUE(net2.startMesh({"a", "b", "c"}));
  ASSERT_TRUE(broadcastMessage(net2, "a", "\"all\"", kUnreliable).ok);
  net2.runFor(100);
  for (const char* id : {"b", "c"}) {
    auto got = net2.outputs<MessageReceived>(id);
    ASSERT_EQ(got.size(), 1u) << id;
    EXPECT_EQ(got[0].second.payload, "\"all\"");
    EXPECT_FALSE(got[0].second.binary);
  }
  EXPECT_FALSE(broadcastMessage(net2, "a", "{not json", kUnreliable).ok);
}

TEST(Messaging, AnUnreliableMessageLargerThanOneChannelMessageFailsClearly) {
  // 16390: the payload's and the body's lengths change width right at the limit.
  for (size_t channel : {size_t{1024}, size_t{16390}, size_t{64 * 1024}}) {
    SimulatedNetwork net;
    NodeConfig config;
    config.maxChannelMessageBytes = channel;
    ASSERT_TRUE(net.startMesh({"a", "b"}, config));

    // The largest binary payload whose frame fits one channel message.
    size_t largest = 0;
    for (size_t n = channel; n > 0; --n) {
      if (wire::encode(wire::BinaryMessage{std::string(n, 'x')}).size() <= channel) {
        largest = n;
        break;
      }
    }
    ASSERT_GT(largest, channel - 16);
    Result tooBig = sendMessage(net, "a", "b", std::string(largest + 1, 'x'), kUnreliableBinary);
    ASSERT_FALSE(tooBig.ok) << channel;
    EXPECT_NE(tooBig.error.find("unreliable"), std::string::npos) << tooBig.error;
    // The error names the limit, and the limit is right: that size goes.
    EXPECT_NE(tooBig.error.find("(" + std::to_string(largest) + " bytes)"), std::string::npos)
        << channel << ": " << tooBig.error;
    EXPECT_FALSE(broadcastMessage(net, "a", std::string(largest + 1, 'x'), kUnreliableBinary).ok);
    EXPECT_FALSE(sendMessage(net, "a", "b", "\"" + std::string(largest - 1, 'j') + "\"", kUnreliable).ok)
        << "JSON text counts the same";
    ASSERT_TRUE(sendMessage(net, "a", "b", std::string(largest, 'y'), kUnreliableBinary).ok) << channel;
    // Reliably, the same oversized payload travels in fragments.
    ASSERT_TRUE(sendMessage(net, "a", "b", std::string(largest + 1, 'z'), kBinary).ok);
    net.runFor(1000);

    auto got = net.outputs<MessageReceived>("b");
    ASSERT_EQ(got.size(), 2u) << "the refused ones were not sent";
    EXPECT_EQ(got[0].second.payload, std::string(largest, 'y'));
    EXPECT_EQ(got[1].second.payload, std::string(largest + 1, 'z'));
    EXPECT_EQ(net.oversizeFrames(), 0u);
  }
}

TEST(Messaging, TheUnreliableChannelCarriesOnlyMessages) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  net.runFor(1000);
  auto deliver = [&](const std::vector<uint8_t>& bytes, bool unreliable) {
    net.input("b", [&](NodeKernel& k, Millis now) { k.handleData("a", bytes.data(), bytes.size(), now, unreliable); });
  };
  const Write evil{"evil", "1", Stamp{1, 0, 1}, 1};
  const std::vector<std::vector<uint8_t>> notMessages = {
      wire::encode(wire::Update{{evil}}),
      wire::encode(wire::SyncResponse{{{1, 1}}, {evil}}),
      wire::encode(wire::SyncRequest{{}}),
      wire::encode(wire::StateAck{{}}),
      wire::encode(wire::Ping{77}),
      wire::encode(wire::Pong{1}),
      wire::encode(wire::Presence{"\"evil\""}),
      wire::encode(wire::Hello{"a", 1, "default", ""}),
      wire::encode(wire::Auth{"proof"}),
      wire::fragment(wire::encode(wire::AppMessage{"\"piece\""}), 9, 4)[0],
  };
  const size_t framesOut = pcsim::peerOf(net.kernel("b"), "a")->stats.framesOut;
  for (const auto& bytes : notMessages) {
    const uint64_t before = net.kernel("b").counters().rejectedFrames;
    deliver(bytes, true);
    EXPECT_EQ(net.kernel("b").counters().rejectedFrames, before + 1);
    EXPECT_NE(net.kernel("b").counters().lastRejection.find("unreliable"), std::string::npos)
        << net.kernel("b").counters().lastRejection;
  }
  EXPECT_FALSE(net.kernel("b").state().has("evil"));
  EXPECT_TRUE(net.outputs<PresenceChanged>("b").empty());
  EXPECT_TRUE(net.outputs<StateChanged>("b").empty());
  EXPECT_EQ(pcsim::peerOf(net.kernel("b"), "a")->stats.framesOut, framesOut) << "no Pong, no SyncResponse";

  // Messages are what it is for; the same frames are fine on the reliable one.
  deliver(wire::encode(wire::AppMessage{"\"ok\""}), true);
  deliver(wire::encode(wire::BinaryMessage{std::string("\0\1", 2)}), true);
  deliver(wire::encode(wire::Presence{"\"fine\""}), false);
  auto got = net.outputs<MessageReceived>("b");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second.payload, "\"ok\"");
  EXPECT_EQ(got[1].second.payload, std::string("\0\1", 2));
  EXPECT_EQ(net.outputs<PresenceChanged>("b").size(), 1u);
  EXPECT_TRUE(net.meshAmong({"a", "b"}));
}

TEST(Messaging, AnUnreliableMessageThatOvertakesTheHandshakeIsLostQuietly) {
  // The unreliable channel is not ordered with the reliable one. b's host is
  // slower at the password proofs, so b verifies a first; a message b sends
  // a at once, unreliably, beats b's Auth to a.
  NetworkOptions o;
  o.unreliableDelayMin = o.unreliableDelayMax = 1;
  SimulatedNetwork net(o);
  NodeConfig c;
  c.sealed = true;
  NodeSetup fast, slow;
  fast.password = slow.password = "pw";
  slow.cryptoDelay = 50;
  net.addNode("a", c, fast);
  net.addNode("b", c, slow);
  net.start("a");
  net.start("b");
  auto connected = [&](const std::string& x, const std::string& y) {
    const std::optional<pcsim::PeerView> p = pcsim::peerOf(net.kernel(x), y);
    return p && p->state == PeerState::Connected;
  };
  ASSERT_TRUE(net.runUntil([&] { return connected("b", "a"); }, 5000));
  ASSERT_FALSE(connected("a", "b")) << "the test needs b to be first";
  ASSERT_TRUE(sendMessage(net, "b", "a", "\"too soon\"", kUnreliable).ok);
  ASSERT_TRUE(net.runUntil([&] { return connected("a", "b"); }, net.now() + 1000));
  ASSERT_EQ(net.unreliableDelivered(), 1u);
  ASSERT_TRUE(sendMessage(net, "b", "a", "\"in time\"", kUnreliable).ok);
  net.runFor(500);

  // Not delivered before a verified b, and not held against b either.
  auto got = net.outputs<MessageReceived>("a");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second.payload, "\"in time\"");
  EXPECT_EQ(net.kernel("a").counters().rejectedFrames, 0u) << net.kernel("a").counters().lastRejection;
  EXPECT_EQ(pcsim::peerOf(net.kernel("a"), "b")->stats.rejected, 0u);
}
