// StabilityTracker: decides when a tombstone may be forgotten.
//
// A tombstone (writer r, seq s) is stable once every member replica has seen
// it, and this node has every write each member made before saying so. Then
// no member can still send a write that the tombstone should have beaten:
// a member's later writes are stamped after it saw the tombstone, so they win
// on their own merits. Members are the replicas that have written to the map
// and the peers connected now. A replica silent for longer than the expiry is
// forgotten, so a tab that closed for good does not pin tombstones forever;
// writes such a replica made before it fell silent and that surface later may
// revive keys deleted meanwhile (see wasm/wire/PROTOCOL.md).
#pragma once

#include <cstdint>
#include <map>

#include "state/hybrid_logical_clock.h"
#include "state/replicated_map.h"

namespace pc {

class StabilityTracker {
 public:
  explicit StabilityTracker(uint64_t self = 0, Millis expiryMs = 600'000) : self_(self), expiryMs_(expiryMs) {}

  // A member said which writes it has seen.
  void onAck(uint64_t replica, const StateVector& seen, Millis now);
  // Something arrived from or about this replica: it is alive, or wrote.
  void onHeardOf(uint64_t replica, Millis now);

  // True when the write (writer, seq) is stable, given what `local` has seen.
  bool isStable(uint64_t writer, uint64_t seq, const StateVector& local, Millis now) const;
 private:
  bool isMember(Millis lastHeard, Millis now) const { return now - lastHeard < expiryMs_; }

  struct Member {
    Millis lastHeard = 0;
    bool hasAck = false;
    StateVector ack;
  };
  uint64_t self_;
  Millis expiryMs_;
  std::map<uint64_t, Member> members_;
};

}  // namespace pc
