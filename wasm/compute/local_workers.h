// LocalWorkers: the units this node runs, for its own jobs and for peers'.
// The host runs each in a Web Worker; this keeps the queue, so that the host
// holds no more than its workers can run (plus `queuedPerWorker` waiting in
// each worker's own queue), and so that a revoked unit still queued here
// never reaches the host. Small units of this node's own jobs (the scheduler
// marks them) may go further, up to `smallPerWorker` queued in each worker,
// so the host can hand a worker many in one message; never while any other
// unit waits here.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace pc {

class LocalWorkers {
 public:
  struct Run {
    uint64_t exec = 0;   // the host's handle for this run
    std::string origin;  // node id of the job's owner (this node's own id for its own jobs)
    uint64_t lease = 0;  // the owner's lease
    std::string task;
    std::string input;
    bool cancelled = false;
    double budgetMs = 0;  // CPU budget the host enforces; 0: none
    bool small = false;   // may queue past the usual limit (see above)
  };

  void setCapacity(uint32_t workers, uint32_t queuedPerWorker = 0, uint32_t smallPerWorker = 0) {
    capacity_ = workers;
    handedLimit_ = static_cast<size_t>(workers) * (1 + queuedPerWorker);
    smallLimit_ = std::max(handedLimit_, static_cast<size_t>(workers) * (1 + smallPerWorker));
  }
  uint32_t capacity() const { return capacity_; }

  void enqueue(std::string origin, uint64_t lease, std::string task, std::string input, double budgetMs = 0,
               bool small = false);
  // Runs to hand to the host now: they fill the free workers (and their
  // queues). Owners share the workers fairly: the next run is always one of
  // the owner that holds the fewest workers now, so one peer's flood of
  // units cannot keep another's, or this node's own, waiting behind it.
  std::vector<Run> start();
  // Drops a queued run; a running one is marked and its exec returned, so
  // the host may stop it. Its answer is still awaited, to free the worker.
  std::optional<uint64_t> cancel(const std::string& origin, uint64_t lease);
  std::vector<uint64_t> cancelAllFrom(const std::string& origin);
  // The host's answer for a run; nullopt for an exec that is not running.
  std::optional<Run> finish(uint64_t exec);

  // Runs of `origin` queued or running, not counting cancelled ones.
  size_t activeFrom(const std::string& origin) const;
  size_t queued() const { return queue_.size(); }
  // Handed to the host and not yet answered: running, or queued in a worker.
  size_t running() const { return running_.size(); }
  uint64_t completed() const { return completed_; }

 private:
  uint32_t capacity_ = 0;
  size_t handedLimit_ = 0;
  size_t smallLimit_ = 0;
  std::deque<Run> queue_;
  std::map<uint64_t, Run> running_;
  uint64_t nextExec_ = 1;
  std::map<std::string, uint64_t> lastStarted_;  // by owner: when a run of its last started
  uint64_t starts_ = 0;
  uint64_t completed_ = 0;
};

}  // namespace pc
