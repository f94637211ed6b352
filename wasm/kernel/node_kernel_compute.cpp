// The compute half of NodeKernel: it wires the WorkScheduler (this node's
// jobs) and LocalWorkers (units this node runs) to peers and to the host.
#include <algorithm>

#include "compute/builtin_tasks.h"
#include "compute/task_data.h"
#include "kernel/node_kernel.h"
#include "state/json_text.h"

namespace pc {

using nlohmann::json;

namespace {

constexpr size_t kMaxTasksAdvertised = 256;
constexpr uint64_t kMaxWorkersAdvertised = 1024;
constexpr size_t kMaxUnitsPerJob = 1'000'000;

bool isValidTaskName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.' || c == ':';
  });
}

// The test hook's wrong answer: the first number, string or byte of the
// value changes, and it stays well-formed, so only a quorum can catch it.
bool perturb(json& v) {
  switch (v.type()) {
    case json::value_t::number_unsigned: v = v.get<uint64_t>() + 1; return true;
    case json::value_t::number_integer: v = v.get<int64_t>() + 1; return true;
    case json::value_t::number_float: v = v.get<double>() + 1; return true;
    case json::value_t::string: v = v.get<std::string>() + "?"; return true;
    case json::value_t::boolean: v = !v.get<bool>(); return true;
    case json::value_t::binary:
      if (v.get_binary().empty()) return false;
      v.get_binary()[0] ^= 1;
      return true;
    case json::value_t::array:
    case json::value_t::object:
      for (auto& item : v)
        if (perturb(item)) return true;
      return false;
    default: return false;
  }
}

std::string corrupted(const std::string& bytes) {
  std::optional<json> v = parseTaskData(bytes);
  if (!v || !perturb(*v)) return encodeTaskData(json("wrong"));
  return encodeTaskData(*v);
}

}  // namespace

Result NodeKernel::registerTask(const std::string& name, Millis now) {
  if (Result r = requireInitialized("registerTask()"); !r.ok) return r;
  if (!isValidTaskName(name))
    return Result::failure("task name must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.' or ':'");
  if (isBuiltinTask(name)) return Result::failure("'" + name + "' is a built-in task");
  if (!localTasks_.insert(name).second) return Result::success();
  if (localTasks_.size() > kMaxTasksAdvertised) {
    localTasks_.erase(name);
    return Result::failure("at most " + std::to_string(kMaxTasksAdvertised) + " tasks can be registered");
  }
  WorkScheduler::Actions actions;
  scheduler_.setWorker(config_.nodeId, config_.computeWorkers, localTasks_, now, actions);
  applyWork(actions, now);
  wire::Capabilities caps = capabilities();
  for (auto& [id, peer] : peers_)
    if (peer.state == PeerState::Connected) sendFrame(peer, caps);
  return Result::success();
}

Result NodeKernel::submitJob(const std::string& task, std::vector<std::string> inputs, const JobOptions& options,
                             Millis now, uint64_t* job) {
  if (Result r = requireInitialized("submitJob()"); !r.ok) return r;
  if (!isValidTaskName(task)) return Result::failure("task name must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.' or ':'");
  if (!localTasks_.count(task) && !scheduler_.anyWorkerOffers(task))
    return Result::failure("unknown task '" + task +
                           "': neither this node nor a connected peer has registered it (built-in tasks: countPrimes, mandelbrot)");
  if (options.redundancy < 1 || options.redundancy > 16) return Result::failure("redundancy must be an integer in 1..16");
  if (!(options.timeoutMs > 0)) return Result::failure("timeoutMs must be positive");
  if (options.maxAttempts < 1 || options.maxAttempts > 100) return Result::failure("maxAttempts must be an integer in 1..100");
  if (inputs.size() > kMaxUnitsPerJob) return Result::failure("a job has at most " + std::to_string(kMaxUnitsPerJob) + " inputs");
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() > config_.maxTaskDataBytes)
      return Result::failure("inputs[" + std::to_string(i) + "] is " + std::to_string(inputs[i].size()) +
                             " bytes, over the limit of " + std::to_string(config_.maxTaskDataBytes) + " (maxTaskDataBytes)");
    std::string why = checkTaskData(inputs[i]);
    if (!why.empty()) return Result::failure("inputs[" + std::to_string(i) + "] is not task data: " + why);
  }
  WorkScheduler::Actions actions;
  *job = scheduler_.submit(task, std::move(inputs), options, now, actions);
  applyWork(actions, now);
  return Result::success();
}

Result NodeKernel::cancelJob(uint64_t job, Millis now) {
  WorkScheduler::Actions actions;
  if (!scheduler_.cancel(job, now, actions)) return Result::failure("no running job has id " + std::to_string(job));
  applyWork(actions, now);
  return Result::success();
}

void NodeKernel::handleTaskResult(uint64_t exec, bool ok, std::string bytes, Millis now) {
  std::optional<LocalWorkers::Run> run = localWorkers_.finish(exec);
  if (!run) return;
  if (!run->cancelled) {
    if (ok && bytes.size() > config_.maxTaskDataBytes) {
      ok = false;
      bytes = "the result is " + std::to_string(bytes.size()) + " bytes, over the limit of " +
              std::to_string(config_.maxTaskDataBytes) + " (maxTaskDataBytes)";
    } else if (ok && !checkTaskData(bytes).empty()) {
      ok = false;
      bytes = "the result is not task data: " + checkTaskData(bytes);
    }
    if (ok && config_.corruptResults) bytes = corrupted(bytes);
    if (!ok && !isValidUtf8(bytes)) bytes = "the task failed (its message was not UTF-8)";
    if (!ok && bytes.size() > wire::kMaxTaskErrorBytes) {
      size_t cut = wire::kMaxTaskErrorBytes;
      while (cut > 0 && (static_cast<unsigned char>(bytes[cut]) & 0xC0) == 0x80) --cut;
      bytes.resize(cut);
    }
    if (run->origin == config_.nodeId) {
      WorkScheduler::Actions actions;
      scheduler_.onResult(config_.nodeId, run->lease, ok ? WorkScheduler::ResultKind::Ok : WorkScheduler::ResultKind::Failed,
                          std::move(bytes), now, actions);
      applyWork(actions, now);
    } else if (PeerRecord* peer = peers_.find(run->origin); peer && peer->state == PeerState::Connected) {
      sendFrame(*peer, wire::WorkResult{run->lease, ok, std::move(bytes)});
    }
  }
  startLocalRuns();
}

void NodeKernel::applyWork(WorkScheduler::Actions& actions, Millis now) {
  for (WorkScheduler::Action& a : actions) {
    std::visit(
        [&](auto&& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, WorkScheduler::Assign>) {
            if (x.worker == config_.nodeId) {
              localWorkers_.enqueue(config_.nodeId, x.lease, std::move(x.task), std::move(x.input));
            } else if (PeerRecord* peer = peers_.find(x.worker)) {
              sendFrame(*peer, wire::WorkAssign{x.lease, std::move(x.task), std::move(x.input)});
            }
          } else if constexpr (std::is_same_v<T, WorkScheduler::Revoke>) {
            if (x.worker == config_.nodeId) {
              if (auto exec = localWorkers_.cancel(config_.nodeId, x.lease)) emit(CancelTask{*exec});
            } else if (PeerRecord* peer = peers_.find(x.worker); peer && peer->state == PeerState::Connected) {
              sendFrame(*peer, wire::WorkCancel{x.lease});
            }
          } else if constexpr (std::is_same_v<T, WorkScheduler::UnitDone>) {
            emit(JobProgress{x.job, x.unit, x.done, x.total, std::move(x.workers), std::move(x.output)});
          } else if constexpr (std::is_same_v<T, WorkScheduler::JobEnded>) {
            emit(JobFinished{x.job, x.ok, std::move(x.error), x.stats.dump()});
          }
        },
        a);
  }
  (void)now;
  startLocalRuns();
}

void NodeKernel::startLocalRuns() {
  for (LocalWorkers::Run& run : localWorkers_.start())
    emit(RunTask{run.exec, std::move(run.task), std::move(run.input), run.budgetMs});
}

wire::Capabilities NodeKernel::capabilities() const {
  return wire::Capabilities{config_.computeWorkers, std::vector<std::string>(localTasks_.begin(), localTasks_.end())};
}

void NodeKernel::onCapabilities(PeerRecord& peer, wire::Capabilities&& f, Millis now) {
  if (f.workers > kMaxWorkersAdvertised || f.tasks.size() > kMaxTasksAdvertised ||
      !std::all_of(f.tasks.begin(), f.tasks.end(), [](const std::string& t) { return isValidTaskName(t); }))
    return reject(peer, "Capabilities out of bounds");
  WorkScheduler::Actions actions;
  scheduler_.setWorker(peer.id, static_cast<uint32_t>(f.workers), std::set<std::string>(f.tasks.begin(), f.tasks.end()),
                       now, actions);
  applyWork(actions, now);
}

void NodeKernel::onWorkAssign(PeerRecord& peer, wire::WorkAssign&& f, Millis) {
  std::string why;
  if (f.input.size() > config_.maxTaskDataBytes) {
    why = "the input is over this node's limit of " + std::to_string(config_.maxTaskDataBytes) + " bytes";
  } else if (std::string malformed = checkTaskData(f.input); !malformed.empty()) {
    why = "the input is not task data: " + malformed;
  } else if (!localTasks_.count(f.task)) {
    why = "that task is not registered on " + config_.nodeId;
  } else if (config_.computeWorkers == 0) {
    why = config_.nodeId + " runs no tasks (computeWorkers is 0)";
  } else if (localWorkers_.activeFrom(peer.id) > config_.computeWorkers) {
    // An honest owner holds at most one unit queued behind each advertised
    // worker (WorkScheduler::slots), and a revoke reaches us before the
    // assign that reuses its slot. More is a flood that would queue without bound.
    why = config_.nodeId + " takes at most " + std::to_string(config_.computeWorkers + 1) + " units at once from one peer";
  }
  if (!why.empty()) {
    reject(peer, "WorkAssign refused: " + why);
    sendFrame(peer, wire::WorkResult{f.lease, false, why});
    return;
  }
  localWorkers_.enqueue(peer.id, f.lease, std::move(f.task), std::move(f.input), config_.maxUnitMs);
  startLocalRuns();
}

void NodeKernel::onWorkResult(PeerRecord& peer, wire::WorkResult&& f, Millis now) {
  WorkScheduler::ResultKind kind = WorkScheduler::ResultKind::Failed;
  bool oversized = f.ok && f.bytes.size() > config_.maxTaskDataBytes;
  if (oversized) {
    // Too big for this node is no lie: a peer whose limit is larger sent it
    // in good faith, and so would every other. As a wrong answer it got each
    // worker distrusted and left the unit waiting forever; as a failed
    // attempt (as on this node's own worker) the job ends, naming the limit.
    f.bytes = "the result is " + std::to_string(f.bytes.size()) + " bytes, over the limit of " +
              std::to_string(config_.maxTaskDataBytes) + " on " + config_.nodeId + " (maxTaskDataBytes)";
  } else if (f.ok) {
    kind = checkTaskData(f.bytes).empty() ? WorkScheduler::ResultKind::Ok : WorkScheduler::ResultKind::Invalid;
  }
  WorkScheduler::Actions actions;
  WorkScheduler::Verdict verdict = scheduler_.onResult(peer.id, f.lease, kind, std::move(f.bytes), now, actions);
  if (verdict == WorkScheduler::Verdict::NotGiven) {
    ++counters_.rejectedResults;
    reject(peer, "a result for a unit it was not given (lease " + std::to_string(f.lease) + ")");
  } else if (verdict == WorkScheduler::Verdict::Counted && kind == WorkScheduler::ResultKind::Invalid) {
    ++counters_.rejectedResults;
    reject(peer, "a result that is not task data");
  } else if (verdict == WorkScheduler::Verdict::Counted && oversized) {
    ++counters_.rejectedResults;  // refused, though not the peer's fault
  }
  applyWork(actions, now);
}

void NodeKernel::workerGone(const std::string& peerId, Millis now) {
  for (uint64_t exec : localWorkers_.cancelAllFrom(peerId)) emit(CancelTask{exec});
  WorkScheduler::Actions actions;
  scheduler_.removeWorker(peerId, now, actions);
  applyWork(actions, now);
}

json NodeKernel::describeCompute() const {
  return {{"workers", localWorkers_.capacity()},
          {"queued", localWorkers_.queued()},
          {"running", localWorkers_.running()},
          {"completed", localWorkers_.completed()},
          {"tasks", localTasks_},
          {"activeJobs", scheduler_.activeJobs()},
          {"rejectedResults", counters_.rejectedResults},
          {"maxTaskDataBytes", config_.maxTaskDataBytes},
          {"peers", scheduler_.describeWorkers()}};
}

}  // namespace pc
