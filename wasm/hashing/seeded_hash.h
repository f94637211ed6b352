// Keyed hashing for tables whose keys come from untrusted peers. With a
// per-node random key (from the host, never from this code), a peer cannot
// precompute keys that collide and turn lookups quadratic (hash flooding).
// SipHash-1-3 is the variant Rust and Python use for exactly this job. The
// round counts are parameters only so that the shared code can be checked
// against the published SipHash-2-4 reference vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pc {

namespace siphash_detail {

inline uint64_t rotl(uint64_t x, unsigned n) { return (x << n) | (x >> (64 - n)); }

inline void sipRound(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
  v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
  v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
  v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
}

// Byte-wise so the result does not depend on endianness or alignment.
inline uint64_t loadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace siphash_detail

// SipHash-c-d with the key read as two little-endian words (k0 = key bytes
// 0..7), as in the reference implementation.
template <unsigned C, unsigned D>
uint64_t sipHash(uint64_t k0, uint64_t k1, const void* data, size_t n) {
  using namespace siphash_detail;
  uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
  uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
  uint64_t v3 = k1 ^ 0x7465646279746573ULL;

  const uint8_t* p = static_cast<const uint8_t*>(data);
  const uint64_t length = uint64_t(n);
  for (uint64_t blocks = length / 8; blocks != 0; --blocks, p += 8) {
    const uint64_t m = loadLe64(p);
    v3 ^= m;
    for (unsigned i = 0; i < C; ++i) sipRound(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t last = length << 56;
  for (unsigned i = unsigned(length & 7); i != 0; --i) last |= uint64_t(p[i - 1]) << (8 * (i - 1));
  v3 ^= last;
  for (unsigned i = 0; i < C; ++i) sipRound(v0, v1, v2, v3);
  v0 ^= last;

  v2 ^= 0xff;
  for (unsigned i = 0; i < D; ++i) sipRound(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

inline uint64_t sipHash13(uint64_t k0, uint64_t k1, const void* data, size_t n) {
  return sipHash<1, 3>(k0, k1, data, n);
}

// Hash for std::unordered_map<std::string, T, SeededStringHash>. On wasm32 the
// result is cut to 32 bits; that is harmless because the seed, and therefore
// every bucket choice, is local to one node anyway.
struct SeededStringHash {
  uint64_t k0 = 0, k1 = 0;
  size_t operator()(std::string_view s) const {
    return static_cast<size_t>(sipHash13(k0, k1, s.data(), s.size()));
  }
};

}  // namespace pc
