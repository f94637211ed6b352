// State sync between kernels: a late joiner gets everything, a reconnecting
// node gets only what it missed, a transaction arrives whole, and a value
// too big for one channel message travels in fragments.
#include <gtest/gtest.h>

#include <cstdio>

#include "support/simulated_network.h"
#include "support/peer_view.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

std::string numbered(const char* prefix, int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%04d", prefix, i);
  return buf;
}

// A value of about 60 bytes.
std::string valueFor(int i) { return "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(40, 'p') + "\"}"; }

struct SeenSync {
  std::string from, to;
  size_t bytes;
  wire::SyncResponse response;
};

// Records every SyncResponse that crosses the network.
void recordSyncResponses(SimulatedNetwork& net, std::vector<SeenSync>* out) {
  net.onFrameSent = [out](const std::string& from, const std::string& to, const std::vector<uint8_t>& bytes) {
    wire::Decoded d = wire::decode(bytes);
    ASSERT_TRUE(d.frame.has_value()) << "kernels send only valid frames";
    ASSERT_FALSE(std::holds_alternative<wire::Fragment>(*d.frame)) << "these sync frames fit one message";
    if (auto* s = std::get_if<wire::SyncResponse>(&*d.frame)) out->push_back({from, to, bytes.size(), *s});
  };
}

bool sameState(SimulatedNetwork& net, const std::string& a, const std::string& b) {
  const ReplicatedMap& x = net.kernel(a).state();
  const ReplicatedMap& y = net.kernel(b).state();
  return x.size() == y.size() && x.tombstones() == y.tombstones() && contents(x) == contents(y);
}

}  // namespace

TEST(LateJoiner, ReceivesEverythingWrittenBeforeItExisted) {
  SimulatedNetwork net;
  net.addNode("a");
  ASSERT_TRUE(net.write("a", "written-before-start", "true").ok);
  net.start("a");
  net.runFor(5000);
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(net.write("a", numbered("k", i), valueFor(i)).ok);
  for (int i = 0; i < 300; i += 10) ASSERT_TRUE(net.remove("a", numbered("k", i)).ok);
  std::vector<Operation> batch;
  for (int i = 1; i < 300; i += 7) batch.emplace_back(numbered("k", i), "\"rewritten\"");
  ASSERT_TRUE(net.commit("a", batch).ok);
  net.runFor(10000);
  // 300 keys, 30 deleted, 4 of those (50, 120, 190, 260) written again by
  // the batch, and the one written before start.
  const size_t expected = 1 + 300 - 30 + 4;
  ASSERT_EQ(net.kernel("a").state().size(), expected);

  // b did not exist while any of that happened.
  net.addNode("b");
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh() && sameState(net, "a", "b"); }, net.now() + 10000));
  EXPECT_EQ(net.kernel("b").state().size(), expected);
  EXPECT_EQ(contents(net.kernel("b").state()), contents(net.kernel("a").state()));
  EXPECT_FALSE(net.kernel("b").state().has(numbered("k", 0))) << "deletes reach the late joiner too";
  ASSERT_TRUE(net.kernel("b").state().has(numbered("k", 8)));
  EXPECT_EQ(*net.kernel("b").state().get(numbered("k", 8)), "\"rewritten\"");
  for (const auto& [at, changed] : net.outputs<StateChanged>("b")) EXPECT_EQ(changed.origin, "a");

  // c arrives after a has gone: b, itself a late joiner, passes it all on.
  net.crash("a", CrashMode::ClosesChannels);
  net.runFor(1000);
  net.addNode("c");
  net.start("c");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh() && sameState(net, "b", "c"); }, net.now() + 10000));
  EXPECT_EQ(net.kernel("c").state().size(), expected);
}

TEST(DeltaSync, ReconnectingNodeReceivesOnlyWhatItMissed) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  for (int batch = 0; batch < 20; ++batch) {
    std::vector<Operation> ops;
    for (int i = 0; i < 50; ++i) ops.emplace_back(numbered("key", batch * 50 + i), valueFor(batch * 50 + i));
    ASSERT_TRUE(net.commit("a", ops).ok);
    net.runFor(20);
  }
  ASSERT_TRUE(net.runUntil([&] { return sameState(net, "a", "b"); }, net.now() + 5000));
  ASSERT_EQ(net.kernel("b").state().size(), 1000u);
  const size_t fullBytes =
      wire::encode(wire::SyncResponse{net.kernel("a").state().stateVector(), net.kernel("a").state().writesMissingFrom({})})
          .size();

  // b goes away; K writes happen without it: new keys, overwrites, a delete.
  net.stop("b");
  net.runFor(1000);
  ASSERT_EQ(net.kernel("a").connectedPeerCount(), 0u);
  const size_t K = 10;
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(net.write("a", numbered("new", i), valueFor(i)).ok);
  ASSERT_TRUE(net.write("a", numbered("key", 3), "\"changed\"").ok);
  ASSERT_TRUE(net.write("a", numbered("key", 500), "\"changed\"").ok);
  ASSERT_TRUE(net.remove("a", numbered("key", 999)).ok);
  net.runFor(1000);

  std::vector<SeenSync> syncs;
  recordSyncResponses(net, &syncs);
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh() && sameState(net, "a", "b"); }, net.now() + 10000));
  net.runFor(2000);

  std::vector<SeenSync> toB, toA;
  for (const SeenSync& s : syncs) (s.to == "b" ? toB : toA).push_back(s);
  ASSERT_EQ(toB.size(), 1u) << "one sync on reconnect";
  EXPECT_EQ(toB[0].response.writes.size(), K) << "exactly the writes b missed";
  EXPECT_LT(toB[0].bytes * 20, fullBytes) << toB[0].bytes << " bytes against " << fullBytes << " for the full state";
  EXPECT_LE(toB[0].bytes, K * 120 + 64) << "proportional to the writes, not the state";
  ASSERT_EQ(toA.size(), 1u);
  EXPECT_TRUE(toA[0].response.writes.empty()) << "b has nothing a lacks";

  EXPECT_EQ(net.kernel("b").state().size(), 1006u);
  EXPECT_EQ(*net.kernel("b").state().get(numbered("key", 500)), "\"changed\"");
  EXPECT_FALSE(net.kernel("b").state().has(numbered("key", 999)));
}

TEST(DeltaSync, ThirdPartyWritesAreIncludedButNothingElse) {
  // c is away while a and b each write; on its return each of them sends c
  // what c lacks, which is both their writes, and nothing older.
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(net.write(i % 2 ? "a" : "b", numbered("key", i), valueFor(i)).ok);
  ASSERT_TRUE(net.runUntil([&] { return sameState(net, "a", "c") && sameState(net, "b", "c"); }, net.now() + 5000));
  const size_t fullBytes =
      wire::encode(wire::SyncResponse{{}, net.kernel("a").state().writesMissingFrom({})}).size();

  net.stop("c");
  net.runFor(1000);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(net.write("a", numbered("from-a", i), "1").ok);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(net.write("b", numbered("from-b", i), "2").ok);
  net.runFor(1000);

  std::vector<SeenSync> syncs;
  recordSyncResponses(net, &syncs);
  net.start("c");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh() && sameState(net, "a", "c"); }, net.now() + 10000));
  net.runFor(2000);
  size_t toC = 0;
  for (const SeenSync& s : syncs) {
    if (s.to != "c") {
      EXPECT_TRUE(s.response.writes.empty()) << s.to << " lacks nothing";
      continue;
    }
    ++toC;
    SCOPED_TRACE("from " + s.from);
    EXPECT_EQ(s.response.writes.size(), 8u);
    EXPECT_LT(s.bytes * 20, fullBytes);
  }
  EXPECT_EQ(toC, 2u);
  EXPECT_EQ(net.kernel("c").state().size(), 508u);
}

TEST(AtomicBatch, ArrivesAsOneStateChanged) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  ASSERT_TRUE(net.write("a", "gone", "0").ok);
  ASSERT_TRUE(net.write("a", "same", "\"s\"").ok);
  net.runFor(500);
  std::map<std::string, size_t> before;
  for (const char* id : {"a", "b", "c"}) before[id] = net.outputs<StateChanged>(id).size();

  ASSERT_TRUE(net.commit("a", {{"x", "1"},
                               {"y", "{\"deep\":[1,2]}"},
                               {"gone", std::nullopt},
                               {"z", "\"zed\""},
                               {"x", "2"}})  // a later op on the same key replaces the earlier
                  .ok);
  net.runFor(500);

  const std::map<std::string, std::optional<std::string>> expected = {
      {"x", "2"}, {"y", "{\"deep\":[1,2]}"}, {"gone", std::nullopt}, {"z", "\"zed\""}};
  for (const char* id : {"a", "b", "c"}) {
    SCOPED_TRACE(id);
    auto all = net.outputs<StateChanged>(id);
    ASSERT_EQ(all.size(), before[id] + 1) << "the whole batch in one StateChanged";
    const StateChanged& changed = all.back().second;
    EXPECT_EQ(changed.origin, std::string(id) == "a" ? "" : "a");
    std::map<std::string, std::optional<std::string>> got;
    for (const KeyChange& c : changed.changes) EXPECT_TRUE(got.emplace(c.key, c.value).second) << "key twice: " << c.key;
    EXPECT_EQ(got, expected);
  }

  // A batch too big for one channel message still lands as one event.
  std::vector<Operation> big;
  for (int i = 0; i < 400; ++i) big.emplace_back(numbered("bulk", i), valueFor(i) + std::string(200, ' '));
  for (const char* id : {"a", "b", "c"}) before[id] = net.outputs<StateChanged>(id).size();
  ASSERT_TRUE(net.commit("a", big).ok);
  net.runFor(1000);
  for (const char* id : {"b", "c"}) {
    SCOPED_TRACE(id);
    auto all = net.outputs<StateChanged>(id);
    ASSERT_EQ(all.size(), before[id] + 1);
    EXPECT_EQ(all.back().second.changes.size(), 400u);
  }
  EXPECT_EQ(net.oversizeFrames(), 0u);
}

TEST(LargeValues, OneMegabyteValueTravelsInFragments) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  Rng rng(3);
  std::string value = "\"";
  for (int i = 0; i < (1 << 20); ++i) value.push_back(static_cast<char>('A' + rng.below(26)));
  value.push_back('"');
  size_t framesBefore = pcsim::peerOf(net.kernel("a"), "b")->stats.framesOut;
  ASSERT_TRUE(net.write("a", "blob", value).ok);
  net.runFor(1000);
  ASSERT_TRUE(net.kernel("b").state().has("blob"));
  EXPECT_EQ(*net.kernel("b").state().get("blob"), value);
  EXPECT_GE(pcsim::peerOf(net.kernel("a"), "b")->stats.framesOut - framesBefore, 16u) << "sent as fragments";
  EXPECT_EQ(net.oversizeFrames(), 0u) << "no channel message above maxChannelMessageBytes";
  EXPECT_EQ(net.kernel("b").counters().rejectedFrames, 0u);

  // And to a late joiner, inside a SyncResponse.
  net.addNode("c");
  net.start("c");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh() && net.kernel("c").state().has("blob"); }, net.now() + 5000));
  EXPECT_EQ(*net.kernel("c").state().get("blob"), value);
  EXPECT_EQ(net.oversizeFrames(), 0u);
}

TEST(DeltaSync, AWriteWhoseWriterLeftBeforeReconnectingStillReachesEveryone) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"r", "t", "w"}));
  net.runFor(2000);
  // w's channel to t breaks; w writes while it is down, so only r gets the
  // update; then w's page closes before it could reconnect to t. t and r
  // stay connected throughout: no handshake between them asks for a sync.
  net.breakConnection("t", "w");
  net.runFor(20);
  ASSERT_EQ(net.kernel("w").connectedPeerCount(), 1u);
  ASSERT_TRUE(net.write("w", "k", "\"from w\"").ok);
  net.runFor(15);
  ASSERT_TRUE(net.kernel("r").state().has("k"));
  net.crash("w", CrashMode::ClosesChannels);
  net.runFor(5000);

  ASSERT_TRUE(net.kernel("t").state().has("k")) << "r's state vector showed t what it lacked";
  EXPECT_EQ(*net.kernel("t").state().get("k"), "\"from w\"");
  auto changes = net.outputs<StateChanged>("t");
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().second.origin, "r");
  EXPECT_TRUE(net.meshAmong({"r", "t"}));
  EXPECT_EQ(net.kernel("t").counters().rejectedFrames, 0u);
}

// A vector may stay ahead of ours for good: a peer covers a writer whose
// writes were all overwritten before we joined, and we take no coverage on
// trust for a writer we never saw. That must not make us ask again and
// again; differences are found by fingerprints, and an idle pair goes quiet.
TEST(DeltaSync, AVectorThatStaysAheadIsAskedAboutOnceAndThenTheLinkIsQuiet) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "c"}));
  ASSERT_TRUE(net.write("c", "k", "\"by c\"").ok);
  net.runFor(500);
  ASSERT_TRUE(net.write("a", "k", "\"by a\"").ok);
  net.runFor(500);
  net.crash("c", CrashMode::ClosesChannels);
  net.addNode("b");
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.meshAmong({"a", "b"}); }, net.now() + 5000));
  net.runFor(3000);
  auto requests = [&] {
    size_t n = 0;
    for (const auto& [at, send] : net.outputs<SendData>("b")) {
      wire::Decoded d = wire::decode(send.bytes);
      n += d.frame && std::holds_alternative<wire::SyncRequest>(*d.frame);
    }
    return n;
  };
  const size_t settled = requests();
  EXPECT_EQ(settled, 1u) << "the handshake's";
  // a's state changes every few seconds; each change reaches b as an Update
  // and a's new fingerprint, never as a reason to sync again.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(net.write("a", "tick", std::to_string(i)).ok);
    net.runFor(3000);
  }
  EXPECT_EQ(requests(), settled) << "no sync asked again";
  const size_t framesBefore = net.outputs<SendData>("b").size();
  net.runFor(30'000);
  // At idle only pings and pongs flow (one each way a second).
  EXPECT_LE(net.outputs<SendData>("b").size() - framesBefore, 62u);
  EXPECT_EQ(contents(net.kernel("b").state()), contents(net.kernel("a").state()));
  EXPECT_EQ(net.kernel("b").state().root(), net.kernel("a").state().root());
}
