#include "state/hybrid_logical_clock.h"

#include <algorithm>
#include <cmath>

namespace pc {

namespace {
uint64_t wholeMillis(Millis now) { return now > 0 ? static_cast<uint64_t>(std::floor(now)) : 0; }
}  // namespace

Stamp HybridLogicalClock::tick(Millis now) {
  uint64_t physical = wholeMillis(now);
  if (physical > wall_) {
    wall_ = physical;
    logical_ = 0;
  } else {
    ++logical_;
  }
  return last();
}

void HybridLogicalClock::observe(const Stamp& remote, Millis now) {
  uint64_t physical = wholeMillis(now);
  if (remote.wall > physical + kMaxForwardDriftMs) return;
  uint64_t wall = std::max({wall_, remote.wall, physical});
  if (wall == wall_ && wall == remote.wall) {
    logical_ = std::max(logical_, remote.logical) + 1;
  } else if (wall == wall_) {
    ++logical_;
  } else if (wall == remote.wall) {
    logical_ = remote.logical + 1;
  } else {
    logical_ = 0;
  }
  wall_ = wall;
}

}  // namespace pc
