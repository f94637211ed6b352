// SHA-256 (FIPS 180-4) for state fingerprints. Every replica must reach the
// same digest natively and in wasm32, so the code uses fixed-width integers
// only and owes nothing to the platform (no intrinsics, no size_t arithmetic).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pc {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // Pads the message, so it may be called only once per object.
  std::array<uint8_t, 32> finish();

 private:
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  uint32_t buffered_ = 0;  // bytes waiting in buffer_, always < 64
  uint64_t totalBytes_ = 0;
};

std::array<uint8_t, 32> sha256(std::string_view data);

// Half a digest is collision-safe enough for comparing fingerprints and fits
// two registers, which keeps tree nodes small and comparisons cheap.
struct Digest128 {
  uint64_t hi = 0, lo = 0;

  friend bool operator==(const Digest128& a, const Digest128& b) {
    return a.hi == b.hi && a.lo == b.lo;
  }
  friend bool operator!=(const Digest128& a, const Digest128& b) { return !(a == b); }
  friend bool operator<(const Digest128& a, const Digest128& b) {
    return a.hi != b.hi ? a.hi < b.hi : a.lo < b.lo;
  }
};

// Big-endian, so that ordering Digest128 values orders the digests' bytes.
Digest128 digest128(const std::array<uint8_t, 32>& digest);

}  // namespace pc
