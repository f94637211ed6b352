#include "discovery/replay_guard.h"

namespace pc {

bool ReplayGuard::firstSighting(const std::string& from, uint64_t incarnation, uint64_t counter, Millis now) {
  auto it = windows_.find(from);
  if (it == windows_.end()) {
    // The window longest remembered goes first (a flood of made-up senders
    // costs each real one at most its window, and signals older than the
    // drift are refused anyway).
    while (windows_.size() >= kMaxSenders && !order_.empty()) {
      windows_.erase(order_.front());
      order_.pop_front();
    }
    it = windows_.emplace(from, Window{}).first;
    order_.push_back(from);
  }
  Window& w = it->second;
  w.lastSeen = now;
  if (incarnation < w.incarnation) return true;  // stale: the incarnation rule drops it
  if (incarnation > w.incarnation) w = Window{incarnation, 0, 0, now};
  if (counter > w.highest) {
    uint64_t shift = counter - w.highest;
    w.recent = shift >= 64 ? 0 : w.recent << shift;
    w.recent |= 1;
    w.highest = counter;
    return true;
  }
  uint64_t age = w.highest - counter;
  if (age >= 64 || (w.recent >> age & 1)) return false;
  w.recent |= uint64_t{1} << age;
  return true;
}

}  // namespace pc
