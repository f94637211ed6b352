#include "compute/work_scheduler.h"

#include <algorithm>

namespace pc {

using nlohmann::json;

namespace {
constexpr size_t kRetiredLeasesKept = 4096;
constexpr double kSpeedSmoothing = 0.3;  // weight of the newest round trip, or run time
// The work a deep local queue holds per worker, in run time: enough that the
// host hands the worker many small units in one message, little enough that
// a job's end, a cancel, or another owner's unit never waits long behind it.
constexpr double kQueuedWorkMs = 4;
// How much one small run lowers the local run-time estimate.
constexpr double kSmallEvidence = 0.1;
// Local runs of a job seen before it is judged small: before that its units
// neither stay home nor queue deep (a picture's first tiles may all be blank).
constexpr uint64_t kRunsBeforeJudging = 8;
}  // namespace

void WorkScheduler::setWorker(const std::string& id, uint32_t capacity, std::set<std::string> tasks, Millis now,
                              Actions& out, bool local) {
  Worker& w = workers_[id];
  w.capacity = capacity;
  w.tasks = std::move(tasks);
  w.local = local;
  if (local) localId_ = id;
  dispatch(now, out);
}

void WorkScheduler::setShipCost(const std::string& id, double ms) {
  auto it = workers_.find(id);
  if (it != workers_.end() && !it->second.local) it->second.shipMs = ms > 0 ? ms : 0;
}

const WorkScheduler::Worker* WorkScheduler::localWorker() const {
  auto it = localId_.empty() ? workers_.end() : workers_.find(localId_);
  return it == workers_.end() ? nullptr : &it->second;
}

// Small: the job's units have run here in under half kQueuedWorkMs, for
// several runs, so a deep queue holds at least two.
bool WorkScheduler::small(const Job& job) const {
  return localQueueLimit_ > 0 && job.localRuns >= kRunsBeforeJudging && job.localRunMs > 0 &&
         job.localRunMs * 2 < kQueuedWorkMs;
}

uint32_t WorkScheduler::slots(const Worker& w, const Job& job) const {
  if (!w.local || !small(job)) return w.capacity + 1;
  double perWorker = std::min<double>(localQueueLimit_, kQueuedWorkMs / job.localRunMs);
  return w.capacity * (1 + static_cast<uint32_t>(perWorker));
}

void WorkScheduler::removeWorker(const std::string& id, Millis now, Actions& out) {
  if (!workers_.count(id)) return;
  std::vector<uint64_t> held;
  for (const auto& [lease, l] : leases_)
    if (l.worker == id) held.push_back(lease);
  for (uint64_t lease : held) {
    Lease l = endLease(lease, false);
    Job& job = jobs_.at(l.job);
    ++job.retries;
    job.retrying.insert(l.unit);
  }
  workers_.erase(id);
  dispatch(now, out);
}

bool WorkScheduler::anyWorkerOffers(const std::string& task) const {
  for (const auto& [id, w] : workers_)
    if (w.capacity > 0 && w.tasks.count(task)) return true;
  return false;
}

uint64_t WorkScheduler::submit(std::string task, std::vector<std::string> inputs, JobOptions options, Millis now,
                               Actions& out) {
  uint64_t id = nextJob_++;
  Job& job = jobs_[id];
  job.id = id;
  job.task = std::move(task);
  job.options = options;
  job.units.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    job.units[i].input = std::move(inputs[i]);
    job.fresh.insert(job.fresh.end(), i);
  }
  if (job.units.empty()) finish(id, true, {}, out);
  else dispatch(now, out);
  return id;
}

size_t WorkScheduler::needed(const Job& job, const Unit& unit) const {
  if (unit.done) return 0;
  // The largest group of identical results counts toward the quorum.
  size_t agree = 0;
  for (const auto& [w, bytes] : unit.results) {
    size_t n = 0;
    for (const auto& [w2, bytes2] : unit.results) n += bytes2 == bytes;
    agree = std::max(agree, n);
  }
  size_t have = agree + unit.active.size();
  return have >= job.options.redundancy ? 0 : job.options.redundancy - have;
}

const std::string* WorkScheduler::pick(const Job& job, const Unit& unit) const {
  double known = 0;
  size_t knownCount = 0;
  for (const auto& [id, w] : workers_)
    if (w.msPerUnit > 0) known += w.msPerUnit, ++knownCount;
  double typical = knownCount ? known / knownCount : 1;

  // A worker whose attempt failed is taken only when no other can run it,
  // so a unit is not stuck while its only remaining worker is one that failed.
  auto mayTake = [&](const std::string& id, const Worker& w) {
    if (w.capacity == 0 || !w.tasks.count(job.task)) return false;
    if (job.distrusted.count(id) || unit.active.count(id)) return false;
    for (const auto& r : unit.results)
      if (r.first == id) return false;
    return true;
  };
  // A unit that runs here in less time than a round trip to a peer costs
  // stays here, as long as the local worker may take it: shipping it would
  // cost both main threads more than running it.
  const Worker* local = localWorker();
  const bool keepHere = local && job.localRuns >= kRunsBeforeJudging && mayTake(localId_, *local) &&
                        !unit.failedBy.count(localId_);

  const std::string* best = nullptr;
  bool bestFailed = true;
  double bestCost = 0;
  bool otherCould = false;  // a worker that has not failed the unit, free or busy
  for (const auto& [id, w] : workers_) {
    if (!mayTake(id, w)) continue;
    bool failed = unit.failedBy.count(id) > 0;
    otherCould = otherCould || !failed;
    if (keepHere && !w.local && w.shipMs > job.localRunMs) continue;
    if (w.inFlight >= slots(w, job)) continue;
    double cost = (w.inFlight + 1) * (w.msPerUnit > 0 ? w.msPerUnit : typical) / w.capacity;
    if (!best || (bestFailed && !failed) || (bestFailed == failed && cost < bestCost)) {
      best = &id;
      bestFailed = failed;
      bestCost = cost;
    }
  }
  // A worker that is only busy can still run it: the unit waits for its free
  // slot. Sent back to the worker that failed it whenever the others happened
  // to be full, a unit used up all its attempts on one hung worker.
  if (best && bestFailed && otherCould) return nullptr;
  return best;
}

void WorkScheduler::dispatch(Millis now, Actions& out) {
  auto anyFreeSlot = [&](const Job& job) {
    return std::any_of(workers_.begin(), workers_.end(), [&](const auto& w) {
      return w.second.capacity > 0 && w.second.inFlight < slots(w.second, job);
    });
  };
  // A unit wants `needed` more leases; true when it got them all.
  auto place = [&](Job& job, size_t u) {
    Unit& unit = job.units[u];
    while (needed(job, unit) > 0) {
      const std::string* worker = pick(job, unit);
      if (!worker) break;
      issue(job, u, *worker, now, out);
    }
    return needed(job, unit) == 0;
  };
  for (auto& [id, job] : jobs_) {
    // Units issued before come first; each has a history of its own.
    for (auto it = job.retrying.begin(); it != job.retrying.end() && anyFreeSlot(job);)
      it = place(job, *it) ? job.retrying.erase(it) : std::next(it);
    // Fresh units are alike: where one finds no worker, none after it would,
    // so the scan ends there, and a job of many small units that wait for
    // the local worker costs one pick per result, not one per waiting unit.
    // (One that got some of its leases, under a quorum, is fresh no more.)
    for (auto it = job.fresh.begin(); it != job.fresh.end() && anyFreeSlot(job);) {
      const size_t u = *it;
      if (place(job, u)) {
        it = job.fresh.erase(it);
      } else if (!job.units[u].active.empty()) {
        job.retrying.insert(u);
        it = job.fresh.erase(it);
      } else {
        break;
      }
    }
  }
}

// The job's units turned out not to be small: of the units the local worker
// holds for it, it keeps as many as usual (the oldest, which it runs first)
// and the rest are revoked, still queued, to go wherever they now fit best.
void WorkScheduler::unhoard(Job& job, const std::string& worker, const Worker& w, Actions& out) {
  std::vector<uint64_t> held;  // in issue order: the map is ordered by lease
  for (const auto& [id, l] : leases_)
    if (l.job == job.id && l.worker == worker) held.push_back(id);
  const size_t keep = w.capacity + 1;
  for (size_t i = keep; i < held.size(); ++i) {
    Lease l = endLease(held[i], true);
    out.push_back(Revoke{l.worker, held[i]});
    job.retrying.insert(l.unit);
  }
}

void WorkScheduler::issue(Job& job, size_t u, const std::string& worker, Millis now, Actions& out) {
  uint64_t lease = nextLease_++;
  leases_[lease] = Lease{job.id, u, worker, now, now + job.options.timeoutMs};
  job.units[u].active.insert(worker);
  Worker& w = workers_.at(worker);
  ++w.inFlight;
  out.push_back(Assign{worker, lease, job.task, job.units[u].input, w.local && small(job)});
}

WorkScheduler::Lease WorkScheduler::endLease(uint64_t id, bool retire) {
  Lease l = std::move(leases_.at(id));
  leases_.erase(id);
  auto w = workers_.find(l.worker);
  if (w != workers_.end() && w->second.inFlight > 0) --w->second.inFlight;
  auto job = jobs_.find(l.job);
  if (job != jobs_.end()) job->second.units[l.unit].active.erase(l.worker);
  if (retire) {
    retired_[id] = l.worker;
    if (retired_.size() > kRetiredLeasesKept) retired_.erase(retired_.begin());
  }
  return l;
}

void WorkScheduler::attemptFailed(Job& job, size_t u, const std::string& worker, const std::string& why,
                                  Actions& out) {
  Unit& unit = job.units[u];
  ++unit.failures;
  unit.failedBy.insert(worker);
  unit.lastFailure = why;
  auto w = workers_.find(worker);
  if (w != workers_.end()) ++w->second.failures;
  if (unit.failures >= job.options.maxAttempts) {
    finish(job.id, false,
           "unit " + std::to_string(u) + " failed " + std::to_string(unit.failures) + " times; last: " + why, out);
    return;
  }
  ++job.retries;
  job.retrying.insert(u);
}

WorkScheduler::Verdict WorkScheduler::onResult(const std::string& worker, uint64_t leaseId, ResultKind kind,
                                               std::string bytes, Millis now, Actions& out, double runMs) {
  auto it = leases_.find(leaseId);
  if (it == leases_.end() || it->second.worker != worker) {
    auto r = retired_.find(leaseId);
    return r != retired_.end() && r->second == worker ? Verdict::Late : Verdict::NotGiven;
  }
  Lease lease = endLease(leaseId, true);
  Job& job = jobs_.at(lease.job);
  Unit& unit = job.units[lease.unit];
  Worker& w = workers_.at(worker);
  double took = std::max<double>(now - lease.issuedAt, 0.001);
  w.msPerUnit = w.msPerUnit > 0 ? (1 - kSpeedSmoothing) * w.msPerUnit + kSpeedSmoothing * took : took;
  if (w.local && runMs > 0 && kind == ResultKind::Ok) {
    // Quick to see a large unit, slow to believe units small: one unit that
    // ran long sets the estimate at once, so a job of mixed units (a picture
    // whose first tiles are blank) is shipped and not hoarded; only a run of
    // small ones brings it down.
    const bool wasSmall = small(job);
    job.localRunMs = runMs >= job.localRunMs ? runMs : (1 - kSmallEvidence) * job.localRunMs + kSmallEvidence * runMs;
    ++job.localRuns;
    if (wasSmall && !small(job)) unhoard(job, worker, w, out);
  }

  if (kind == ResultKind::Failed) {
    attemptFailed(job, lease.unit, worker, "at " + worker + ": " + bytes, out);
  } else if (kind == ResultKind::Invalid) {
    // Malformed data is a wrong answer: it counts against the worker, not
    // against the unit's attempts.
    ++job.rejected;
    ++w.rejected;
    job.distrusted.insert(worker);
    ++job.retries;
    job.retrying.insert(lease.unit);
  } else {
    unit.results.emplace_back(worker, std::move(bytes));
    size_t agree = 0;
    const std::string& latest = unit.results.back().second;
    for (const auto& r : unit.results) agree += r.second == latest;
    if (agree >= job.options.redundancy) {
      std::string output = latest;
      accept(job, lease.unit, output, out);
    } else if (needed(job, unit) > 0) {
      if (unit.active.empty() && unit.results.size() > 1) ++job.retries;  // they disagree: ask someone else
      job.retrying.insert(lease.unit);
    }
  }
  dispatch(now, out);
  return Verdict::Counted;
}

void WorkScheduler::accept(Job& job, size_t u, const std::string& output, Actions& out) {
  Unit& unit = job.units[u];
  unit.done = true;
  UnitDone done{job.id, u, ++job.done, job.units.size(), {}, output};
  for (const auto& [worker, bytes] : unit.results) {
    auto w = workers_.find(worker);
    if (bytes == output) {
      done.workers.push_back(worker);
      ++job.unitsByWorker[worker];
      if (w != workers_.end()) ++w->second.unitsDone;
    } else {
      ++job.rejected;
      job.distrusted.insert(worker);
      if (w != workers_.end()) ++w->second.rejected;
    }
  }
  std::vector<uint64_t> others;
  for (const auto& [id, l] : leases_)
    if (l.job == job.id && l.unit == u) others.push_back(id);
  for (uint64_t id : others) out.push_back(Revoke{endLease(id, true).worker, id});
  unit.results.clear();
  unit.results.shrink_to_fit();
  unit.input.clear();
  unit.input.shrink_to_fit();
  job.fresh.erase(u);
  job.retrying.erase(u);
  uint64_t id = job.id;
  bool complete = job.done == job.units.size();
  out.push_back(std::move(done));
  if (complete) finish(id, true, {}, out);
}

void WorkScheduler::finish(uint64_t id, bool ok, std::string error, Actions& out) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  std::vector<uint64_t> held;
  for (const auto& [lease, l] : leases_)
    if (l.job == id) held.push_back(lease);
  for (uint64_t lease : held) out.push_back(Revoke{endLease(lease, true).worker, lease});
  out.push_back(JobEnded{id, ok, std::move(error), statsOf(it->second)});
  jobs_.erase(it);
}

bool WorkScheduler::cancel(uint64_t job, Millis now, Actions& out) {
  if (!jobs_.count(job)) return false;
  finish(job, false, "cancelled", out);
  dispatch(now, out);  // its workers' slots go to the other jobs
  return true;
}

void WorkScheduler::onTimeout(Millis now, Actions& out) {
  std::vector<uint64_t> expired;
  for (const auto& [id, l] : leases_)
    if (now >= l.deadline) expired.push_back(id);
  for (uint64_t id : expired) {
    if (!leases_.count(id)) continue;  // its job failed meanwhile
    Lease l = endLease(id, true);
    out.push_back(Revoke{l.worker, id});
    auto job = jobs_.find(l.job);
    if (job == jobs_.end()) continue;
    attemptFailed(job->second, l.unit, l.worker,
                  "no result from " + l.worker + " within " + std::to_string(static_cast<int64_t>(job->second.options.timeoutMs)) + " ms",
                  out);
  }
  if (!expired.empty()) dispatch(now, out);
}

std::optional<Millis> WorkScheduler::nextTimeout() const {
  std::optional<Millis> next;
  for (const auto& [id, l] : leases_)
    if (!next || l.deadline < *next) next = l.deadline;
  return next;
}

size_t WorkScheduler::leasesHeldBy(const std::string& worker) const {
  return static_cast<size_t>(
      std::count_if(leases_.begin(), leases_.end(), [&](const auto& l) { return l.second.worker == worker; }));
}

json WorkScheduler::statsOf(const Job& job) const {
  json byPeer = json::object();
  for (const auto& [worker, n] : job.unitsByWorker) byPeer[worker] = n;
  return {{"done", job.done},
          {"total", job.units.size()},
          {"unitsByPeer", byPeer},
          {"retries", job.retries},
          {"rejectedResults", job.rejected},
          {"distrustedPeers", job.distrusted}};
}

json WorkScheduler::jobStats(uint64_t job) const {
  auto it = jobs_.find(job);
  return it == jobs_.end() ? json(nullptr) : statsOf(it->second);
}

json WorkScheduler::describeWorkers() const {
  json out = json::object();
  for (const auto& [id, w] : workers_) {
    out[id] = {{"workers", w.capacity},
               {"tasks", w.tasks},
               {"inFlight", w.inFlight},
               {"msPerUnit", w.msPerUnit > 0 ? json(w.msPerUnit) : json(nullptr)},
               {"roundTripMs", w.shipMs > 0 ? json(w.shipMs) : json(nullptr)},
               {"unitsDone", w.unitsDone},
               {"rejectedResults", w.rejected},
               {"failures", w.failures}};
  }
  return out;
}

}  // namespace pc
