// Exponential backoff with jitter, on a pseudo-random sequence the host seeds:
// the kernel draws no randomness of its own.
#pragma once

#include <algorithm>
#include <cstdint>

#include "time/millis.h"

namespace pc {

// splitmix64: small, and fully determined by its state.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// base doubled per failure after the first, capped at max, then jittered to
// between half and 1.5 times.
inline Millis backoffDelay(Millis base, Millis max, uint32_t failures, uint64_t& rng) {
  double unit = static_cast<double>(splitmix64(rng) >> 11) / static_cast<double>(uint64_t{1} << 53);  // [0, 1)
  double delay = base;
  for (uint32_t i = 1; i < failures && delay < max; ++i) delay *= 2;
  delay = std::min<double>(delay, max);
  return delay * (0.5 + unit);
}

}  // namespace pc
