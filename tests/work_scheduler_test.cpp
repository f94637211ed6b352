// WorkScheduler on its own, without a kernel: which worker gets each unit,
// leases and their timeouts, failures, workers that leave, the quorum and
// distrust, verdicts on results, cancellation.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compute/work_scheduler.h"

using namespace pc;
using nlohmann::json;
using WS = WorkScheduler;

namespace {

template <typename T>
std::vector<T> all(const WS::Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  return out;
}

std::map<std::string, int> assignsByWorker(const WS::Actions& actions) {
  std::map<std::string, int> n;
  for (const auto& a : all<WS::Assign>(actions)) ++n[a.worker];
  return n;
}

std::vector<std::string> inputs(size_t n, const std::string& prefix = "in") {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

std::set<std::string> tasks(std::initializer_list<std::string> names = {"t"}) { return names; }

JobOptions opts(uint32_t redundancy = 1, Millis timeoutMs = 1000, uint32_t maxAttempts = 3) {
  JobOptions o;
  o.redundancy = redundancy;
  o.timeoutMs = timeoutMs;
  o.maxAttempts = maxAttempts;
  return o;
}

std::string output(const std::string& input) { return "out:" + input; }

// Plays the workers on simulated time: each runs its units one after another
// (taking `ms` each) and answers with output(input), or a lie, or never.
class Driver {
 public:
  struct Worker {
    Millis ms = 10;
    bool lies = false;
    bool hangs = false;
    Millis freeAt = 0;
    bool local = false;  // reports its run time, as the host does for this node's worker
    size_t inFlight = 0, peakInFlight = 0;
  };
  struct Pending {
    Millis at;
    uint64_t seq;
    std::string worker;
    uint64_t lease;
    std::string bytes;
    Millis ms = 0;  // how long it ran
  };

  WS s;
  Millis now = 0;
  std::map<std::string, Worker> workers;
  std::vector<Pending> pending;
  std::vector<std::pair<Millis, WS::Assign>> assigns;
  std::vector<WS::Revoke> revokes;
  std::vector<WS::UnitDone> done;
  std::vector<WS::JobEnded> ended;
  uint64_t seq = 0;
  std::map<std::string, Millis> inputMs;  // a unit's own run time, by input, over its worker's

  void add(const std::string& id, uint32_t capacity, Millis ms, bool lies = false, bool hangs = false) {
    workers[id] = Worker{ms, lies, hangs, now};
    WS::Actions a;
    s.setWorker(id, capacity, tasks(), now, a);
    apply(a);
  }
  // This node's own worker: `ms` a unit, which it reports with each result.
  void addLocal(const std::string& id, uint32_t capacity, Millis ms) {
    workers[id] = Worker{ms, false, false, now, true};
    WS::Actions a;
    s.setWorker(id, capacity, tasks(), now, a, true);
    apply(a);
  }
  uint64_t submit(size_t units, JobOptions o) {
    WS::Actions a;
    uint64_t job = s.submit("t", inputs(units), o, now, a);
    apply(a);
    return job;
  }
  void apply(WS::Actions& actions) {
    for (auto& action : actions) {
      if (auto* x = std::get_if<WS::Assign>(&action)) {
        assigns.emplace_back(now, *x);
        Worker& w = workers.at(x->worker);
        w.peakInFlight = std::max(w.peakInFlight, ++w.inFlight);
        if (w.hangs) continue;
        const Millis ms = inputMs.count(x->input) ? inputMs.at(x->input) + (w.local ? 0 : w.ms) : w.ms;
        w.freeAt = std::max(now, w.freeAt) + ms;
        pending.push_back({w.freeAt, seq++, x->worker, x->lease, (w.lies ? "lie:" : "out:") + x->input, ms});
      } else if (auto* r = std::get_if<WS::Revoke>(&action)) {
        revokes.push_back(*r);
        Worker& w = workers.at(r->worker);
        --w.inFlight;
        // A revoked unit still queued frees its worker's time for the units behind it.
        auto it = std::find_if(pending.begin(), pending.end(), [&](const Pending& p) { return p.lease == r->lease; });
        if (it != pending.end() && it->at - it->ms >= now) {
          for (Pending& q : pending)
            if (q.worker == r->worker && q.at > it->at) q.at -= it->ms;
          w.freeAt -= it->ms;
        }
        pending.erase(std::remove_if(pending.begin(), pending.end(), [&](const Pending& p) { return p.lease == r->lease; }),
                      pending.end());
      } else if (auto* d = std::get_if<WS::UnitDone>(&action)) {
        done.push_back(*d);
      } else if (auto* e = std::get_if<WS::JobEnded>(&action)) {
        ended.push_back(*e);
      }
    }
  }
  // One result or timeout, if one is due by `limit`.
  bool step(Millis limit) {
    auto first = std::min_element(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
      return a.at != b.at ? a.at < b.at : a.seq < b.seq;
    });
    std::optional<Millis> timeout = s.nextTimeout();
    bool result = first != pending.end() && (!timeout || first->at <= *timeout);
    Millis at = result ? first->at : timeout ? *timeout : limit + 1;
    if (at > limit) return false;
    now = at;
    WS::Actions a;
    if (result) {
      Pending p = *first;
      pending.erase(first);
      Worker& w = workers.at(p.worker);
      --w.inFlight;
      EXPECT_EQ(s.onResult(p.worker, p.lease, WS::ResultKind::Ok, p.bytes, now, a, w.local ? p.ms : 0), WS::Verdict::Counted);
    } else {
      s.onTimeout(now, a);
    }
    apply(a);
    return true;
  }
  void runUntil(Millis limit) {
    while (step(limit)) {
    }
  }
  int assignedTo(const std::string& worker) const {
    return static_cast<int>(std::count_if(assigns.begin(), assigns.end(), [&](const auto& a) { return a.second.worker == worker; }));
  }
};

// This node's worker ("self", `localMs` a unit, reporting its run times) and
// a peer whose units take `peerMs` from issue to result, a 1 ms ping away;
// `queueLimit` small units may wait in the local worker (0: no deep queue).
void localAndPeer(Driver& d, Millis localMs, Millis peerMs, uint32_t queueLimit = 64) {
  d.s.setLocalQueueLimit(queueLimit);
  d.addLocal("self", 1, localMs);
  d.add("peer", 1, peerMs);
  d.s.setShipCost("peer", 1.0);
}

}  // namespace

TEST(WorkScheduler, EmptyJobFinishesAtOnce) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  uint64_t job = s.submit("t", {}, opts(), 0, a);
  ASSERT_EQ(a.size(), 1u);
  auto ended = all<WS::JobEnded>(a);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].job, job);
  EXPECT_TRUE(ended[0].ok);
  EXPECT_EQ(ended[0].stats["total"], 0);
  EXPECT_EQ(s.activeJobs(), 0u);
  EXPECT_FALSE(s.nextTimeout());
  EXPECT_TRUE(s.jobStats(job).is_null());

  // Even with no worker at all.
  WS lonely;
  WS::Actions b;
  lonely.submit("t", {}, opts(), 0, b);
  ASSERT_EQ(all<WS::JobEnded>(b).size(), 1u);
  EXPECT_TRUE(all<WS::JobEnded>(b)[0].ok);
}

TEST(WorkScheduler, SpreadsByCapacity) {
  WS s;
  WS::Actions a;
  s.setWorker("big", 3, tasks(), 0, a);
  s.setWorker("small", 1, tasks(), 0, a);
  s.setWorker("idle", 0, tasks(), 0, a);            // runs nothing
  s.setWorker("other", 8, tasks({"other"}), 0, a);  // does not offer the task
  EXPECT_TRUE(a.empty());
  EXPECT_TRUE(s.anyWorkerOffers("t"));
  EXPECT_FALSE(s.anyWorkerOffers("nope"));
  s.submit("t", inputs(10), opts(), 0, a);
  auto n = assignsByWorker(a);
  // Each worker holds at most one unit queued behind each running one.
  EXPECT_EQ(n["big"], 4);
  EXPECT_EQ(n["small"], 2);
  EXPECT_EQ(n.count("idle"), 0u);
  EXPECT_EQ(n.count("other"), 0u);
  EXPECT_EQ(s.leasesHeldBy("big"), 4u);
  EXPECT_EQ(s.leasesHeldBy("small"), 2u);
  // Distinct units, distinct leases.
  std::set<std::string> units;
  std::set<uint64_t> leases;
  for (const auto& x : all<WS::Assign>(a)) {
    units.insert(x.input);
    leases.insert(x.lease);
    EXPECT_EQ(x.task, "t");
  }
  EXPECT_EQ(units.size(), 6u);
  EXPECT_EQ(leases.size(), 6u);
  // A worker that starts offering the task takes the units still waiting.
  WS::Actions more;
  s.setWorker("other", 8, tasks({"other", "t"}), 0, more);
  EXPECT_EQ(assignsByWorker(more)["other"], 4);
}

TEST(WorkScheduler, PrefersTheWorkerObservedToBeFaster) {
  WS s;
  WS::Actions a;
  s.setWorker("fast", 4, tasks(), 0, a);
  s.setWorker("slow", 4, tasks(), 0, a);
  s.submit("t", inputs(2, "first"), opts(), 0, a);
  auto first = all<WS::Assign>(a);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(assignsByWorker(a), (std::map<std::string, int>{{"fast", 1}, {"slow", 1}})) << "unknown speeds: spread";
  WS::Actions b;
  for (const auto& x : first)
    EXPECT_EQ(s.onResult(x.worker, x.lease, WS::ResultKind::Ok, output(x.input), x.worker == "fast" ? 10 : 100, b),
              WS::Verdict::Counted);
  // Both have free slots; fast takes 10 ms a unit and slow 100.
  WS::Actions c;
  s.submit("t", inputs(3, "second"), opts(), 100, c);
  EXPECT_EQ(assignsByWorker(c), (std::map<std::string, int>{{"fast", 3}}));
  json workers = s.describeWorkers();
  EXPECT_EQ(workers["fast"]["msPerUnit"], 10.0);
  EXPECT_EQ(workers["slow"]["msPerUnit"], 100.0);
}

TEST(WorkScheduler, AFastWorkerGetsMoreUnitsOverAJob) {
  Driver d;
  d.add("fast", 1, 10);
  d.add("slow", 1, 100);
  uint64_t job = d.submit(60, opts(1, 10'000));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  EXPECT_EQ(d.ended[0].job, job);
  const json& byPeer = d.ended[0].stats["unitsByPeer"];
  int fast = byPeer.value("fast", 0), slow = byPeer.value("slow", 0);
  EXPECT_EQ(fast + slow, 60);
  EXPECT_GT(fast, 4 * slow) << "fast " << fast << ", slow " << slow;
  EXPECT_GE(slow, 1);
  EXPECT_EQ(d.assignedTo("fast"), fast);
  EXPECT_EQ(d.ended[0].stats["retries"], 0);
}

TEST(WorkScheduler, AnExpiredLeaseIsReissuedToAnotherWorker) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 1, tasks(), 0, a);
  uint64_t job = s.submit("t", {"x"}, opts(1, 500), 100, a);
  auto first = all<WS::Assign>(a);
  ASSERT_EQ(first.size(), 1u);
  const std::string holder = first[0].worker, other = holder == "a" ? "b" : "a";
  EXPECT_EQ(s.nextTimeout(), Millis{600});

  WS::Actions early;
  s.onTimeout(599, early);
  EXPECT_TRUE(early.empty()) << "not yet due";

  WS::Actions t;
  s.onTimeout(600, t);
  auto revokes = all<WS::Revoke>(t);
  ASSERT_EQ(revokes.size(), 1u);
  EXPECT_EQ(revokes[0].worker, holder);
  EXPECT_EQ(revokes[0].lease, first[0].lease);
  auto again = all<WS::Assign>(t);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].worker, other) << "not the worker that let it expire";
  EXPECT_EQ(again[0].input, "x");
  EXPECT_NE(again[0].lease, first[0].lease);
  EXPECT_EQ(s.nextTimeout(), Millis{1100});
  EXPECT_TRUE(all<WS::JobEnded>(t).empty());

  // The first worker's answer comes too late and changes nothing.
  WS::Actions late;
  EXPECT_EQ(s.onResult(holder, first[0].lease, WS::ResultKind::Ok, "late", 700, late), WS::Verdict::Late);
  EXPECT_TRUE(late.empty());

  WS::Actions r;
  EXPECT_EQ(s.onResult(other, again[0].lease, WS::ResultKind::Ok, "right", 800, r), WS::Verdict::Counted);
  auto done = all<WS::UnitDone>(r);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].output, "right");
  EXPECT_EQ(done[0].workers, std::vector<std::string>{other});
  auto ended = all<WS::JobEnded>(r);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].ok);
  EXPECT_EQ(ended[0].job, job);
  EXPECT_EQ(ended[0].stats["retries"], 1);
  EXPECT_FALSE(s.nextTimeout());
}

TEST(WorkScheduler, AnExpiredUnitWaitsForABusyWorkerRatherThanGoingBackToTheOneThatFailed) {
  // hung never answers; busy is always full, as there is plenty of work.
  // When hung's leases expire, busy has no free slot at that moment: the
  // units must wait for it, not go back to hung until their attempts run out.
  Driver d;
  d.add("busy", 1, 100);
  d.add("hung", 1, 10, false, /*hangs=*/true);
  d.submit(40, opts(1, 1000, 3));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  EXPECT_EQ(d.done.size(), 40u);
  EXPECT_EQ(d.ended[0].stats["unitsByPeer"], json({{"busy", 40}}));
  std::map<std::string, int> hungTries;
  for (const auto& [at, a] : d.assigns)
    if (a.worker == "hung") {
      EXPECT_EQ(++hungTries[a.input], 1) << a.input << " went back to hung at " << at;
    }
}

TEST(WorkScheduler, AFailedWorkerIsTakenAgainWhenNoOtherCanRunTheUnit) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("other", 4, tasks({"different"}), 0, a);  // never a candidate
  s.submit("t", {"x"}, opts(1, 100, 2), 0, a);
  ASSERT_EQ(assignsByWorker(a), (std::map<std::string, int>{{"a", 1}}));
  WS::Actions t;
  s.onTimeout(100, t);
  EXPECT_EQ(assignsByWorker(t), (std::map<std::string, int>{{"a", 1}})) << "a is the only one that can";
  WS::Actions t2;
  s.onTimeout(200, t2);
  ASSERT_EQ(all<WS::JobEnded>(t2).size(), 1u);
  EXPECT_FALSE(all<WS::JobEnded>(t2)[0].ok);
}

TEST(WorkScheduler, AUnitThatFailsMaxAttemptsTimesFailsTheJobNamingIt) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 4, tasks(), 0, a);
  s.submit("t", inputs(3), opts(1, 10'000, 2), 0, a);
  auto assigns = all<WS::Assign>(a);
  ASSERT_EQ(assigns.size(), 3u);
  auto leaseOf = [&](const WS::Actions& actions, const std::string& input) {
    for (const auto& x : all<WS::Assign>(actions))
      if (x.input == input) return x.lease;
    ADD_FAILURE() << "no lease for " << input;
    return uint64_t{0};
  };
  WS::Actions r;
  s.onResult("a", leaseOf(a, "in0"), WS::ResultKind::Ok, "ok0", 10, r);
  WS::Actions f1;
  s.onResult("a", leaseOf(a, "in1"), WS::ResultKind::Failed, "boom", 20, f1);
  EXPECT_TRUE(all<WS::JobEnded>(f1).empty()) << "one failure of two allowed";
  // The only worker is taken again, though it failed.
  uint64_t retry = leaseOf(f1, "in1");
  EXPECT_EQ(s.jobStats(1)["retries"], 1);
  WS::Actions f2;
  s.onResult("a", retry, WS::ResultKind::Failed, "boom again", 30, f2);
  auto ended = all<WS::JobEnded>(f2);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_FALSE(ended[0].ok);
  EXPECT_NE(ended[0].error.find("unit 1 "), std::string::npos) << ended[0].error;
  EXPECT_NE(ended[0].error.find("boom again"), std::string::npos) << ended[0].error;
  // in2's lease is revoked with the job.
  auto revokes = all<WS::Revoke>(f2);
  ASSERT_EQ(revokes.size(), 1u);
  EXPECT_EQ(revokes[0].lease, leaseOf(a, "in2"));
  EXPECT_EQ(s.activeJobs(), 0u);
  EXPECT_EQ(s.leasesHeldBy("a"), 0u);
  EXPECT_EQ(s.describeWorkers()["a"]["failures"], 2);
}

TEST(WorkScheduler, TimeoutsCountAsAttempts) {
  Driver d;
  d.add("hung", 1, 10, false, true);
  d.submit(2, opts(1, 100, 3));
  d.runUntil(10'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_FALSE(d.ended[0].ok);
  EXPECT_NE(d.ended[0].error.find("unit 0 failed 3 times"), std::string::npos) << d.ended[0].error;
  EXPECT_NE(d.ended[0].error.find("no result from hung within 100 ms"), std::string::npos) << d.ended[0].error;
  EXPECT_EQ(d.now, 300) << "three leases of 100 ms, one after another";
  EXPECT_FALSE(d.s.nextTimeout());
}

TEST(WorkScheduler, AFailedUnitGoesToAnotherWorkerFirst) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 1, tasks(), 0, a);
  s.submit("t", {"x"}, opts(), 0, a);
  auto first = all<WS::Assign>(a).at(0);
  WS::Actions f;
  s.onResult(first.worker, first.lease, WS::ResultKind::Failed, "no", 10, f);
  auto again = all<WS::Assign>(f);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].worker, first.worker);
}

TEST(WorkScheduler, RemovingAWorkerReissuesWithoutCountingAnAttempt) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  uint64_t job = s.submit("t", inputs(2), opts(1, 1000, 1), 0, a);  // one failure would end the job
  ASSERT_EQ(s.leasesHeldBy("a"), 2u);
  WS::Actions gone;
  s.removeWorker("a", 50, gone);
  EXPECT_TRUE(gone.empty()) << "no one else to run them; and nothing to revoke on a worker that is gone";
  EXPECT_EQ(s.activeJobs(), 1u) << "the job waits for a worker";
  EXPECT_FALSE(s.nextTimeout());
  EXPECT_EQ(s.leasesHeldBy("a"), 0u);

  WS::Actions back;
  s.setWorker("b", 1, tasks(), 60, back);
  auto assigns = all<WS::Assign>(back);
  ASSERT_EQ(assigns.size(), 2u);
  WS::Actions r;
  for (const auto& x : assigns) s.onResult("b", x.lease, WS::ResultKind::Ok, output(x.input), 100, r);
  auto ended = all<WS::JobEnded>(r);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].ok) << ended[0].error;
  EXPECT_EQ(ended[0].job, job);
  EXPECT_EQ(ended[0].stats["retries"], 2);
  EXPECT_EQ(ended[0].stats["unitsByPeer"], json({{"b", 2}}));

  // Removing an unknown worker does nothing.
  WS::Actions none;
  s.removeWorker("nobody", 200, none);
  EXPECT_TRUE(none.empty());
}

TEST(WorkScheduler, RemovingAWorkerMovesItsUnitsToTheOthers) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 1, tasks(), 0, a);
  s.submit("t", inputs(4), opts(1, 1000, 1), 0, a);
  ASSERT_EQ(s.leasesHeldBy("a"), 2u);
  ASSERT_EQ(s.leasesHeldBy("b"), 2u);
  std::set<std::string> held;
  for (const auto& x : all<WS::Assign>(a))
    if (x.worker == "a") held.insert(x.input);
  // b finishes its two; a leaves: its two go to b.
  WS::Actions r;
  for (const auto& x : all<WS::Assign>(a))
    if (x.worker == "b") s.onResult("b", x.lease, WS::ResultKind::Ok, output(x.input), 10, r);
  WS::Actions gone;
  s.removeWorker("a", 20, gone);
  auto moved = all<WS::Assign>(gone);
  ASSERT_EQ(moved.size(), 2u);
  std::set<std::string> movedInputs;
  for (const auto& x : moved) {
    EXPECT_EQ(x.worker, "b");
    movedInputs.insert(x.input);
  }
  EXPECT_EQ(movedInputs, held);
  EXPECT_TRUE(all<WS::JobEnded>(gone).empty());
}

TEST(WorkScheduler, QuorumNeedsDistinctWorkers) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 4, tasks(), 0, a);
  s.submit("t", {"x"}, opts(2), 0, a);
  auto first = all<WS::Assign>(a);
  ASSERT_EQ(first.size(), 1u) << "one worker cannot hold two leases on one unit";
  WS::Actions r;
  s.onResult("a", first[0].lease, WS::ResultKind::Ok, "X", 10, r);
  EXPECT_TRUE(r.empty()) << "a single result is no quorum, and a cannot confirm itself";
  EXPECT_EQ(s.jobStats(1)["done"], 0);

  WS::Actions joined;
  s.setWorker("b", 1, tasks(), 20, joined);
  auto second = all<WS::Assign>(joined);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].worker, "b");
  EXPECT_EQ(second[0].input, "x");
  WS::Actions r2;
  s.onResult("b", second[0].lease, WS::ResultKind::Ok, "X", 30, r2);
  auto done = all<WS::UnitDone>(r2);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].output, "X");
  EXPECT_EQ(done[0].workers, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(all<WS::JobEnded>(r2).size(), 1u);
  EXPECT_TRUE(all<WS::JobEnded>(r2)[0].ok);
  EXPECT_EQ(all<WS::JobEnded>(r2)[0].stats["rejectedResults"], 0);
}

TEST(WorkScheduler, QuorumDisagreementAsksAThirdWorkerAndDistrustsTheLoser) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 1, tasks(), 0, a);
  s.setWorker("c", 1, tasks(), 0, a);
  uint64_t job = s.submit("t", {"x"}, opts(2), 0, a);
  auto first = all<WS::Assign>(a);
  ASSERT_EQ(first.size(), 2u) << "redundancy 2: two leases at once";
  ASSERT_NE(first[0].worker, first[1].worker);
  std::set<std::string> holders = {first[0].worker, first[1].worker};
  std::string third;
  for (const std::string w : {"a", "b", "c"})
    if (!holders.count(w)) third = w;

  // The first holder says X, the second Y.
  WS::Actions r1, r2;
  s.onResult(first[0].worker, first[0].lease, WS::ResultKind::Ok, "X", 10, r1);
  EXPECT_TRUE(r1.empty());
  s.onResult(first[1].worker, first[1].lease, WS::ResultKind::Ok, "Y", 20, r2);
  EXPECT_TRUE(all<WS::UnitDone>(r2).empty()) << "1 to 1 is no quorum";
  auto tie = all<WS::Assign>(r2);
  ASSERT_EQ(tie.size(), 1u) << "a third worker breaks the tie";
  EXPECT_EQ(tie[0].worker, third);
  EXPECT_EQ(s.jobStats(job)["retries"], 1);

  WS::Actions r3;
  s.onResult(third, tie[0].lease, WS::ResultKind::Ok, "X", 30, r3);
  auto done = all<WS::UnitDone>(r3);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].output, "X");
  EXPECT_EQ(std::set<std::string>(done[0].workers.begin(), done[0].workers.end()),
            (std::set<std::string>{first[0].worker, third}));
  auto ended = all<WS::JobEnded>(r3);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_TRUE(ended[0].ok);
  EXPECT_EQ(ended[0].stats["rejectedResults"], 1);
  EXPECT_EQ(ended[0].stats["distrustedPeers"], json::array({first[1].worker}));
  EXPECT_EQ(ended[0].stats["unitsByPeer"].value(first[1].worker, 0), 0);
  EXPECT_EQ(s.describeWorkers()[first[1].worker]["rejectedResults"], 1);
}

TEST(WorkScheduler, ALiarNeverWinsAndGetsNoUnitsOnceCaught) {
  Driver d;
  d.add("a", 1, 10);
  d.add("b", 1, 13);
  d.add("liar", 1, 3, /*lies=*/true);  // the fastest, so it is asked first
  uint64_t job = d.submit(30, opts(2, 10'000));
  std::optional<size_t> caughtAfter;  // assigns made before the liar was caught
  while (!caughtAfter) {
    size_t before = d.assigns.size();
    ASSERT_TRUE(d.step(100'000)) << "the liar is caught";
    json stats = d.s.jobStats(job);
    if (!stats.is_null() && stats["distrustedPeers"] == json::array({"liar"})) caughtAfter = before;
  }
  EXPECT_GT(d.assignedTo("liar"), 0) << "the liar did take part";
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  for (size_t i = *caughtAfter; i < d.assigns.size(); ++i)
    EXPECT_NE(d.assigns[i].second.worker, "liar") << "assign " << i << " at " << d.assigns[i].first;
  ASSERT_EQ(d.done.size(), 30u);
  for (const auto& u : d.done) {
    EXPECT_EQ(u.output, "out:in" + std::to_string(u.unit));
    EXPECT_EQ(u.workers.size(), 2u);
    EXPECT_EQ(std::count(u.workers.begin(), u.workers.end(), "liar"), 0);
  }
  const json& stats = d.ended[0].stats;
  EXPECT_GE(stats["rejectedResults"].get<int>(), 1);
  EXPECT_EQ(stats["distrustedPeers"], json::array({"liar"}));
  EXPECT_FALSE(stats["unitsByPeer"].contains("liar"));
  EXPECT_EQ(stats["unitsByPeer"].value("a", 0) + stats["unitsByPeer"].value("b", 0), 60);
}

TEST(WorkScheduler, AnInvalidResultIsRejectedAndReissuedWithoutCostingAnAttempt) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 1, tasks(), 0, a);
  uint64_t job = s.submit("t", inputs(1), opts(1, 1000, 1), 0, a);
  auto first = all<WS::Assign>(a).at(0);
  WS::Actions r;
  EXPECT_EQ(s.onResult(first.worker, first.lease, WS::ResultKind::Invalid, "\xff", 10, r), WS::Verdict::Counted);
  EXPECT_TRUE(all<WS::JobEnded>(r).empty()) << "maxAttempts 1, yet the job goes on";
  auto again = all<WS::Assign>(r);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].worker, first.worker) << "the worker that sent garbage is distrusted";
  json stats = s.jobStats(job);
  EXPECT_EQ(stats["rejectedResults"], 1);
  EXPECT_EQ(stats["retries"], 1);
  EXPECT_EQ(stats["distrustedPeers"], json::array({first.worker}));
}

TEST(WorkScheduler, VerdictsNotGivenAndLate) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 1, tasks(), 0, a);
  uint64_t job = s.submit("t", inputs(3), opts(1, 100), 0, a);
  auto assigns = all<WS::Assign>(a);
  ASSERT_EQ(assigns.size(), 3u);
  WS::Assign ofA, ofB;
  for (const auto& x : assigns) (x.worker == "a" ? ofA : ofB) = x;
  ASSERT_FALSE(ofA.worker.empty());
  ASSERT_FALSE(ofB.worker.empty());

  WS::Actions none;
  EXPECT_EQ(s.onResult("a", 999, WS::ResultKind::Ok, "forged", 10, none), WS::Verdict::NotGiven) << "no such lease";
  EXPECT_EQ(s.onResult("b", ofA.lease, WS::ResultKind::Ok, "forged", 10, none), WS::Verdict::NotGiven)
      << "a's lease, from b";
  EXPECT_EQ(s.onResult("zed", ofA.lease, WS::ResultKind::Ok, "forged", 10, none), WS::Verdict::NotGiven)
      << "from a stranger";
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(s.leasesHeldBy("a"), 2u) << "a's leases are untouched";
  EXPECT_EQ(s.jobStats(job)["done"], 0);

  WS::Actions ok;
  EXPECT_EQ(s.onResult("a", ofA.lease, WS::ResultKind::Ok, output(ofA.input), 20, ok), WS::Verdict::Counted);
  ASSERT_EQ(all<WS::UnitDone>(ok).size(), 1u);
  EXPECT_EQ(all<WS::UnitDone>(ok)[0].output, output(ofA.input)) << "the forged results were not taken";
  EXPECT_EQ(s.onResult("a", ofA.lease, WS::ResultKind::Ok, "again", 30, none), WS::Verdict::Late)
      << "a second answer on a finished lease";
  EXPECT_EQ(s.onResult("b", ofA.lease, WS::ResultKind::Ok, "again", 30, none), WS::Verdict::NotGiven)
      << "a finished lease that b never held";
  EXPECT_TRUE(none.empty());

  // b's lease expires: its answer is then late, not a fault.
  WS::Actions t;
  s.onTimeout(100, t);
  std::set<uint64_t> revoked;
  for (const auto& r : all<WS::Revoke>(t)) revoked.insert(r.lease);
  EXPECT_TRUE(revoked.count(ofB.lease));
  EXPECT_EQ(s.onResult("b", ofB.lease, WS::ResultKind::Ok, output(ofB.input), 110, none), WS::Verdict::Late);
  EXPECT_EQ(s.onResult("a", ofB.lease, WS::ResultKind::Ok, output(ofB.input), 110, none), WS::Verdict::NotGiven);
  EXPECT_TRUE(none.empty());
}

TEST(WorkScheduler, CancelRevokesEveryLeaseAndEndsTheJob) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  s.setWorker("b", 2, tasks(), 0, a);
  uint64_t job = s.submit("t", inputs(10), opts(2), 0, a);
  auto assigns = all<WS::Assign>(a);
  ASSERT_EQ(assigns.size(), 5u);
  // A second job waits behind the first.
  WS::Actions w;
  uint64_t other = s.submit("t", inputs(2, "other"), opts(), 0, w);
  EXPECT_TRUE(all<WS::Assign>(w).empty()) << "every slot is taken";

  WS::Actions c;
  EXPECT_TRUE(s.cancel(job, 10, c));
  std::set<uint64_t> revoked;
  for (const auto& r : all<WS::Revoke>(c)) revoked.insert(r.lease);
  std::set<uint64_t> issued;
  for (const auto& x : assigns) issued.insert(x.lease);
  EXPECT_EQ(revoked, issued);
  auto ended = all<WS::JobEnded>(c);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].job, job);
  EXPECT_FALSE(ended[0].ok);
  EXPECT_EQ(ended[0].error, "cancelled");
  EXPECT_TRUE(all<WS::UnitDone>(c).empty());
  // The freed slots go to the job that waited.
  auto next = all<WS::Assign>(c);
  EXPECT_EQ(next.size(), 2u) << "the waiting job is dispatched at once";
  for (const auto& x : next) EXPECT_EQ(x.input.rfind("other", 0), 0u) << x.input;
  EXPECT_EQ(s.activeJobs(), 1u);
  EXPECT_TRUE(s.jobStats(job).is_null());
  EXPECT_FALSE(s.jobStats(other).is_null());

  WS::Actions late;
  for (const auto& x : assigns)
    EXPECT_EQ(s.onResult(x.worker, x.lease, WS::ResultKind::Ok, "X", 20, late), WS::Verdict::Late);
  EXPECT_TRUE(late.empty());
  WS::Actions again;
  EXPECT_FALSE(s.cancel(job, 30, again)) << "already over";
  EXPECT_FALSE(s.cancel(12345, 30, again)) << "no such job";
  EXPECT_TRUE(again.empty());
}

TEST(WorkScheduler, UnitDoneNamesTheUnitSoOutputsComeInInputOrder) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 7, tasks(), 0, a);
  uint64_t job = s.submit("t", inputs(8), opts(), 0, a);
  auto assigns = all<WS::Assign>(a);
  ASSERT_EQ(assigns.size(), 8u);
  std::reverse(assigns.begin(), assigns.end());
  std::vector<std::string> outputs(8);
  std::vector<size_t> order;
  Millis now = 10;
  for (const auto& x : assigns) {
    WS::Actions r;
    s.onResult("a", x.lease, WS::ResultKind::Ok, output(x.input), now++, r);
    auto done = all<WS::UnitDone>(r);
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].job, job);
    EXPECT_EQ(done[0].done, order.size() + 1);
    EXPECT_EQ(done[0].total, 8u);
    order.push_back(done[0].unit);
    outputs.at(done[0].unit) = done[0].output;
  }
  EXPECT_EQ(order, (std::vector<size_t>{7, 6, 5, 4, 3, 2, 1, 0}));
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(outputs[i], output("in" + std::to_string(i)));
}

TEST(WorkScheduler, JobsAreServedInSubmissionOrder) {
  WS s;
  WS::Actions a;
  s.setWorker("a", 1, tasks(), 0, a);
  uint64_t first = s.submit("t", inputs(3, "first"), opts(), 0, a);
  uint64_t second = s.submit("t", inputs(3, "second"), opts(), 0, a);
  EXPECT_LT(first, second);
  auto assigns = all<WS::Assign>(a);
  ASSERT_EQ(assigns.size(), 2u);
  WS::Actions r;
  s.onResult("a", assigns[0].lease, WS::ResultKind::Ok, "x", 10, r);
  auto next = all<WS::Assign>(r);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].input, "first2") << "the older job's units go first";
}

// ---- small units -------------------------------------------------------------------------

// Units that run here in 0.05 ms, a peer whose round trip costs 1 ms: once
// the job knows a unit's local run time, its units wait for the local worker
// instead of going to the peer, and the local worker holds many at once (the
// host hands them over in batches), marked small.
TEST(WorkScheduler, SmallUnitsStayWithTheLocalWorkerInADeepQueue) {
  Driver d;
  localAndPeer(d, 0.05, 1.05);
  d.submit(2000, opts(1, 10'000));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  const json& byPeer = d.ended[0].stats["unitsByPeer"];
  // Before the first local result the job knows nothing: the peer gets its
  // two slots' worth, and no more.
  EXPECT_LE(byPeer.value("peer", 0), 2);
  EXPECT_EQ(byPeer.value("self", 0) + byPeer.value("peer", 0), 2000);
  // About 4 ms of work queued: 1 running and min(64, 4 / 0.05) waiting.
  EXPECT_EQ(d.workers["self"].peakInFlight, 65u);
  size_t small = 0;
  for (const auto& [at, a] : d.assigns) small += a.small;
  EXPECT_GE(small, 1980u) << "every assign after the first eight local results is marked small";
  for (const auto& [at, a] : d.assigns) {
    if (a.worker == "peer") {
      EXPECT_FALSE(a.small);
    }
  }
  // The whole job took about 2000 x 0.05 ms on the local worker.
  EXPECT_LT(d.now, 2000 * 0.05 + 5);
}

// Units that take 20 ms here are worth a 1 ms round trip: the peer takes its
// share, and the local worker's queue stays one deep.
TEST(WorkScheduler, LargeUnitsStillGoToPeers) {
  Driver d;
  localAndPeer(d, 20, 21);
  d.submit(60, opts(1, 10'000));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  const json& byPeer = d.ended[0].stats["unitsByPeer"];
  EXPECT_GE(byPeer.value("peer", 0), 24) << "the peer does close to half";
  EXPECT_EQ(d.workers["self"].peakInFlight, 2u);
  for (const auto& [at, a] : d.assigns) EXPECT_FALSE(a.small);
}

// Small units under a quorum: the local worker can give each unit only one of
// its two results, so the second still goes to the peer, round trip or not.
TEST(WorkScheduler, SmallUnitsStillGoToAPeerWhenTheQuorumNeedsIt) {
  Driver d;
  localAndPeer(d, 0.05, 1.05);
  d.submit(50, opts(2, 10'000));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  const json& byPeer = d.ended[0].stats["unitsByPeer"];
  EXPECT_EQ(byPeer.value("peer", 0), 50);
  EXPECT_EQ(byPeer.value("self", 0), 50);
}

// Without a worker queue (unitsQueuedPerWorker 0: limit 0) small units still
// stay local, but the local worker holds no more than before.
TEST(WorkScheduler, WithoutALocalQueueLimitSmallUnitsAreNotBatched) {
  Driver d;
  localAndPeer(d, 0.05, 1.05, 0);
  d.submit(200, opts(1, 10'000));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_LE(d.ended[0].stats["unitsByPeer"].value("peer", 0), 2);
  EXPECT_EQ(d.workers["self"].peakInFlight, 2u);
  for (const auto& [at, a] : d.assigns) EXPECT_FALSE(a.small);
}

// A peer whose round trip is not yet known (no pong yet) is not held back.
TEST(WorkScheduler, APeerOfUnknownRoundTripStillTakesUnits) {
  Driver d;
  d.addLocal("self", 1, 0.5);
  d.add("peer", 1, 0.5);
  d.submit(200, opts(1, 10'000));
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_GE(d.ended[0].stats["unitsByPeer"].value("peer", 0), 60);
}


// 100,000 small units that wait for the local worker while a peer is held
// back: each result places the next unit with one pick, so the job takes
// linear time. (Scanning every waiting unit on each result, as dispatch once
// did, took about n^2 / 2 picks: minutes at this size.)
TEST(WorkScheduler, ManySmallUnitsWaitingForTheLocalWorkerCostLinearTime) {
  Driver d;
  localAndPeer(d, 0.05, 1.05);
  const auto t0 = std::chrono::steady_clock::now();
  d.submit(100'000, opts(1, 100'000));
  d.runUntil(1e9);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok);
  EXPECT_LE(d.ended[0].stats["unitsByPeer"].value("peer", 0), 2);
  EXPECT_LT(seconds, 10.0) << "quadratic dispatch";
}

// A job of mixed units, as a picture whose first tiles are blank: the first
// ten run here in 0.05 ms, the other fifty in 20 ms. After eight blank ones
// the job looks small and the local worker is handed a deep queue of the
// large ones; the first of them to run shows otherwise, the queue is revoked
// (the two oldest kept), and the peer (a 1 ms round trip away) takes its
// share: the job takes about half the time one worker would.
TEST(WorkScheduler, AJobWhoseFirstUnitsAreSmallIsStillShared) {
  Driver d;
  localAndPeer(d, 0, 1);
  std::vector<std::string> in = inputs(60);
  for (size_t i = 0; i < in.size(); ++i) d.inputMs[in[i]] = i < 10 ? 0.05 : 20;
  WS::Actions a;
  d.s.submit("t", in, opts(1, 10'000), d.now, a);
  d.apply(a);
  d.runUntil(100'000);
  ASSERT_EQ(d.ended.size(), 1u);
  EXPECT_TRUE(d.ended[0].ok) << d.ended[0].error;
  EXPECT_GE(d.ended[0].stats["unitsByPeer"].value("peer", 0), 20) << "the peer did close to half the large units";
  EXPECT_GE(d.revokes.size(), 40u) << "the deep queue was taken back";
  EXPECT_LT(d.now, 50 * 20 / 2 + 60);
  EXPECT_EQ(d.ended[0].stats["retries"], 0) << "a revoked queue is no failed attempt";
}

