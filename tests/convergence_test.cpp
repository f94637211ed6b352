// Replicas converge whatever the order, duplication and delay of delivery:
// ReplicatedMap on its own, and whole kernels over a faulty network. Each
// scenario runs over many seeds; a failure names its seed.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using pcsim::Rng;
using pcsim::contents;

namespace {

const std::vector<std::string> kKeys = {"a", "b", "c", "d", "e", "f", "\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",
                                        "key with spaces"};

// Random operations for one transaction: writes, deletes, now and then a
// clear of everything the writer sees.
std::vector<Operation> randomOps(Rng& rng, const ReplicatedMap& view, int writer) {
  if (rng.chance(0.04)) return view.deleteAllOperations();
  std::vector<Operation> ops;
  size_t n = 1 + rng.below(4);
  for (size_t i = 0; i < n; ++i) {
    const std::string& key = kKeys[rng.below(kKeys.size())];
    if (rng.chance(0.25)) {
      ops.emplace_back(key, std::nullopt);
    } else {
      ops.emplace_back(key, "{\"by\":" + std::to_string(writer) + ",\"n\":" + std::to_string(rng.below(1000)) + "}");
    }
  }
  return ops;
}

// The last-writer-wins answer: for each key the write with the greatest stamp.
std::map<std::string, std::string> expectedContents(const std::vector<Write>& all) {
  std::map<std::string, const Write*> winner;
  for (const Write& w : all) {
    const Write*& best = winner[w.key];
    if (!best || best->stamp < w.stamp) best = &w;
  }
  std::map<std::string, std::string> out;
  for (const auto& [key, w] : winner)
    if (w->value) out[key] = *w->value;
  return out;
}

struct Replica {
  ReplicatedMap map;
  HybridLogicalClock clock;
  Millis skew;
};

struct Message {
  size_t to;
  std::vector<Write> writes;  // one transaction
};

// Runs one seeded scenario of local transactions and messages delivered in
// random order, some of them several times. When `lossRate` is positive,
// messages are also lost and pairwise delta syncs repair the damage.
void runMapScenario(uint64_t seed, double lossRate) {
  Rng rng(seed);
  const size_t n = 3 + rng.below(3);
  std::vector<Replica> replicas;
  for (size_t i = 0; i < n; ++i)
    replicas.push_back({ReplicatedMap(i + 1), HybridLogicalClock(i + 1), static_cast<Millis>(rng.between(0, 60)) - 30});

  std::vector<Write> all;
  std::vector<Message> inflight;
  Millis t = 1'000'000;
  auto deliver = [&](Message m) {
    Replica& r = replicas[m.to];
    for (const Write& w : m.writes) r.clock.observe(w.stamp, t + r.skew);
    r.map.applyRemote(m.writes);
  };

  for (int step = 0; step < 300; ++step) {
    t += static_cast<Millis>(rng.below(4));  // often the same millisecond: logical counters matter
    if (inflight.empty() || rng.chance(0.4)) {
      size_t w = rng.below(n);
      Replica& r = replicas[w];
      std::vector<Operation> ops = randomOps(rng, r.map, static_cast<int>(w));
      if (ops.empty()) continue;
      std::vector<KeyChange> changes;
      std::vector<Write> writes = r.map.commitLocal(ops, r.clock.tick(t + r.skew), &changes);
      all.insert(all.end(), writes.begin(), writes.end());
      for (size_t to = 0; to < n; ++to) {
        if (to == w) continue;
        size_t copies = rng.chance(0.3) ? 2 + rng.below(2) : 1;
        for (size_t c = 0; c < copies; ++c)
          if (!rng.chance(lossRate)) inflight.push_back({to, writes});
      }
    } else {
      size_t i = rng.below(inflight.size());
      Message m = std::move(inflight[i]);
      inflight[i] = std::move(inflight.back());
      inflight.pop_back();
      deliver(std::move(m));
    }
  }
  while (!inflight.empty()) {
    size_t i = rng.below(inflight.size());
    deliver(std::move(inflight[i]));
    inflight[i] = std::move(inflight.back());
    inflight.pop_back();
  }

  if (lossRate > 0) {
    // Delta sync, every replica from every other, in random order, until a
    // round moves nothing. Two rounds must carry everything everywhere.
    int rounds = 0;
    for (size_t moved = 1; moved > 0; ++rounds) {
      ASSERT_LE(rounds, 3) << "delta sync did not settle";
      moved = 0;
      std::vector<std::pair<size_t, size_t>> pairs;
      for (size_t a = 0; a < n; ++a)
        for (size_t b = 0; b < n; ++b)
          if (a != b) pairs.emplace_back(a, b);
      for (size_t i = pairs.size(); i > 1; --i) std::swap(pairs[i - 1], pairs[rng.below(i)]);
      for (const auto& [asker, responder] : pairs) {
        ReplicatedMap& from = replicas[responder].map;
        ReplicatedMap& to = replicas[asker].map;
        std::vector<Write> missing = from.writesMissingFrom(to.stateVector());
        moved += missing.size();
        to.applyRemote(missing);
        to.mergeStateVector(from.stateVector());
      }
    }
  }

  const auto expected = expectedContents(all);
  for (size_t i = 0; i < n; ++i) {
    SCOPED_TRACE("replica " + std::to_string(i + 1));
    EXPECT_EQ(contents(replicas[i].map), expected);
    EXPECT_EQ(replicas[i].map.size(), expected.size());
  }
}

}  // namespace

TEST(MapConvergence, ShuffledDuplicatedDelayedDelivery) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    runMapScenario(seed, 0.0);
    if (HasFailure()) break;
  }
}

TEST(MapConvergence, LostMessagesRepairedByDeltaSync) {
  for (uint64_t seed = 1000; seed < 1200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    runMapScenario(seed, 0.35);
    if (HasFailure()) break;
  }
}

TEST(MapConvergence, AKeyWrittenTwiceInOneTransactionKeepsItsLastValueOnly) {
  ReplicatedMap a(1), b(2);
  std::vector<KeyChange> changes;
  std::vector<Write> w = a.commitLocal({{"k", "1"}, {"j", "2"}, {"k", "3"}, {"j", std::nullopt}, {"i", "4"}}, Stamp{100, 0, 1}, &changes);
  ASSERT_EQ(w.size(), 3u) << "one write a key";
  EXPECT_EQ(w[0].key, "k");
  EXPECT_EQ(*w[0].value, "3");
  EXPECT_EQ(w[1].key, "j");
  EXPECT_FALSE(w[1].value.has_value());
  EXPECT_EQ(w[2].key, "i");
  EXPECT_EQ(w[0].seq + 1, w[1].seq) << "consecutive seqs, no gap for the dropped ones";
  EXPECT_EQ(w[1].seq + 1, w[2].seq);
  b.applyRemote(w);
  for (ReplicatedMap* m : {&a, &b}) {
    EXPECT_EQ(*m->get("k"), "3");
    EXPECT_FALSE(m->has("j"));
    EXPECT_EQ(*m->get("i"), "4");
  }
  // Many transactions with random repeats, against the rule applied naively:
  // an operation is written when no later one names its key.
  Rng rng(7);
  ReplicatedMap r(9);
  for (int t = 0; t < 200; ++t) {
    std::vector<Operation> ops;
    const int n = 1 + static_cast<int>(rng.below(60));
    for (int i = 0; i < n; ++i) ops.push_back({"k" + std::to_string(rng.below(20)), std::to_string(i)});
    std::vector<std::string> expected;
    for (size_t i = 0; i < ops.size(); ++i) {
      bool later = false;
      for (size_t j = i + 1; j < ops.size(); ++j) later |= ops[j].first == ops[i].first;
      if (!later) expected.push_back(ops[i].first + "=" + *ops[i].second);
    }
    std::vector<std::string> got;
    for (const Write& x : r.commitLocal(ops, Stamp{static_cast<uint64_t>(1000 + t), 0, 9}, nullptr)) got.push_back(x.key + "=" + *x.value);
    ASSERT_EQ(got, expected) << "transaction " << t;
  }
  // Without repeats every operation is a write, in order.
  std::vector<Write> plain = a.commitLocal({{"x", "1"}, {"y", "2"}}, Stamp{101, 0, 1}, nullptr);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0].key, "x");
  EXPECT_EQ(plain[1].key, "y");
}

TEST(MapConvergence, ConcurrentWriteAndDeleteFollowStamps) {
  // A delete concurrent with a write: the greater stamp wins on every
  // replica, whichever arrives first.
  for (bool deleteWins : {false, true}) {
    SCOPED_TRACE(deleteWins ? "delete stamped later" : "write stamped later");
    ReplicatedMap a(1), b(2), c(3);
    std::vector<Write> base = a.commitLocal({{"k", "0"}}, Stamp{100, 0, 1}, nullptr);
    b.applyRemote(base);
    c.applyRemote(base);
    Stamp writeStamp{200, deleteWins ? 0u : 1u, 1};
    Stamp deleteStamp{200, deleteWins ? 1u : 0u, 2};
    std::vector<Write> w = a.commitLocal({{"k", "\"new\""}}, writeStamp, nullptr);
    std::vector<Write> d = b.commitLocal({{"k", std::nullopt}}, deleteStamp, nullptr);
    a.applyRemote(d);
    b.applyRemote(w);
    c.applyRemote(d);
    c.applyRemote(w);
    c.applyRemote(d);
    for (ReplicatedMap* m : {&a, &b, &c}) {
      if (deleteWins) {
        EXPECT_FALSE(m->has("k"));
        EXPECT_EQ(m->tombstones(), 1u);
      } else {
        ASSERT_TRUE(m->has("k"));
        EXPECT_EQ(*m->get("k"), "\"new\"");
      }
    }
  }
}

TEST(KernelConvergence, ShuffledDuplicatedDelayedFramesOverManySeeds) {
  size_t nonEmpty = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    pcsim::NetworkOptions o;
    o.seed = seed;
    o.signalDelayMin = 0;
    o.signalDelayMax = 30;
    o.dataDelayMin = 1;
    o.dataDelayMax = 150;
    o.orderedData = false;  // frames overtake each other...
    o.duplicateData = 0.25;  // ...and some arrive twice
    pcsim::SimulatedNetwork net(o);
    Rng rng(seed ^ 0x5eed);

    // The oracle sees every write that travels, in whatever frame.
    ReplicatedMap oracle(1u << 30);
    net.onFrameSent = [&](const std::string& from, const std::string&, const std::vector<uint8_t>& bytes) {
      wire::Decoded d = wire::decode(bytes);
      if (!d.frame) return;
      if (auto* own = std::get_if<wire::OwnUpdate>(&*d.frame)) {  // the sender's own writes
        for (Write& w : own->writes) w.stamp.replica = net.kernel(from).config().replicaId;
        oracle.applyRemote(own->writes);
      }
      if (const auto* u = std::get_if<wire::Update>(&*d.frame)) oracle.applyRemote(u->writes);
      if (const auto* s = std::get_if<wire::SyncResponse>(&*d.frame)) oracle.applyRemote(s->writes);
    };

    const size_t n = 3 + seed % 2;
    std::vector<std::string> ids;
    for (size_t i = 0; i < n; ++i) ids.push_back("p" + std::to_string(i));
    for (const auto& id : ids) net.addNode(id);
    // Staggered starts: some writes happen before some nodes are connected.
    std::vector<Millis> startAt;
    for (size_t i = 0; i < n; ++i) startAt.push_back(rng.between(0, 400));

    Millis writesEnd = 3000;
    std::vector<Millis> writeTimes;
    for (int i = 0; i < 60; ++i) writeTimes.push_back(rng.between(0, writesEnd));
    std::sort(writeTimes.begin(), writeTimes.end());

    size_t nextWrite = 0;
    std::vector<bool> started(n, false);
    while (nextWrite < writeTimes.size()) {
      Millis t = writeTimes[nextWrite];
      for (size_t i = 0; i < n; ++i) {
        if (!started[i] && startAt[i] <= t) {
          net.runUntil(startAt[i]);
          net.start(ids[i]);
          started[i] = true;
        }
      }
      net.runUntil(t);
      size_t w = rng.below(n);
      const ReplicatedMap& view = net.kernel(ids[w]).state();
      Result r = net.commit(ids[w], randomOps(rng, view, static_cast<int>(w)));
      ASSERT_TRUE(r.ok) << r.error;
      ++nextWrite;
    }
    for (size_t i = 0; i < n; ++i)
      if (!started[i]) net.start(ids[i]);

    auto converged = [&] {
      if (!net.fullMesh()) return false;
      for (size_t i = 1; i < n; ++i)
        if (contents(net.kernel(ids[i]).state()) != contents(net.kernel(ids[0]).state())) return false;
      return true;
    };
    bool settled = net.runUntil(converged, writesEnd + 20000);
    net.runFor(1000);  // anything still in flight must not disturb it
    EXPECT_TRUE(settled);
    for (size_t i = 0; i < n; ++i) {
      SCOPED_TRACE(ids[i]);
      EXPECT_EQ(contents(net.kernel(ids[i]).state()), contents(net.kernel(ids[0]).state()));
      EXPECT_EQ(contents(net.kernel(ids[i]).state()), contents(oracle));
      EXPECT_EQ(net.kernel(ids[i]).connectedPeerCount(), n - 1);
      EXPECT_EQ(net.kernel(ids[i]).counters().rejectedFrames, 0u) << net.kernel(ids[i]).counters().lastRejection;
    }
    nonEmpty += net.kernel(ids[0]).state().size() > 0;
    if (HasFailure()) break;
  }
  EXPECT_GT(nonEmpty, 150u) << "the scenarios should mostly end with live keys";
}
