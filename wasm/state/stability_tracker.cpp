#include "state/stability_tracker.h"

#include <algorithm>

namespace pc {

namespace {
uint64_t entry(const StateVector& v, uint64_t replica) {
  auto it = v.find(replica);
  return it == v.end() ? 0 : it->second;
}
}  // namespace

void StabilityTracker::onAck(uint64_t replica, const StateVector& seen, Millis now) {
  if (replica == self_) return;
  Member& m = members_[replica];
  m.lastHeard = std::max(m.lastHeard, now);
  m.hasAck = true;
  m.ack = seen;
}

void StabilityTracker::onHeardOf(uint64_t replica, Millis now) {
  if (replica == self_) return;
  Member& m = members_[replica];
  m.lastHeard = std::max(m.lastHeard, now);
}

bool StabilityTracker::isStable(uint64_t writer, uint64_t seq, const StateVector& local, Millis now) const {
  for (const auto& [replica, m] : members_) {
    if (!isMember(m.lastHeard, now)) continue;
    if (!m.hasAck) return false;
    if (entry(m.ack, writer) < seq) return false;
    // Everything the member wrote before acknowledging must be here already.
    if (entry(local, replica) < entry(m.ack, replica)) return false;
  }
  return true;
}

}  // namespace pc
