// Tombstone collection: a tombstone goes once every member replica has seen
// it, memory follows the live keys, and collecting never breaks convergence.
#include <gtest/gtest.h>
#include <malloc.h>
#if defined(__SANITIZE_ADDRESS__)
// From the AddressSanitizer runtime, which replaces malloc and keeps its own count.
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

#include <string>

#include "state/replicated_map.h"
#include "state/stability_tracker.h"
#include "support/simulated_network.h"

using namespace pc;
using namespace pcsim;

namespace {

Stamp at(uint64_t wall, uint64_t replica) { return Stamp{wall, 0, replica}; }

// Bytes allocated and not yet freed, from whichever allocator is in use.
size_t heapInUse() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

}  // namespace

TEST(TombstoneGc, OneMillionWritesAndDeletesLeaveNothingBehind) {
  constexpr int kKeys = 1'000'000;
  ReplicatedMap map(1);
  StabilityTracker alone(1);
  StateVector seen;
  auto stable = [&](const Stamp& stamp, uint64_t seq) { return alone.isStable(stamp.replica, seq, seen, 0); };
  size_t heapBefore = heapInUse();

  for (int i = 0; i < kKeys; ++i) map.commitLocal({{"key-" + std::to_string(i), "1"}}, at(i + 1, 1), nullptr);
  ASSERT_EQ(map.size(), size_t(kKeys));
  size_t heapFull = heapInUse();

  for (int i = 0; i < kKeys; ++i) map.commitLocal({{"key-" + std::to_string(i), std::nullopt}}, at(kKeys + i + 1, 1), nullptr);
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.tombstones(), size_t(kKeys)) << "before collection every delete is a tombstone";

  EXPECT_EQ(map.collectTombstones(stable), size_t(kKeys));
  EXPECT_EQ(map.tombstones(), 0u);
  size_t heapAfter = heapInUse();
  // A million live keys take tens of megabytes; once they are deleted and
  // collected, what remains is within 1 MB of where we started.
  EXPECT_GT(heapFull - heapBefore, size_t(40) << 20);
  EXPECT_LT(heapAfter, heapBefore + (size_t(1) << 20)) << "heap before " << heapBefore << ", after " << heapAfter;
}

TEST(TombstoneGc, WaitsUntilEveryMemberHasAcknowledged) {
  ReplicatedMap map(1);
  StabilityTracker tracker(1);
  map.commitLocal({{"k", "1"}}, at(1, 1), nullptr);
  map.commitLocal({{"k", std::nullopt}}, at(2, 1), nullptr);  // seq 2 is the tombstone
  tracker.onHeardOf(2, 100);
  tracker.onHeardOf(3, 100);
  auto collect = [&](Millis now) {
    StateVector local = map.stateVector();
    return map.collectTombstones([&](const Stamp& st, uint64_t s) { return tracker.isStable(st.replica, s, local, now); });
  };

  EXPECT_EQ(collect(200), 0u) << "no member has acknowledged yet";
  tracker.onAck(2, {{1, 2}}, 200);
  EXPECT_EQ(collect(300), 0u) << "replica 3 has not seen it";
  tracker.onAck(3, {{1, 1}, {3, 4}}, 300);
  EXPECT_EQ(collect(400), 0u) << "replica 3 has seen only seq 1";
  tracker.onAck(3, {{1, 2}, {3, 4}}, 400);
  EXPECT_EQ(collect(500), 0u) << "replica 3 wrote up to seq 4 before acknowledging, and we lack those writes";
  map.applyRemote({{"other", "1", at(3, 3), 1}, {"o2", "1", at(3, 3), 2}, {"o3", "1", at(3, 3), 3}, {"o4", "1", at(3, 3), 4}});
  EXPECT_EQ(collect(600), 1u);
  EXPECT_EQ(map.tombstones(), 0u);
}

TEST(TombstoneGc, ASilentReplicaStopsPinningTombstonesAfterTheExpiry) {
  ReplicatedMap map(1);
  StabilityTracker tracker(1, /*expiryMs=*/10'000);
  map.commitLocal({{"k", std::nullopt}}, at(1, 1), nullptr);
  tracker.onHeardOf(2, 0);
  StateVector local = map.stateVector();
  auto stable = [&](Millis now) {
    return [&, now](const Stamp& st, uint64_t s) { return tracker.isStable(st.replica, s, local, now); };
  };
  EXPECT_EQ(map.collectTombstones(stable(9'999)), 0u);
  EXPECT_EQ(map.collectTombstones(stable(10'000)), 1u);
}

TEST(TombstoneGc, AWriteAfterTheDeleteRevivesTheKeyAndIsNotCollected) {
  ReplicatedMap map(1);
  map.commitLocal({{"k", std::nullopt}}, at(1, 1), nullptr);
  map.commitLocal({{"k", "2"}}, at(2, 1), nullptr);
  EXPECT_EQ(map.collectTombstones([](const Stamp&, uint64_t) { return true; }), 0u);
  ASSERT_NE(map.get("k"), nullptr);
  EXPECT_EQ(*map.get("k"), "2");
}

TEST(TombstoneGc, KernelsInAMeshCollectAndStillConverge) {
  for (uint64_t seed = 0; seed < 40; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    NetworkOptions o;
    o.seed = seed;
    o.dataDelayMin = 1;
    o.dataDelayMax = 40;
    SimulatedNetwork net(o);
    Rng rng(seed * 31 + 5);
    const std::vector<std::string> ids = {"n0", "n1", "n2"};
    NodeConfig config;
    config.tombstoneGraceMs = 2000;
    ASSERT_TRUE(net.startMesh(ids, config));
    for (int step = 0; step < 300; ++step) {
      const std::string& id = ids[rng.below(ids.size())];
      std::string key = "k" + std::to_string(rng.below(30));
      if (rng.below(3) == 0) ASSERT_TRUE(net.remove(id, key).ok);
      else ASSERT_TRUE(net.write(id, key, std::to_string(step)).ok);
      net.runFor(rng.between(0, 30));
    }
    for (const auto& id : ids) EXPECT_GT(net.kernel(id).state().tombstones(), 0u) << id << " keeps young tombstones";
    net.runFor(5000);  // past the grace; acks flow on the ping tick; collection runs every second
    for (const auto& id : ids) {
      EXPECT_EQ(contents(net.kernel(id).state()), contents(net.kernel(ids[0]).state())) << id;
      EXPECT_EQ(net.kernel(id).state().tombstones(), 0u) << id << " collected every tombstone";
      EXPECT_GT(net.kernel(id).counters().tombstonesCollected, 0u) << id;
    }
    if (HasFailure()) break;
  }
}
