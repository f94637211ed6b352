// A token bucket: a burst, then a steady rate per second.
#pragma once

#include <algorithm>

#include "time/millis.h"

namespace pc {

class TokenBucket {
 public:
  TokenBucket(double burst, double perSecond) : burst_(burst), perSecond_(perSecond), tokens_(burst) {}

  // Full again, from `now`.
  void refill(Millis now) {
    tokens_ = burst_;
    at_ = now;
  }
  // Refills to `now`; true (and one token spent) when one is left.
  bool spend(Millis now) {
    tokens_ = std::min(burst_, tokens_ + std::max<Millis>(0, now - at_) / 1000 * perSecond_);
    at_ = now;
    if (tokens_ < 1) return false;
    tokens_ -= 1;
    return true;
  }

 private:
  double burst_, perSecond_;
  double tokens_;
  Millis at_ = 0;
};

}  // namespace pc
