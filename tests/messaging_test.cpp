// Application messages: sendToPeer and broadcast reach connected peers as
// MessageReceived, and are refused when they cannot be delivered.
#include <gtest/gtest.h>

#include "support/simulated_network.h"

using namespace pc;
using namespace pcsim;

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
  EXPECT_EQ(net.kernel("b").peers().find("a")->stats.messagesIn, 1u);
  EXPECT_EQ(net.kernel("a").peers().find("b")->stats.messagesOut, 1u);
  EXPECT_EQ(net.kernel("c").peers().find("a")->stats.messagesOut, 1u);
  EXPECT_EQ(net.kernel("c").peers().find("b")->stats.messagesOut, 1u);
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
