// LocalWorkers on its own: how many units go to the host at once, and in
// what order among owners; small units past the usual limit.
#include <gtest/gtest.h>

#include <string>

#include "compute/local_workers.h"

using namespace pc;

// One worker, one queued behind it: two runs go to the host, the rest wait.
// Small runs (this node's own small units) may fill the worker's queue up to
// its small limit.
TEST(LocalWorkers, SmallRunsGoPastTheUsualLimitUpToTheirOwn) {
  LocalWorkers w;
  w.setCapacity(1, 1, 8);
  for (uint64_t lease = 1; lease <= 5; ++lease) w.enqueue("self", lease, "t", "in");
  EXPECT_EQ(w.start().size(), 2u);
  EXPECT_EQ(w.queued(), 3u);
  for (uint64_t lease = 6; lease <= 20; ++lease) w.enqueue("self", lease, "t", "in", 0, true);
  // The three ordinary runs still wait for the usual limit; the small ones
  // wait behind them.
  EXPECT_EQ(w.start().size(), 0u);
  LocalWorkers v;
  v.setCapacity(1, 1, 8);
  for (uint64_t lease = 1; lease <= 20; ++lease) v.enqueue("self", lease, "t", "in", 0, true);
  EXPECT_EQ(v.start().size(), 9u) << "1 running + 8 queued";
  EXPECT_EQ(v.running(), 9u);
}

// Another owner's unit never waits behind a deep queue of small runs: while
// it waits here, no small run goes past the usual limit.
TEST(LocalWorkers, APeersUnitIsNotKeptWaitingBySmallRuns) {
  LocalWorkers w;
  w.setCapacity(1, 1, 64);
  for (uint64_t lease = 1; lease <= 10; ++lease) w.enqueue("self", lease, "t", "in", 0, true);
  auto first = w.start();
  ASSERT_EQ(first.size(), 10u);
  w.enqueue("peer", 1, "t", "in", 300);
  for (uint64_t lease = 11; lease <= 20; ++lease) w.enqueue("self", lease, "t", "in", 0, true);
  EXPECT_EQ(w.start().size(), 0u) << "over the usual limit, and the peer's unit waits";
  // As the host answers, the usual limit comes back within reach: the
  // peer's unit goes first, then the small ones again.
  for (size_t i = 0; i < 9; ++i) ASSERT_TRUE(w.finish(first[i].exec).has_value());
  auto next = w.start();
  ASSERT_FALSE(next.empty());
  EXPECT_EQ(next[0].origin, "peer");
  EXPECT_EQ(next.size(), 11u) << "then the ten small runs, within the small limit";
}

// Without a small limit (no worker queue configured), small runs obey the
// usual one.
TEST(LocalWorkers, WithoutASmallLimitSmallRunsObeyTheUsualOne) {
  LocalWorkers w;
  w.setCapacity(2, 0, 0);
  for (uint64_t lease = 1; lease <= 10; ++lease) w.enqueue("self", lease, "t", "in", 0, true);
  EXPECT_EQ(w.start().size(), 2u);
}
