// TimerTable: every deadline the kernel keeps, in one place.
//
// An engine sets a deadline when the state that decides it changes, and the
// router wakes the engine when it is due: so each deadline is computed once,
// where it arises, and pollTimeout() is the table's earliest entry rather
// than a second computation that must agree with the first. A deadline is due
// when `now >= at`, against the very value pollTimeout() returned, so a host
// that wakes exactly then never finds it not yet due.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "time/millis.h"

namespace pc {

// What a deadline is for; the router hands a due one to its engine.
enum class Timer : uint8_t {
  Leases,       // compute: the earliest lease deadline
  Route,        // discovery, per route (by name): its own timers (a server's heartbeat, listing, reconnect)
  Announce,     // discovery: the next announce
  Forget,       // discovery, per peer: it stopped announcing
  Redial,       // discovery, per peer: its backoff is over
  Connect,      // session, per peer: the connection did not come up in time
  Ping,         // session, per peer: the next ping, and the liveness judgement
  Fingerprint,  // sync: the next slice of fingerprint hashing
  SyncAnswer,   // sync, per peer: a deferred answer may go now
};

class TimerTable {
 public:
  struct Due {
    Timer timer;
    std::string name;  // the peer or route; empty for node-wide timers
  };

  // Sets (or moves) a deadline; `name` empty for a node-wide one.
  void set(Timer timer, const std::string& name, Millis at);
  void set(Timer timer, Millis at) { set(timer, std::string(), at); }
  // Sets it when `at` holds a time, else clears it.
  void setOrClear(Timer timer, const std::string& name, std::optional<Millis> at);
  void clear(Timer timer, const std::string& name = {});
  // Every deadline of one peer.
  void clearPeer(const std::string& peer);
  // Every deadline but those of `keep`.
  void clearAllBut(Timer keep);

  std::optional<Millis> at(Timer timer, const std::string& name = {}) const;
  std::optional<Millis> next() const;
  // Removes and returns the deadlines due at `now`, earliest first.
  std::vector<Due> takeDue(Millis now);

 private:
  using Key = std::pair<Timer, std::string>;
  std::map<Key, Millis> byKey_;
  std::set<std::tuple<Millis, Timer, std::string>> byTime_;
};

}  // namespace pc
