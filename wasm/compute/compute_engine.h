// ComputeEngine: compute across the room. It wires the WorkScheduler (this
// node's jobs, handed out to workers, checked by quorum) and LocalWorkers
// (the units this node runs, for itself or for peers) to the peers and to the
// host's workers (RunTask, CancelTask).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "compute/local_workers.h"
#include "compute/work_scheduler.h"
#include "kernel/engine_context.h"
#include "kernel/result.h"

namespace pc {

class ComputeEngine {
 public:
  using Frames = FrameSet<wire::Capabilities, wire::WorkAssign, wire::WorkResult, wire::WorkCancel>;

  explicit ComputeEngine(EngineContext& context) : ctx_(context) {}

  // At initialize(): this node's workers and the built-in tasks.
  void configure(Millis now);

  // Task names: see rules/app_rules.h. A node runs only the built-in tasks
  // and those its host registered; peers learn them from Capabilities.
  Result registerTask(const std::string& name, Millis now);
  // Inputs are task data (CBOR); `job` receives the job's id. Progress and
  // the end come as JobProgress and JobFinished outputs.
  Result submitJob(const std::string& task, std::vector<std::string> inputs, const JobOptions& options, Millis now,
                   uint64_t* job);
  Result cancelJob(uint64_t job, Millis now);
  // The host's answer to RunTask: task data, or an error message; runMs is
  // how long the task ran in its worker (0: unknown).
  void handleTaskResult(uint64_t exec, bool ok, std::string bytes, double runMs, Millis now);

  void peerConnected(const std::string& peer);
  void peerGone(const std::string& peer, Millis now);
  void onFrame(const std::string& peer, wire::Capabilities&& f, Millis now);
  void onFrame(const std::string& peer, wire::WorkAssign&& f, Millis now);
  void onFrame(const std::string& peer, wire::WorkResult&& f, Millis now);
  void onFrame(const std::string& peer, wire::WorkCancel&& f, Millis now);
  void onLeasesDeadline(Millis now);

  const WorkScheduler& scheduler() const { return scheduler_; }
  const LocalWorkers& localWorkers() const { return localWorkers_; }
  nlohmann::json describe() const;

 private:
  void apply(WorkScheduler::Actions& actions, Millis now);
  void startLocalRuns();
  // The scheduler's view of what a round trip to each peer costs (pings).
  void refreshShipCosts();
  wire::Capabilities capabilities() const;

  EngineContext& ctx_;
  WorkScheduler scheduler_;
  LocalWorkers localWorkers_;
  std::set<std::string> localTasks_;
};

}  // namespace pc
