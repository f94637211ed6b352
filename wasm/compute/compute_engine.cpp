#include "compute/compute_engine.h"

#include <algorithm>

#include "compute/builtin_tasks.h"
#include "compute/task_data.h"
#include "rules/app_rules.h"
#include "state/json_text.h"

namespace pc {

namespace {
constexpr size_t kMaxTasksAdvertised = 256;
constexpr uint64_t kMaxWorkersAdvertised = 1024;
// Small units of this node's own jobs queued in one worker at most (the
// scheduler keeps it to about 4 ms of work); none without a worker queue.
constexpr uint32_t kSmallUnitsPerWorker = 64;
}  // namespace

void ComputeEngine::configure(Millis now) {
  const NodeConfig& c = ctx_.config;
  const uint32_t small = c.unitsQueuedPerWorker > 0 ? kSmallUnitsPerWorker : 0;
  localWorkers_.setCapacity(c.computeWorkers, c.unitsQueuedPerWorker, small);
  scheduler_.setLocalQueueLimit(small);
  for (const std::string& name : builtinTaskNames()) localTasks_.insert(name);
  WorkScheduler::Actions actions;
  scheduler_.setWorker(c.nodeId, c.computeWorkers, localTasks_, now, actions, true);
  apply(actions, now);
}

void ComputeEngine::refreshShipCosts() {
  for (const std::string& peer : ctx_.links.connected())
    scheduler_.setShipCost(peer, ctx_.links.roundTripMs(peer).value_or(0));
}

Result ComputeEngine::registerTask(const std::string& name, Millis now) {
  if (std::string why = rules::checkTaskName(name); !why.empty()) return Result::failure(why);
  if (isBuiltinTask(name)) return Result::failure("'" + name + "' is a built-in task");
  if (!localTasks_.insert(name).second) return Result::success();
  if (localTasks_.size() > kMaxTasksAdvertised) {
    localTasks_.erase(name);
    return Result::failure("at most " + std::to_string(kMaxTasksAdvertised) + " tasks can be registered");
  }
  WorkScheduler::Actions actions;
  scheduler_.setWorker(ctx_.config.nodeId, ctx_.config.computeWorkers, localTasks_, now, actions, true);
  apply(actions, now);
  wire::Frame caps = capabilities();
  for (const std::string& peer : ctx_.links.connected()) ctx_.links.send(peer, caps);
  return Result::success();
}

Result ComputeEngine::submitJob(const std::string& task, std::vector<std::string> inputs, const JobOptions& options,
                                Millis now, uint64_t* job) {
  const NodeConfig& c = ctx_.config;
  if (std::string why = rules::checkTaskName(task); !why.empty()) return Result::failure(why);
  if (!localTasks_.count(task) && !scheduler_.anyWorkerOffers(task))
    return Result::failure("unknown task '" + task +
                           "': neither this node nor a connected peer has registered it (built-in tasks: countPrimes, mandelbrot)");
  if (std::string why = rules::checkJobOptions(options.redundancy, options.timeoutMs, options.maxAttempts); !why.empty())
    return Result::failure(why);
  if (inputs.size() > rules::kMaxUnitsPerJob)
    return Result::failure("a job has at most " + std::to_string(rules::kMaxUnitsPerJob) + " inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() > c.maxTaskDataBytes)
      return Result::failure("inputs[" + std::to_string(i) + "] is " + std::to_string(inputs[i].size()) +
                             " bytes, over the limit of " + std::to_string(c.maxTaskDataBytes) + " (maxTaskDataBytes)");
    std::string why = checkTaskData(inputs[i]);
    if (!why.empty()) return Result::failure("inputs[" + std::to_string(i) + "] is not task data: " + why);
    // A built-in task's input is checked now, not when a worker runs it.
    if (isBuiltinTask(task) && !(why = checkBuiltinInput(task, inputs[i])).empty())
      return Result::failure("inputs[" + std::to_string(i) + "]: " + why);
  }
  refreshShipCosts();
  WorkScheduler::Actions actions;
  *job = scheduler_.submit(task, std::move(inputs), options, now, actions);
  apply(actions, now);
  return Result::success();
}

Result ComputeEngine::cancelJob(uint64_t job, Millis now) {
  WorkScheduler::Actions actions;
  if (!scheduler_.cancel(job, now, actions)) return Result::failure("no running job has id " + std::to_string(job));
  apply(actions, now);
  return Result::success();
}

void ComputeEngine::handleTaskResult(uint64_t exec, bool ok, std::string bytes, double runMs, Millis now) {
  const NodeConfig& c = ctx_.config;
  std::optional<LocalWorkers::Run> run = localWorkers_.finish(exec);
  if (!run) return;
  if (!run->cancelled) {
    if (ok && bytes.size() > c.maxTaskDataBytes) {
      ok = false;
      bytes = "the result is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
              std::to_string(c.maxTaskDataBytes) + " (maxTaskDataBytes)";
    } else if (ok && !checkTaskData(bytes).empty()) {
      ok = false;
      bytes = "the result is not task data: " + checkTaskData(bytes);
    }
    if (!ok && !isValidUtf8(bytes)) bytes = "the task failed (its message was not UTF-8)";
    if (!ok && bytes.size() > wire::kMaxTaskErrorBytes) {
      size_t cut = wire::kMaxTaskErrorBytes;
      while (cut > 0 && (static_cast<unsigned char>(bytes[cut]) & 0xC0) == 0x80) --cut;
      bytes.resize(cut);
    }
    if (run->origin == c.nodeId) {
      refreshShipCosts();
      WorkScheduler::Actions actions;
      scheduler_.onResult(c.nodeId, run->lease, ok ? WorkScheduler::ResultKind::Ok : WorkScheduler::ResultKind::Failed,
                          std::move(bytes), now, actions, runMs);
      apply(actions, now);
    } else if (ctx_.links.isConnected(run->origin)) {
      ctx_.links.send(run->origin, wire::WorkResult{run->lease, ok, std::move(bytes)});
    }
  }
  startLocalRuns();
}

void ComputeEngine::apply(WorkScheduler::Actions& actions, Millis) {
  const std::string& self = ctx_.config.nodeId;
  for (WorkScheduler::Action& a : actions) {
    std::visit(
        [&](auto&& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, WorkScheduler::Assign>) {
            if (x.worker == self) localWorkers_.enqueue(self, x.lease, std::move(x.task), std::move(x.input), 0, x.small);
            else ctx_.links.send(x.worker, wire::WorkAssign{x.lease, std::move(x.task), std::move(x.input)});
          } else if constexpr (std::is_same_v<T, WorkScheduler::Revoke>) {
            if (x.worker == self) {
              if (auto exec = localWorkers_.cancel(self, x.lease)) ctx_.outputs.push_back(CancelTask{*exec});
            } else if (ctx_.links.isConnected(x.worker)) {
              ctx_.links.send(x.worker, wire::WorkCancel{x.lease});
            }
          } else if constexpr (std::is_same_v<T, WorkScheduler::UnitDone>) {
            ctx_.outputs.push_back(JobProgress{x.job, x.unit, x.done, x.total, std::move(x.workers), std::move(x.output)});
          } else if constexpr (std::is_same_v<T, WorkScheduler::JobEnded>) {
            ctx_.outputs.push_back(JobFinished{x.job, x.ok, std::move(x.error), x.stats.dump()});
          }
        },
        a);
  }
  startLocalRuns();
  // The scheduler's next lease deadline, wherever its actions moved it.
  ctx_.timers.setOrClear(Timer::Leases, {}, scheduler_.nextTimeout());
}

void ComputeEngine::onLeasesDeadline(Millis now) {
  WorkScheduler::Actions actions;
  scheduler_.onTimeout(now, actions);
  apply(actions, now);
}

void ComputeEngine::startLocalRuns() {
  for (LocalWorkers::Run& run : localWorkers_.start())
    ctx_.outputs.push_back(RunTask{run.exec, std::move(run.task), std::move(run.input), run.budgetMs});
}

wire::Capabilities ComputeEngine::capabilities() const {
  return wire::Capabilities{ctx_.config.computeWorkers, std::vector<std::string>(localTasks_.begin(), localTasks_.end())};
}

void ComputeEngine::peerConnected(const std::string& peer) { ctx_.links.send(peer, capabilities()); }

void ComputeEngine::peerGone(const std::string& peer, Millis now) {
  for (uint64_t exec : localWorkers_.cancelAllFrom(peer)) ctx_.outputs.push_back(CancelTask{exec});
  WorkScheduler::Actions actions;
  scheduler_.removeWorker(peer, now, actions);
  apply(actions, now);
}

void ComputeEngine::onFrame(const std::string& peer, wire::Capabilities&& f, Millis now) {
  if (f.workers > kMaxWorkersAdvertised || f.tasks.size() > kMaxTasksAdvertised ||
      !std::all_of(f.tasks.begin(), f.tasks.end(), [](const std::string& t) { return rules::isValidTaskName(t); }))
    return ctx_.links.reject(peer, "Capabilities out of bounds");
  WorkScheduler::Actions actions;
  scheduler_.setWorker(peer, static_cast<uint32_t>(f.workers), std::set<std::string>(f.tasks.begin(), f.tasks.end()),
                       now, actions);
  scheduler_.setShipCost(peer, ctx_.links.roundTripMs(peer).value_or(0));
  apply(actions, now);
}

void ComputeEngine::onFrame(const std::string& peer, wire::WorkAssign&& f, Millis) {
  const NodeConfig& c = ctx_.config;
  std::string why;
  if (f.input.size() > c.maxTaskDataBytes) {
    why = "the input is over this node's limit of " + std::to_string(c.maxTaskDataBytes) + " bytes";
  } else if (std::string malformed = checkTaskData(f.input); !malformed.empty()) {
    why = "the input is not task data: " + malformed;
  } else if (!localTasks_.count(f.task)) {
    why = "that task is not registered on " + c.nodeId;
  } else if (c.computeWorkers == 0) {
    why = c.nodeId + " runs no tasks (computeWorkers is 0)";
  } else if (localWorkers_.activeFrom(peer) > c.computeWorkers) {
    // An honest owner holds at most one unit queued behind each advertised
    // worker (WorkScheduler::slots), and a revoke reaches us before the
    // assign that reuses its slot. More is a flood that would queue without bound.
    why = c.nodeId + " takes at most " + std::to_string(c.computeWorkers + 1) + " units at once from one peer";
  }
  if (!why.empty()) {
    ctx_.links.reject(peer, "WorkAssign refused: " + why);
    ctx_.links.send(peer, wire::WorkResult{f.lease, false, why});
    return;
  }
  localWorkers_.enqueue(peer, f.lease, std::move(f.task), std::move(f.input), c.maxUnitMs);
  startLocalRuns();
}

void ComputeEngine::onFrame(const std::string& peer, wire::WorkResult&& f, Millis now) {
  const NodeConfig& c = ctx_.config;
  WorkScheduler::ResultKind kind = WorkScheduler::ResultKind::Failed;
  bool oversized = f.ok && f.bytes.size() > c.maxTaskDataBytes;
  if (oversized) {
    // Too big for this node is no lie: a peer whose limit is larger sent it
    // in good faith, and so would every other. As a wrong answer it got each
    // worker distrusted and left the unit waiting forever; as a failed
    // attempt (as on this node's own worker) the job ends, naming the limit.
    f.bytes = "the result is " + std::to_string(f.bytes.size()) + " bytes, over the limit of " +
              std::to_string(c.maxTaskDataBytes) + " on " + c.nodeId + " (maxTaskDataBytes)";
  } else if (f.ok) {
    kind = checkTaskData(f.bytes).empty() ? WorkScheduler::ResultKind::Ok : WorkScheduler::ResultKind::Invalid;
  }
  refreshShipCosts();
  WorkScheduler::Actions actions;
  WorkScheduler::Verdict verdict = scheduler_.onResult(peer, f.lease, kind, std::move(f.bytes), now, actions);
  if (verdict == WorkScheduler::Verdict::NotGiven) {
    ++ctx_.counters.rejectedResults;
    ctx_.links.reject(peer, "a result for a unit it was not given (lease " + std::to_string(f.lease) + ")");
  } else if (verdict == WorkScheduler::Verdict::Counted && kind == WorkScheduler::ResultKind::Invalid) {
    ++ctx_.counters.rejectedResults;
    ctx_.links.reject(peer, "a result that is not task data");
  } else if (verdict == WorkScheduler::Verdict::Counted && oversized) {
    ++ctx_.counters.rejectedResults;  // refused, though not the peer's fault
  }
  apply(actions, now);
}

void ComputeEngine::onFrame(const std::string& peer, wire::WorkCancel&& f, Millis) {
  if (auto exec = localWorkers_.cancel(peer, f.lease)) ctx_.outputs.push_back(CancelTask{*exec});
}

nlohmann::json ComputeEngine::describe() const {
  return {{"enabled", true},
          {"available", localWorkers_.capacity() > 0},
          {"workers", localWorkers_.capacity()},
          {"queued", localWorkers_.queued()},
          {"running", localWorkers_.running()},
          {"completed", localWorkers_.completed()},
          {"tasks", localTasks_},
          {"activeJobs", scheduler_.activeJobs()},
          {"rejectedResults", ctx_.counters.rejectedResults},
          {"maxTaskDataBytes", ctx_.config.maxTaskDataBytes}};
}

}  // namespace pc
