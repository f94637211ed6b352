// ReplayGuard: refuses a signal seen before (a replay, or the same signal on
// a second route), by the counter each sender's signals carry within one
// incarnation (PROTOCOL.md, section 1).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>

#include "time/millis.h"

namespace pc {

class ReplayGuard {
 public:
  // Senders whose recent counters are remembered, at most.
  static constexpr size_t kMaxSenders = 1024;

  // False for a signal seen before.
  bool firstSighting(const std::string& from, uint64_t incarnation, uint64_t counter, Millis now);

 private:
  struct Window {
    uint64_t incarnation = 0;
    uint64_t highest = 0;  // the highest counter seen
    uint64_t recent = 0;   // bit i: counter highest - i was seen
    Millis lastSeen = 0;
  };
  std::map<std::string, Window> windows_;
  std::deque<std::string> order_;  // windows_'s keys, oldest first
};

}  // namespace pc
