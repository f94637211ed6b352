// Bytes the process has allocated and not yet freed, from whichever
// allocator is in use, so a test can hold an attack to a memory budget.
#pragma once

#include <malloc.h>

#include <chrono>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
// From the AddressSanitizer runtime, which replaces malloc and keeps its own count.
extern "C" size_t __sanitizer_get_current_allocated_bytes();
#endif

namespace pcsim {

inline size_t heapInUse() {
#if defined(__SANITIZE_ADDRESS__)
  return __sanitizer_get_current_allocated_bytes();
#else
  return mallinfo2().uordblks;
#endif
}

// The most the heap grew above where it was when the probe was made, sampled
// by the caller at the points that matter.
class HeapProbe {
 public:
  HeapProbe() : base_(heapInUse()) {}
  void sample() {
    size_t now = heapInUse();
    if (now > base_ && now - base_ > peak_) peak_ = now - base_;
  }
  size_t peak() const { return peak_; }
  // Growth that stayed: what the heap holds now above the start.
  size_t retained() const {
    size_t now = heapInUse();
    return now > base_ ? now - base_ : 0;
  }

 private:
  size_t base_;
  size_t peak_ = 0;
};

// Wall-clock milliseconds a callable takes.
template <typename Fn>
double elapsedMs(Fn&& fn) {
  auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Sanitizers slow code several times over; budgets are stated for an
// optimized build and scaled here.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kTimeBudgetScale = 10;
#else
constexpr double kTimeBudgetScale = 1;
#endif

}  // namespace pcsim
