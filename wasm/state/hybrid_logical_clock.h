// Hybrid logical clock (Kulkarni et al.): wall-clock milliseconds plus a
// logical counter. Stamps from one replica only grow, a stamp issued after a
// remote one has been observed is greater than it, and the replica id breaks
// ties, so every pair of writes has one agreed order.
#pragma once

#include <cstdint>
#include <tuple>

#include "time/millis.h"

namespace pc {

struct Stamp {
  uint64_t wall = 0;
  uint32_t logical = 0;
  uint64_t replica = 0;

  friend bool operator<(const Stamp& a, const Stamp& b) {
    return std::tie(a.wall, a.logical, a.replica) < std::tie(b.wall, b.logical, b.replica);
  }
  friend bool operator==(const Stamp& a, const Stamp& b) {
    return a.wall == b.wall && a.logical == b.logical && a.replica == b.replica;
  }
  friend bool operator!=(const Stamp& a, const Stamp& b) { return !(a == b); }
};

class HybridLogicalClock {
 public:
  // A remote stamp further than this ahead of our physical clock is refused
  // (the kernel does not apply the write) and never adopted, so one peer with
  // a wrong or lying clock cannot pin a key or drag every later stamp into
  // the future. PROTOCOL.md states it; NodeConfig.maxClockDriftMs sets it.
  static constexpr uint64_t kDefaultMaxDriftMs = 60'000;

  explicit HybridLogicalClock(uint64_t replica = 0, uint64_t maxDriftMs = kDefaultMaxDriftMs)
      : replica_(replica), maxDriftMs_(maxDriftMs) {}

  void setReplica(uint64_t replica) { replica_ = replica; }
  uint64_t replica() const { return replica_; }
  uint64_t maxDriftMs() const { return maxDriftMs_; }

  // True when a stamp is within the drift this clock accepts at `now`.
  bool acceptable(const Stamp& remote, Millis now) const;
  Stamp tick(Millis now);
  void observe(const Stamp& remote, Millis now);
  Stamp last() const { return {wall_, logical_, replica_}; }

 private:
  // The next (wall, logical) after the given one: the counter never wraps; at
  // its end the wall moves on a millisecond instead, so stamps only grow.
  void advance(uint64_t wall, uint32_t logical);

  uint64_t replica_;
  uint64_t maxDriftMs_;
  uint64_t wall_ = 0;
  uint32_t logical_ = 0;
};

}  // namespace pc
