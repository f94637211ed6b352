// No peer can stop an honest replica's writes from reaching another honest
// replica, or split the state: forged replica ids, inflated vectors, forged
// or replayed sequence numbers, far-future stamps, wrapped counters and
// equivocated writes are refused or made harmless (PROTOCOL.md, "Threat
// model"). The malicious peer m is an ordinary node whose channel is used to
// hand its neighbours frames of the attacker's making.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

void deliver(SimulatedNetwork& net, const std::string& to, const std::string& from, const wire::Frame& frame) {
  std::vector<uint8_t> bytes = wire::encode(frame);
  net.input(to, [&](NodeKernel& k, Millis now) { k.handleData(from, bytes.data(), bytes.size(), now); });
}

uint64_t replicaOf(SimulatedNetwork& net, const std::string& id) { return net.kernel(id).config().replicaId; }

uint64_t vectorEntry(SimulatedNetwork& net, const std::string& id, uint64_t replica) {
  StateVector v = net.kernel(id).state().stateVector();
  return v.count(replica) ? v.at(replica) : 0;
}

bool allEqual(SimulatedNetwork& net, const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (contents(net.kernel(id).state()) != contents(net.kernel(ids[0]).state())) return false;
  return true;
}

}  // namespace

// Finding 2: a SyncResponse claiming that b has reached 10^15 made a skip
// b's writes in every later sync, and a newcomer inherited the claim.
TEST(Integrity, AnInflatedVectorClaimIsCappedAtWhatTheNodeHasSeen) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.write("b", "b" + std::to_string(i), "1").ok);
  net.runFor(500);
  const uint64_t b = replicaOf(net, "b");
  ASSERT_EQ(vectorEntry(net, "a", b), 3u);

  net.stop("b");
  net.runFor(500);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.write("b", "offline" + std::to_string(i), "2").ok);

  const uint64_t inflated = 1'000'000'000'000'000ULL;
  deliver(net, "a", "m", wire::SyncResponse{{{b, inflated}}, {}});
  EXPECT_EQ(vectorEntry(net, "a", b), 3u) << "a never believes b wrote more than a has seen";

  // A newcomer that syncs from a inherits nothing false either.
  net.addNode("c");
  net.start("c");
  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, net.now() + 10'000));
  ASSERT_TRUE(net.runUntil([&] { return allEqual(net, {"a", "b", "c", "m"}); }, net.now() + 30'000));
  for (const std::string id : {"a", "c"}) {
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(net.kernel(id).state().has("offline" + std::to_string(i))) << id;
    EXPECT_LE(vectorEntry(net, id, b), 6u) << id;
  }
}

// The same attack, first inflating what a has "seen" with a forged write
// under b's id: the vectors are fooled, and anti-entropy still repairs it.
TEST(Integrity, APoisonedVectorCannotHideAnHonestReplicasWrites) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  ASSERT_TRUE(net.write("b", "b0", "1").ok);
  net.runFor(500);
  const uint64_t b = replicaOf(net, "b");

  net.stop("b");
  net.runFor(500);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(net.write("b", "offline" + std::to_string(i), "2").ok);

  const uint64_t inflated = 1'000'000'000'000'000ULL;
  Stamp stamp = net.kernel("a").state().stateVector().empty() ? Stamp{} : Stamp{};
  stamp = Stamp{static_cast<uint64_t>(net.now()), 0, b};
  deliver(net, "a", "m", wire::Update{{Write{"junk", "0", stamp, inflated}}});
  deliver(net, "a", "m", wire::SyncResponse{{{b, inflated}}, {}});
  ASSERT_EQ(vectorEntry(net, "a", b), inflated) << "the vectors are poisoned";

  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, net.now() + 10'000));
  EXPECT_TRUE(net.runUntil([&] { return allEqual(net, {"a", "b", "m"}); }, net.now() + 30'000));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(net.kernel("a").state().has("offline" + std::to_string(i)));
  EXPECT_GT(net.kernel("a").counters().repairedWrites + net.kernel("b").counters().repairedWrites, 0u)
      << "anti-entropy, not the vectors, brought them";
  EXPECT_EQ(net.kernel("a").state().root(), net.kernel("b").state().root());
}

// Finding 3: m writes under b's replica id with b's next sequence number.
// b's real write of that number must still reach a, and the forged one,
// which nothing can tell from b's own, is one more write like any other.
TEST(Integrity, AForgedWriteUnderAnotherReplicasIdSuppressesNothing) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  ASSERT_TRUE(net.write("b", "b0", "1").ok);
  net.runFor(500);
  const uint64_t b = replicaOf(net, "b");
  const uint64_t next = vectorEntry(net, "b", b) + 1;

  net.stop("b");
  net.runFor(500);
  ASSERT_TRUE(net.write("b", "real", "\"b wrote this\"").ok);  // seq `next`
  deliver(net, "a", "m", wire::Update{{Write{"forged", "\"not by b\"", Stamp{static_cast<uint64_t>(net.now()), 0, b}, next}}});
  ASSERT_TRUE(net.kernel("a").state().has("forged"));

  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, net.now() + 10'000));
  EXPECT_TRUE(net.runUntil([&] { return allEqual(net, {"a", "b", "m"}); }, net.now() + 30'000));
  for (const std::string id : {"a", "b", "m"}) {
    EXPECT_TRUE(net.kernel(id).state().has("real")) << id << ": b's real write arrived";
    EXPECT_TRUE(net.kernel(id).state().has("forged")) << id << ": the forgery is one more write, everywhere alike";
  }
  // b's own numbering is untouched, and its next write wins as any would.
  ASSERT_TRUE(net.write("b", "forged", "\"b overwrites it\"").ok);
  net.runFor(1000);
  EXPECT_EQ(*net.kernel("a").state().get("forged"), "\"b overwrites it\"");
}

// Finding 4: one write stamped with the largest wall clock, counter and
// replica id could never be overwritten. It is refused.
TEST(Integrity, AWriteStampedFarAheadIsRefusedAndPinsNothing) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  ASSERT_TRUE(net.write("a", "k", "\"before\"").ok);
  net.runFor(500);
  const Stamp pinned{std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint32_t>::max(),
                     std::numeric_limits<uint64_t>::max()};
  deliver(net, "a", "m", wire::Update{{Write{"k", "\"pinned\"", pinned, 1}}});
  deliver(net, "a", "m", wire::SyncWrites{{Write{"k", "\"pinned\"", pinned, 2}}});
  EXPECT_EQ(*net.kernel("a").state().get("k"), "\"before\"");
  EXPECT_EQ(net.kernel("a").counters().futureWrites, 2u);
  const Stamp ahead{static_cast<uint64_t>(net.now()) + 120'000, 0, replicaOf(net, "m")};
  deliver(net, "a", "m", wire::Update{{Write{"k", "\"two minutes ahead\"", ahead, 3}}});
  EXPECT_EQ(*net.kernel("a").state().get("k"), "\"before\"") << "beyond the 60 s drift";

  ASSERT_TRUE(net.write("b", "k", "\"after\"").ok);
  net.runFor(500);
  EXPECT_EQ(*net.kernel("a").state().get("k"), "\"after\"");
  ASSERT_TRUE(net.commit("a", {{"k", std::nullopt}}).ok);
  net.runFor(500);
  for (const std::string id : {"a", "b", "m"}) EXPECT_FALSE(net.kernel(id).state().has("k")) << id;

  // Within the drift a write is taken, and the clocks that saw it move on
  // past it: the next local write still wins.
  const Stamp soon{static_cast<uint64_t>(net.now()) + 30'000, 0, replicaOf(net, "m")};
  deliver(net, "a", "m", wire::Update{{Write{"k", "\"30 s ahead\"", soon, 4}}});
  EXPECT_EQ(*net.kernel("a").state().get("k"), "\"30 s ahead\"");
  ASSERT_TRUE(net.write("a", "k", "\"a's next write\"").ok);
  EXPECT_EQ(*net.kernel("a").state().get("k"), "\"a's next write\"");
}

// applyUpdate() takes an update "as if a peer had sent it": an Update with one
// write too far ahead is one transaction, refused whole as a peer's is; a
// sync response loses only that write.
TEST(Integrity, AnAppliedUpdateObeysTheClockRuleAsAPeersDoes) {
  SimulatedNetwork net;
  net.addNode("a");
  const Millis now = net.now();
  const Stamp near{static_cast<uint64_t>(now), 0, 9}, far{static_cast<uint64_t>(now) + 120'000, 0, 9};
  const std::vector<uint8_t> update = wire::encode(wire::Update{{Write{"ok", "1", near, 1}, Write{"far", "1", far, 2}}});
  net.input("a", [&](NodeKernel& k, Millis t) { EXPECT_TRUE(k.applyUpdate(update.data(), update.size(), false, t).ok); });
  EXPECT_FALSE(net.kernel("a").state().has("ok")) << "the whole transaction is refused";
  EXPECT_FALSE(net.kernel("a").state().has("far"));
  EXPECT_EQ(net.kernel("a").counters().futureWrites, 1u);
  const std::vector<uint8_t> sync =
      wire::encode(wire::SyncResponse{{}, {Write{"ok", "1", near, 1}, Write{"far", "1", far, 2}}});
  net.input("a", [&](NodeKernel& k, Millis t) { EXPECT_TRUE(k.applyUpdate(sync.data(), sync.size(), false, t).ok); });
  EXPECT_TRUE(net.kernel("a").state().has("ok"));
  EXPECT_FALSE(net.kernel("a").state().has("far"));
  EXPECT_EQ(net.kernel("a").counters().futureWrites, 2u);
}

// Finding 5: a counter of 2^32-1 wrapped the clock; the next local write to
// the same key lost, and page and kernel disagreed.
TEST(Integrity, AMaximalLogicalCounterNeverMakesALaterWriteLose) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  const Stamp edge{static_cast<uint64_t>(net.now()), std::numeric_limits<uint32_t>::max(), replicaOf(net, "m")};
  deliver(net, "a", "m", wire::Update{{Write{"x", "\"m\"", edge, 1}}});
  ASSERT_EQ(*net.kernel("a").state().get("x"), "\"m\"");
  ASSERT_TRUE(net.write("a", "x", "\"first\"").ok);
  EXPECT_EQ(*net.kernel("a").state().get("x"), "\"first\"");
  ASSERT_TRUE(net.write("a", "x", "\"second\"").ok);
  EXPECT_EQ(*net.kernel("a").state().get("x"), "\"second\"");
  // What the page was told matches the kernel: every local write was visible.
  auto changes = net.outputs<StateChanged>("a");
  ASSERT_GE(changes.size(), 2u);
  EXPECT_EQ(changes.back().second.changes.back().value, "\"second\"");
  net.runFor(500);
  EXPECT_EQ(*net.kernel("b").state().get("x"), "\"second\"");
}

// A peer that sends two different writes with one stamp and one sequence
// number to two nodes (equivocation) cannot split them: the merge order is
// total, and anti-entropy finds the difference the vectors cannot see.
TEST(Integrity, EquivocatedWritesConvergeEverywhere) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "m"}));
  const Stamp same{static_cast<uint64_t>(net.now()), 0, replicaOf(net, "m")};
  deliver(net, "a", "m", wire::Update{{Write{"k", "\"told a\"", same, 1}}});
  deliver(net, "b", "m", wire::Update{{Write{"k", "\"told b\"", same, 1}}});
  net.crash("m", CrashMode::ClosesChannels);
  ASSERT_NE(contents(net.kernel("a").state()), contents(net.kernel("b").state()));
  EXPECT_TRUE(net.runUntil([&] { return allEqual(net, {"a", "b"}); }, net.now() + 30'000));
  EXPECT_EQ(*net.kernel("a").state().get("k"), "\"told b\"") << "the greater value, everywhere";
}

// Over many seeds, a peer that sends random well-formed writes (forged ids,
// wild stamps and sequence numbers, inflated vectors) to random neighbours
// never keeps two honest nodes apart, and never hides an honest write.
TEST(Integrity, HonestNodesConvergeWhateverAPeerSends) {
  for (uint64_t seed = 1; seed <= 25; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.dataDelayMin = 1;
    o.dataDelayMax = 30;
    SimulatedNetwork net(o);
    Rng rng(seed * 7919);
    const std::vector<std::string> honest = {"a", "b", "c"};
    ASSERT_TRUE(net.startMesh({"a", "b", "c", "m"}));
    std::vector<uint64_t> replicas;
    for (const auto& id : honest) replicas.push_back(replicaOf(net, id));
    std::map<std::string, std::string> lastHonest;  // key -> value of the last honest write, for unforged keys
    for (int step = 0; step < 80; ++step) {
      if (rng.below(2) == 0) {
        const std::string& id = honest[rng.below(honest.size())];
        std::string key = "h" + std::to_string(rng.below(10));
        ASSERT_TRUE(net.write(id, key, std::to_string(step)).ok);
      } else {
        const std::string& to = honest[rng.below(honest.size())];
        uint64_t replica = rng.below(2) ? replicas[rng.below(replicas.size())] : rng.next();
        uint64_t seq = rng.below(3) == 0 ? rng.next() >> 1 : 1 + rng.below(40);
        uint64_t wall = static_cast<uint64_t>(net.now()) + rng.below(90'000) - 20'000;
        uint32_t logical = rng.below(2) ? static_cast<uint32_t>(rng.next()) : 0;
        Write w{"m" + std::to_string(rng.below(6)), rng.below(4) ? std::optional<std::string>(std::to_string(step))
                                                                  : std::nullopt,
                Stamp{wall, logical, replica}, seq};
        switch (rng.below(3)) {
          case 0: deliver(net, to, "m", wire::Update{{w}}); break;
          case 1: deliver(net, to, "m", wire::SyncResponse{{{replica, seq + rng.below(1000)}}, {w}}); break;
          default: deliver(net, to, "m", wire::StateAck{Digest128{rng.next(), rng.next()}});
        }
      }
      net.runFor(rng.between(0, 50));
    }
    net.crash("m", CrashMode::ClosesChannels);
    for (const auto& id : honest) ASSERT_TRUE(net.write(id, "final/" + id, "\"" + id + "\"").ok);
    EXPECT_TRUE(net.runUntil([&] { return allEqual(net, honest); }, net.now() + 60'000));
    if (!allEqual(net, honest)) {
      for (const auto& id : honest) {
        std::string dump;
        for (const auto& [k, v] : contents(net.kernel(id).state())) dump += k + "=" + v + " ";
        ADD_FAILURE() << id << ": " << dump << " root " << net.kernel(id).state().root().hi << " recon "
                      << net.kernel(id).counters().reconciliations << " repaired " << net.kernel(id).counters().repairedWrites
                      << " future " << net.kernel(id).counters().futureWrites << " last " << net.kernel(id).counters().lastRejection;
      }
    }
    for (const auto& id : honest)
      for (const auto& other : honest) EXPECT_TRUE(net.kernel(id).state().has("final/" + other)) << id;
    if (HasFailure()) break;
  }
}
