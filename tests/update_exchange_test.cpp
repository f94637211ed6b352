// State moved as bytes: encodeStateVector / encodeStateAsUpdate / applyUpdate,
// and persistence records. The property test restarts replicas from what they
// stored and checks that every replica converges and no write is lost.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>

#include "kernel/node_kernel.h"
#include "support/simulated_network.h"
#include "wire/frame_codec.h"

using namespace pc;
using namespace pcsim;

namespace {

struct Replica {
  std::unique_ptr<NodeKernel> kernel;
  std::vector<std::vector<uint8_t>> stored;  // what its storage holds
  uint64_t nextReplicaId;
};

std::unique_ptr<NodeKernel> makeKernel(const std::string& id, uint64_t replicaId) {
  auto k = std::make_unique<NodeKernel>();
  NodeConfig c;
  c.nodeId = id;
  c.replicaId = replicaId;
  c.persist = true;
  addTestEntropy(*k);
  EXPECT_TRUE(k->initialize(c, 0).ok);
  return k;
}

// Drains outputs: stores PersistRecords, compacts on request, and feeds every
// stored write into the oracle.
void drain(Replica& r, std::map<std::string, Write>* oracle) {
  while (auto o = r.kernel->pollOutput()) {
    if (auto* rec = std::get_if<PersistRecord>(&*o)) {
      r.stored.push_back(rec->bytes);
      wire::Decoded d = wire::decode(rec->bytes);
      ASSERT_TRUE(d.frame.has_value());
      const std::vector<Write>* writes = nullptr;
      if (auto* u = std::get_if<wire::Update>(&*d.frame)) writes = &u->writes;
      if (auto* s = std::get_if<wire::SyncResponse>(&*d.frame)) writes = &s->writes;
      ASSERT_NE(writes, nullptr);
      for (const Write& w : *writes) {
        auto it = oracle->find(w.key);
        if (it == oracle->end() || it->second.stamp < w.stamp) (*oracle)[w.key] = w;
      }
    } else if (std::holds_alternative<CompactStorage>(*o)) {
      r.stored = {r.kernel->snapshotForStorage()};
    }
  }
}

std::vector<uint8_t> updateFor(NodeKernel& from, NodeKernel& to) {
  std::vector<uint8_t> vector = to.encodeStateVector(), update;
  EXPECT_TRUE(from.encodeStateAsUpdate(vector.data(), vector.size(), &update).ok);
  return update;
}

// The write a replica holds for `key`.
Write heldWrite(const ReplicatedMap& map, const std::string& key) {
  for (Write& w : map.writesMissingFrom({}))
    if (w.key == key) return w;
  ADD_FAILURE() << "no write holds " << key;
  return {};
}

std::map<std::string, std::string> live(const std::map<std::string, Write>& oracle) {
  std::map<std::string, std::string> out;
  for (const auto& [key, w] : oracle)
    if (w.value) out[key] = *w.value;
  return out;
}

}  // namespace

TEST(UpdateExchange, AnUpdateCarriesExactlyWhatTheOtherSideLacks) {
  Replica a{makeKernel("a", 1), {}, 0}, b{makeKernel("b", 2), {}, 0};
  std::map<std::string, Write> oracle;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(a.kernel->write("k" + std::to_string(i), std::to_string(i), i).ok);
  std::vector<uint8_t> full = updateFor(*a.kernel, *b.kernel);
  ASSERT_TRUE(b.kernel->applyUpdate(full.data(), full.size(), false, 2000).ok);
  EXPECT_EQ(contents(b.kernel->state()), contents(a.kernel->state()));

  for (int i = 0; i < 10; ++i) ASSERT_TRUE(a.kernel->write("new" + std::to_string(i), "1", 3000).ok);
  std::vector<uint8_t> delta = updateFor(*a.kernel, *b.kernel);
  EXPECT_LT(delta.size(), full.size() / 20) << "10 new writes, not 1010";
  ASSERT_TRUE(b.kernel->applyUpdate(delta.data(), delta.size(), false, 4000).ok);
  EXPECT_EQ(contents(b.kernel->state()), contents(a.kernel->state()));
  drain(b, &oracle);
}

TEST(UpdateExchange, MalformedUpdatesAndVectorsAreRefusedAndChangeNothing) {
  Replica a{makeKernel("a", 1), {}, 0};
  ASSERT_TRUE(a.kernel->write("k", "1", 1).ok);
  auto before = contents(a.kernel->state());
  std::vector<uint8_t> junk = {0xc5, 0x01, 0x04, 0x7f, 0x00};
  EXPECT_FALSE(a.kernel->applyUpdate(junk.data(), junk.size(), false, 2).ok);
  std::vector<uint8_t> ping = wire::encode(wire::Ping{1});
  Result r = a.kernel->applyUpdate(ping.data(), ping.size(), false, 2);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("wrong frame type"), std::string::npos);
  std::vector<uint8_t> out;
  EXPECT_FALSE(a.kernel->encodeStateAsUpdate(junk.data(), junk.size(), &out).ok);
  EXPECT_EQ(contents(a.kernel->state()), before);
}

TEST(UpdateExchange, StoredRecordsRestoreTheStateAndCompactionKeepsItSmall) {
  Replica a{makeKernel("a", 1), {}, 0};
  std::map<std::string, Write> oracle;
  size_t compactions = 0;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(a.kernel->write("k" + std::to_string(i % 500), "\"" + std::string(100, 'x') + "\"", i).ok);
    size_t before = a.stored.size();
    drain(a, &oracle);
    compactions += a.stored.size() < before;
  }
  EXPECT_GT(compactions, 0u);
  size_t storedBytes = 0;
  for (const auto& rec : a.stored) storedBytes += rec.size();
  std::vector<uint8_t> snapshot = a.kernel->snapshotForStorage();
  EXPECT_LT(storedBytes, 2 * snapshot.size() + (1 << 20) + 1024) << "storage stays proportional to the state";

  auto restored = makeKernel("a", 99);
  for (const auto& rec : a.stored) ASSERT_TRUE(restored->applyUpdate(rec.data(), rec.size(), true, 30000).ok);
  EXPECT_EQ(contents(restored->state()), contents(a.kernel->state()));
  while (auto o = restored->pollOutput()) EXPECT_FALSE(std::holds_alternative<PersistRecord>(*o)) << "restoring stores nothing again";
}

TEST(UpdateExchange, ReplicasThatRestartFromStorageConvergeAndLoseNoWrite) {
  for (uint64_t seed = 0; seed < 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Rng rng(seed);
    std::map<std::string, Write> oracle;
    std::vector<Replica> replicas;
    for (int i = 0; i < 5; ++i) replicas.push_back({makeKernel("r" + std::to_string(i), 1000 * (i + 1)), {}, uint64_t(1000 * (i + 1) + 1)});
    std::deque<std::pair<size_t, std::vector<uint8_t>>> inFlight;  // (recipient, update)
    Millis now = 1;
    for (int step = 0; step < 400; ++step) {
      now += rng.between(0, 5);
      size_t i = rng.below(replicas.size());
      Replica& r = replicas[i];
      std::string key = "k" + std::to_string(rng.below(12));
      switch (rng.below(10)) {
        case 0:
        case 1:
        case 2:
          ASSERT_TRUE(r.kernel->write(key, std::to_string(step), now).ok);
          break;
        case 3:
          ASSERT_TRUE(r.kernel->remove(key, now).ok);
          break;
        case 4:
          ASSERT_TRUE(r.kernel->commit({{key, "1"}, {"k" + std::to_string(rng.below(12)), std::nullopt}}, now).ok);
          break;
        case 5:
        case 6: {  // a partial, possibly duplicated, delayed sync
          size_t j = rng.below(replicas.size());
          if (j != i) {
            inFlight.emplace_back(j, updateFor(*r.kernel, *replicas[j].kernel));
            if (rng.chance(0.3)) inFlight.push_back(inFlight.back());
          }
          break;
        }
        case 7:
        case 8:
          if (!inFlight.empty()) {  // deliver one, in any order
            size_t pick = rng.below(inFlight.size());
            auto [to, bytes] = inFlight[pick];
            inFlight.erase(inFlight.begin() + static_cast<std::ptrdiff_t>(pick));
            ASSERT_TRUE(replicas[to].kernel->applyUpdate(bytes.data(), bytes.size(), false, now).ok);
            drain(replicas[to], &oracle);
          }
          break;
        case 9: {  // crash and restart from storage, as a new replica
          drain(r, &oracle);
          if (rng.chance(0.5)) r.stored = {r.kernel->snapshotForStorage()};
          r.kernel = makeKernel("r" + std::to_string(i), r.nextReplicaId++);
          for (const auto& rec : r.stored) ASSERT_TRUE(r.kernel->applyUpdate(rec.data(), rec.size(), true, now).ok);
          break;
        }
      }
      drain(r, &oracle);
    }
    // Heal: everyone syncs with everyone until nothing changes.
    for (int round = 0; round < 3; ++round)
      for (size_t a = 0; a < replicas.size(); ++a)
        for (size_t b = 0; b < replicas.size(); ++b)
          if (a != b) {
            auto bytes = updateFor(*replicas[a].kernel, *replicas[b].kernel);
            ASSERT_TRUE(replicas[b].kernel->applyUpdate(bytes.data(), bytes.size(), false, now).ok);
            drain(replicas[b], &oracle);
          }
    for (const Replica& r : replicas) EXPECT_EQ(contents(r.kernel->state()), live(oracle));
    if (HasFailure()) break;
  }
}

// Peers get a node's transactions as OwnUpdate frames, which leave the writer
// out; the receiving session attributes them to the replica the sender's
// Hello named, and the stored record still names it. Bytes with no sender
// (applyUpdate, storage) cannot be an OwnUpdate.
TEST(UpdateExchange, PeersGetOwnUpdatesAttributedToTheSendersReplica) {
  SimulatedNetwork net;
  ASSERT_TRUE(net.startMesh({"a", "b"}));
  const size_t sentBefore = net.outputs<SendData>("a").size();
  ASSERT_TRUE(net.write("a", "v", "1539").ok);
  net.runFor(200);
  bool sawOwnUpdate = false;
  const auto sent = net.outputs<SendData>("a");
  for (size_t i = sentBefore; i < sent.size(); ++i) {
    wire::Decoded d = wire::decode(sent[i].second.bytes);
    ASSERT_TRUE(d.frame.has_value());
    EXPECT_FALSE(std::holds_alternative<wire::Update>(*d.frame)) << "a's own transaction goes out as an OwnUpdate";
    if (auto* own = std::get_if<wire::OwnUpdate>(&*d.frame)) {
      sawOwnUpdate = true;
      ASSERT_EQ(own->writes.size(), 1u);
      EXPECT_EQ(own->writes[0].key, "v");
    }
  }
  EXPECT_TRUE(sawOwnUpdate);
  const uint64_t replicaA = net.kernel("a").config().replicaId;
  EXPECT_EQ(heldWrite(net.kernel("b").state(), "v").stamp.replica, replicaA) << "b attributes the write to a's replica";
  EXPECT_EQ(net.kernel("b").state().stateVector().at(replicaA), net.kernel("a").state().stateVector().at(replicaA));

  // A forged OwnUpdate is the sender's own write, whatever it claims: it
  // cannot be passed off as another replica's.
  const uint64_t replicaB = net.kernel("b").config().replicaId;
  std::vector<uint8_t> forged = wire::encode(wire::OwnUpdate{{Write{"x", "1", Stamp{static_cast<uint64_t>(net.now()), 0, replicaB}, 99}}});
  net.input("b", [&](NodeKernel& k, Millis now) { k.handleData("a", forged.data(), forged.size(), now); });
  EXPECT_EQ(heldWrite(net.kernel("b").state(), "x").stamp.replica, replicaA);

  // applyUpdate has no sender to name the writer.
  EXPECT_FALSE(net.kernel("b").applyUpdate(forged.data(), forged.size(), false, net.now()).ok);
}

