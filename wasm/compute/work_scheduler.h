// WorkScheduler: the jobs this node submitted, split into units and leased
// to workers (this node and the peers that advertise the task), each named by
// its node id.
//
// A unit goes to the worker expected to finish it first, judged by the
// worker's advertised capacity, its units in flight and its observed time per
// unit. Each lease has a deadline; a unit whose lease times out, fails, or
// whose worker leaves is issued again. With redundancy k a unit is accepted
// only when k distinct workers returned byte-identical results (a BOINC-style
// quorum); a worker whose result loses is distrusted for the rest of the job.
//
// Small units are not worth shipping. Once this node's own worker has run
// eight of a job's units, the job knows how long one takes here; a unit that
// runs here in less time than a round trip to a peer takes stays here (it
// waits for the local worker rather than going to the peer), and the local
// worker is then given a deeper queue, so the host can hand it many units in
// one message (about kQueuedWorkMs of work each).
// Sans-I/O like the kernel: time comes in, actions go out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "time/millis.h"

namespace pc {

struct JobOptions {
  uint32_t redundancy = 1;   // distinct workers that must agree on each unit
  Millis timeoutMs = 30'000;  // one lease: how long one worker may take on one unit
  uint32_t maxAttempts = 3;   // failed attempts (errors, timeouts) per unit before the job fails
};

class WorkScheduler {
 public:
  // Run `input` as a unit of `task` on `worker`.
  struct Assign {
    std::string worker;
    uint64_t lease = 0;
    std::string task;
    std::string input;
    // A unit of a job whose units run here in well under a round trip: the
    // local worker may hold many at once (LocalWorkers hands them on).
    bool small = false;
  };
  // The lease is void: the worker may stop, and its result will be ignored.
  struct Revoke {
    std::string worker;
    uint64_t lease = 0;
  };
  // A unit was accepted; `workers` computed the accepted result.
  struct UnitDone {
    uint64_t job = 0;
    size_t unit = 0;
    size_t done = 0, total = 0;
    std::vector<std::string> workers;
    std::string output;
  };
  // The job is over: every unit accepted (ok), or it failed or was cancelled.
  struct JobEnded {
    uint64_t job = 0;
    bool ok = false;
    std::string error;
    nlohmann::json stats;
  };
  using Action = std::variant<Assign, Revoke, UnitDone, JobEnded>;
  using Actions = std::vector<Action>;

  enum class ResultKind {
    Ok,       // task data
    Failed,   // the task reported an error; bytes is its message
    Invalid,  // not well-formed task data: counted as a wrong result
  };
  enum class Verdict {
    Counted,
    Late,      // for a lease that was revoked or timed out: ignored
    NotGiven,  // this worker never held that lease: a protocol fault
  };

  // Adds or updates a worker. Capacity 0 takes no units. The local worker is
  // this node's own; run times are known only for it.
  void setWorker(const std::string& id, uint32_t capacity, std::set<std::string> tasks, Millis now, Actions& out,
                 bool local = false);
  // How many units the local worker may hold per running unit when units are
  // small (0: never more than the one queued behind each running unit).
  void setLocalQueueLimit(uint32_t perWorker) { localQueueLimit_ = perWorker; }
  // What a round trip to a peer costs now (its ping time); 0 while unknown.
  void setShipCost(const std::string& id, double ms);
  // The worker is gone: its leases are issued again, without counting as failures.
  void removeWorker(const std::string& id, Millis now, Actions& out);
  bool anyWorkerOffers(const std::string& task) const;

  uint64_t submit(std::string task, std::vector<std::string> inputs, JobOptions options, Millis now, Actions& out);
  // runMs: how long the unit ran on the local worker (the host measures it);
  // 0 when unknown, and for every other worker.
  Verdict onResult(const std::string& worker, uint64_t lease, ResultKind kind, std::string bytes, Millis now,
                   Actions& out, double runMs = 0);
  bool cancel(uint64_t job, Millis now, Actions& out);
  void onTimeout(Millis now, Actions& out);
  std::optional<Millis> nextTimeout() const;

  size_t activeJobs() const { return jobs_.size(); }
  size_t leasesHeldBy(const std::string& worker) const;
  // Units done, retries and rejected results so far; null for an unknown job.
  nlohmann::json jobStats(uint64_t job) const;
  nlohmann::json describeWorkers() const;

 private:
  struct Worker {
    uint32_t capacity = 0;
    std::set<std::string> tasks;
    uint32_t inFlight = 0;
    double msPerUnit = 0;  // smoothed round trip of a unit; 0 until one returns
    double shipMs = 0;     // a round trip to it (0: unknown, or the local worker)
    bool local = false;
    uint64_t unitsDone = 0, rejected = 0, failures = 0;
  };
  struct Unit {
    std::string input;
    bool done = false;
    std::vector<std::pair<std::string, std::string>> results;  // worker, bytes
    std::set<std::string> active;    // workers holding a lease on it
    std::set<std::string> failedBy;  // workers whose attempt failed
    uint32_t failures = 0;
    std::string lastFailure;
  };
  struct Job {
    uint64_t id = 0;
    std::string task;
    JobOptions options;
    std::vector<Unit> units;
    std::set<size_t> fresh;     // units never issued
    std::set<size_t> retrying;  // units issued before that need another lease
    size_t done = 0;
    std::set<std::string> distrusted;
    std::map<std::string, uint64_t> unitsByWorker;
    uint64_t retries = 0, rejected = 0;
    double localRunMs = 0;  // run time of a unit on the local worker, as estimated (onResult); 0 until known
    uint64_t localRuns = 0;   // units of the job the local worker has run
  };
  struct Lease {
    uint64_t job = 0;
    size_t unit = 0;
    std::string worker;
    Millis issuedAt = 0, deadline = 0;
  };

  // Units a worker may hold for `job`: one queued behind its running ones,
  // or for the local worker and small units, about kQueuedWorkMs of them.
  uint32_t slots(const Worker& w, const Job& job) const;
  bool small(const Job& job) const;
  const Worker* localWorker() const;
  size_t needed(const Job& job, const Unit& unit) const;
  const std::string* pick(const Job& job, const Unit& unit) const;
  void dispatch(Millis now, Actions& out);
  void unhoard(Job& job, const std::string& worker, const Worker& w, Actions& out);
  void issue(Job& job, size_t unit, const std::string& worker, Millis now, Actions& out);
  // Ends a lease (its worker frees a slot); returns it.
  Lease endLease(uint64_t lease, bool retire);
  void attemptFailed(Job& job, size_t unit, const std::string& worker, const std::string& why, Actions& out);
  void accept(Job& job, size_t unit, const std::string& output, Actions& out);
  void finish(uint64_t job, bool ok, std::string error, Actions& out);
  nlohmann::json statsOf(const Job& job) const;

  std::map<std::string, Worker> workers_;
  std::map<uint64_t, Job> jobs_;  // in submission order
  std::map<uint64_t, Lease> leases_;
  // Recently ended leases and their workers, so a result that crossed a
  // revoke is told apart from one for a unit the worker never had.
  std::map<uint64_t, std::string> retired_;
  uint64_t nextJob_ = 1;
  uint64_t nextLease_ = 1;
  uint32_t localQueueLimit_ = 0;
  std::string localId_;
};

}  // namespace pc
