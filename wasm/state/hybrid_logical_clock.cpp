#include "state/hybrid_logical_clock.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace pc {

namespace {
uint64_t wholeMillis(Millis now) { return now > 0 ? static_cast<uint64_t>(std::floor(now)) : 0; }
}  // namespace

bool HybridLogicalClock::acceptable(const Stamp& remote, Millis now) const {
  uint64_t physical = wholeMillis(now);
  return remote.wall <= physical || remote.wall - physical <= maxDriftMs_;
}

void HybridLogicalClock::advance(uint64_t wall, uint32_t logical) {
  if (logical == std::numeric_limits<uint32_t>::max()) {
    wall_ = wall + 1;
    logical_ = 0;
  } else {
    wall_ = wall;
    logical_ = logical + 1;
  }
}

Stamp HybridLogicalClock::tick(Millis now) {
  uint64_t physical = wholeMillis(now);
  if (physical > wall_) {
    wall_ = physical;
    logical_ = 0;
  } else {
    advance(wall_, logical_);
  }
  return last();
}

void HybridLogicalClock::observe(const Stamp& remote, Millis now) {
  if (!acceptable(remote, now)) return;
  uint64_t physical = wholeMillis(now);
  uint64_t wall = std::max({wall_, remote.wall, physical});
  if (wall == wall_ && wall == remote.wall) {
    advance(wall, std::max(logical_, remote.logical));
  } else if (wall == wall_) {
    advance(wall, logical_);
  } else if (wall == remote.wall) {
    advance(wall, remote.logical);
  } else {
    wall_ = wall;
    logical_ = 0;
  }
}

}  // namespace pc
