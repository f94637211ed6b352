#include "compute/local_workers.h"

#include <algorithm>

namespace pc {

void LocalWorkers::enqueue(std::string origin, uint64_t lease, std::string task, std::string input, double budgetMs,
                           bool small) {
  queue_.push_back(Run{0, std::move(origin), lease, std::move(task), std::move(input), false, budgetMs, small});
}

std::vector<LocalWorkers::Run> LocalWorkers::start() {
  std::vector<Run> started;
  std::map<std::string, size_t> held;  // runs each owner has with the host
  for (const auto& [exec, run] : running_)
    if (!run.cancelled) ++held[run.origin];
  // The owner holding the fewest workers goes next; among those, the one
  // served least recently.
  auto rank = [&](const std::string& origin) {
    auto last = lastStarted_.find(origin);
    return std::make_pair(held[origin], last == lastStarted_.end() ? uint64_t{0} : last->second);
  };
  while (!queue_.empty()) {
    auto next = queue_.begin();
    for (auto it = queue_.begin(); it != queue_.end(); ++it)
      if (rank(it->origin) < rank(next->origin)) next = it;
    const bool fits = running_.size() < handedLimit_ ||
                      (next->small && running_.size() < smallLimit_ &&
                       std::all_of(queue_.begin(), queue_.end(), [](const Run& r) { return r.small; }));
    if (!fits) break;
    ++held[next->origin];
    lastStarted_[next->origin] = ++starts_;
    Run run = std::move(*next);
    queue_.erase(next);
    run.exec = nextExec_++;
    Run& kept = running_[run.exec] = std::move(run);
    // The host needs the input once; the kernel keeps only what routes the result.
    started.push_back(kept);
    kept.input.clear();
    kept.input.shrink_to_fit();
  }
  return started;
}

std::optional<uint64_t> LocalWorkers::cancel(const std::string& origin, uint64_t lease) {
  auto q = std::find_if(queue_.begin(), queue_.end(), [&](const Run& r) { return r.origin == origin && r.lease == lease; });
  if (q != queue_.end()) {
    queue_.erase(q);
    return std::nullopt;
  }
  for (auto& [exec, run] : running_) {
    if (run.origin == origin && run.lease == lease && !run.cancelled) {
      run.cancelled = true;
      return exec;
    }
  }
  return std::nullopt;
}

std::vector<uint64_t> LocalWorkers::cancelAllFrom(const std::string& origin) {
  lastStarted_.erase(origin);
  queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const Run& r) { return r.origin == origin; }),
               queue_.end());
  std::vector<uint64_t> stopped;
  for (auto& [exec, run] : running_) {
    if (run.origin == origin && !run.cancelled) {
      run.cancelled = true;
      stopped.push_back(exec);
    }
  }
  return stopped;
}

size_t LocalWorkers::activeFrom(const std::string& origin) const {
  size_t n = static_cast<size_t>(
      std::count_if(queue_.begin(), queue_.end(), [&](const Run& r) { return r.origin == origin; }));
  for (const auto& [exec, run] : running_) n += run.origin == origin && !run.cancelled;
  return n;
}

std::optional<LocalWorkers::Run> LocalWorkers::finish(uint64_t exec) {
  auto it = running_.find(exec);
  if (it == running_.end()) return std::nullopt;
  Run run = std::move(it->second);
  running_.erase(it);
  if (!run.cancelled) ++completed_;
  return run;
}

}  // namespace pc
