// Deletes are kept for good, compactly, so a replica that comes back after
// any absence converges with the room: a delete later than its offline write
// wins, its offline writes to other keys survive, and every key ends equal.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "state/replicated_map.h"
#include "support/heap_usage.h"
#include "support/simulated_network.h"

using namespace pc;
using namespace pcsim;

namespace {

Stamp at(uint64_t wall, uint64_t replica) { return Stamp{wall, 0, replica}; }

// The bound PROTOCOL.md states for a deleted key: its bytes plus 64.
constexpr size_t kBytesPerDeleteBeyondKey = 64;

}  // namespace

TEST(Deletes, OneMillionDeletedKeysCostTheirKeysAndAFixedEntryEach) {
  constexpr int kKeys = 1'000'000;
  ReplicatedMap map(1);
  HeapProbe heap;
  size_t keyBytes = 0;
  for (int i = 0; i < kKeys; ++i) {
    std::string key = "key-" + std::to_string(i);
    keyBytes += key.size();
    map.commitLocal({{key, "1"}}, at(i + 1, 1), nullptr);
  }
  ASSERT_EQ(map.size(), size_t(kKeys));
  heap.sample();
  const size_t live = heap.peak();

  for (int i = 0; i < kKeys; ++i)
    map.commitLocal({{"key-" + std::to_string(i), std::nullopt}}, at(kKeys + i + 1, 1), nullptr);
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.tombstones(), size_t(kKeys)) << "every delete is kept";

  const size_t bound = keyBytes + kKeys * kBytesPerDeleteBeyondKey;
  std::printf("a deleted key costs %.1f bytes (its key %.1f), a live one cost %.1f\n",
              heap.retained() / double(kKeys), keyBytes / double(kKeys), live / double(kKeys));
  EXPECT_LE(map.tombstoneBytes(), bound) << "the table's own account";
  EXPECT_LE(heap.retained(), bound) << "the heap: " << heap.retained() / double(kKeys) << " bytes per deleted key, "
                                     << keyBytes / double(kKeys) << " of them the key";
  EXPECT_LT(heap.retained(), live) << "a deleted key costs less than a live one did (" << live / double(kKeys)
                                   << " bytes each)";
  // And it still wins against the writes it beat.
  ReplicatedMap::ApplyResult r = map.applyRemote({{"key-7", "\"late\"", at(5, 2), 1}});
  EXPECT_TRUE(r.changes.empty());
  EXPECT_FALSE(map.has("key-7"));
}

TEST(Deletes, AWriteAfterTheDeleteRevivesTheKeyAndFreesTheRecord) {
  ReplicatedMap map(1);
  map.commitLocal({{"k", std::nullopt}}, at(1, 1), nullptr);
  EXPECT_EQ(map.tombstones(), 1u);
  map.commitLocal({{"k", "2"}}, at(2, 1), nullptr);
  EXPECT_EQ(map.tombstones(), 0u);
  ASSERT_NE(map.get("k"), nullptr);
  EXPECT_EQ(*map.get("k"), "2");
}

// The laptop that slept: b edits `doc` while apart from a, then sleeps; a
// deletes `old` and `doc` later than b's edit; b comes back after `absence`.
// a stays up throughout with throttled timers (a background tab).
class Absence : public ::testing::TestWithParam<Millis> {};

TEST_P(Absence, AReturningReplicaConverges) {
  const Millis absence = GetParam();
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b", "c"}));
  ASSERT_TRUE(net.write("a", "old", "\"old\"").ok);
  ASSERT_TRUE(net.write("a", "doc", "\"v1\"").ok);
  net.runFor(1000);
  ASSERT_TRUE(net.kernel("b").state().has("doc"));

  net.stop("b");
  net.runFor(1000);
  ASSERT_TRUE(net.write("b", "doc", "\"b's offline edit\"").ok);
  ASSERT_TRUE(net.write("b", "notes", "\"written offline\"").ok);
  net.runFor(5000);
  ASSERT_TRUE(net.remove("a", "old").ok);
  ASSERT_TRUE(net.remove("a", "doc").ok) << "later than b's edit";
  net.throttleTimers("a", 60'000);
  net.throttleTimers("c", 60'000);
  net.runFor(absence);
  net.throttleTimers("a", 0);
  net.throttleTimers("c", 0);

  net.start("b");
  ASSERT_TRUE(net.runUntil([&] { return net.fullMesh(); }, net.now() + 10'000));
  net.runFor(10'000);
  for (const std::string id : {"a", "b", "c"}) {
    SCOPED_TRACE(id);
    const ReplicatedMap& state = net.kernel(id).state();
    EXPECT_FALSE(state.has("doc")) << "the later delete beats the offline edit";
    EXPECT_FALSE(state.has("old"));
    ASSERT_TRUE(state.has("notes")) << "an offline write to another key survives";
    EXPECT_EQ(*state.get("notes"), "\"written offline\"");
    EXPECT_EQ(contents(state), contents(net.kernel("a").state()));
  }
}

INSTANTIATE_TEST_SUITE_P(Deletes, Absence, ::testing::Values(11 * 60'000.0, 24 * 3'600'000.0, 30 * 24 * 3'600'000.0),
                         [](const ::testing::TestParamInfo<Millis>& info) {
                           Millis m = info.param;
                           return m < 3'600'000 ? std::to_string(int(m / 60'000)) + "Minutes"
                                                : std::to_string(int(m / 86'400'000)) + "Days";
                         });

TEST(Deletes, KernelsInAMeshKeepEveryDeleteAndConverge) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.dataDelayMin = 1;
    o.dataDelayMax = 40;
    SimulatedNetwork net(o);
    Rng rng(seed * 31 + 5);
    const std::vector<std::string> ids = {"n0", "n1", "n2"};
    ASSERT_TRUE(net.startMesh(ids));
    for (int step = 0; step < 300; ++step) {
      const std::string& id = ids[rng.below(ids.size())];
      std::string key = "k" + std::to_string(rng.below(30));
      if (rng.below(3) == 0) ASSERT_TRUE(net.remove(id, key).ok);
      else ASSERT_TRUE(net.write(id, key, std::to_string(step)).ok);
      net.runFor(rng.between(0, 30));
    }
    net.runFor(5000);
    for (const auto& id : ids) {
      EXPECT_EQ(contents(net.kernel(id).state()), contents(net.kernel(ids[0]).state())) << id;
      EXPECT_EQ(net.kernel(id).state().tombstones(), net.kernel(ids[0]).state().tombstones()) << id;
      EXPECT_EQ(net.kernel(id).state().size() + net.kernel(id).state().tombstones(), 30u)
          << id << ": every key ever written is live or deleted";
      EXPECT_EQ(net.kernel(id).state().root(), net.kernel(ids[0]).state().root()) << id << ": equal fingerprints";
    }
    if (HasFailure()) break;
  }
}
