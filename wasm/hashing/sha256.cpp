// Fingerprints hash many short records, so the block function is unrolled
// with rotating register names rather than shuffling eight variables per
// round, and whole blocks are hashed straight from the caller's memory.
#include "hashing/sha256.h"

#include <cstring>

namespace pc {
namespace {

constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

// Byte-wise so the result does not depend on the host's endianness or on
// alignment; compilers turn it into a single load and byte swap.
inline uint32_t loadBe32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline void storeBe32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

// One round, written so that the caller renames registers instead of moving
// them: only d and h change.
inline void round(uint32_t a, uint32_t b, uint32_t c, uint32_t& d, uint32_t e, uint32_t f,
                  uint32_t g, uint32_t& h, uint32_t kw) {
  const uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + (g ^ (e & (f ^ g))) + kw;
  const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) | (c & (a | b)));
  d += t1;
  h = t1 + t2;
}

void compress(std::array<uint32_t, 8>& state, const uint8_t* block) {
  uint32_t w[16];
  for (int i = 0; i < 16; ++i) w[i] = loadBe32(block + 4 * i);

  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];

  for (int j = 0; j < 64; j += 16) {
    if (j != 0) {
      // The schedule lives in a 16-word ring: w[i] holds W[t-16] on entry.
      for (int i = 0; i < 16; ++i) {
        const uint32_t w2 = w[(i + 14) & 15], w15 = w[(i + 1) & 15];
        w[i] += (rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)) + w[(i + 9) & 15] +
                (rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3));
      }
    }
    const uint32_t* k = kRound + j;
    round(a, b, c, d, e, f, g, h, k[0] + w[0]);
    round(h, a, b, c, d, e, f, g, k[1] + w[1]);
    round(g, h, a, b, c, d, e, f, k[2] + w[2]);
    round(f, g, h, a, b, c, d, e, k[3] + w[3]);
    round(e, f, g, h, a, b, c, d, k[4] + w[4]);
    round(d, e, f, g, h, a, b, c, k[5] + w[5]);
    round(c, d, e, f, g, h, a, b, k[6] + w[6]);
    round(b, c, d, e, f, g, h, a, k[7] + w[7]);
    round(a, b, c, d, e, f, g, h, k[8] + w[8]);
    round(h, a, b, c, d, e, f, g, k[9] + w[9]);
    round(g, h, a, b, c, d, e, f, k[10] + w[10]);
    round(f, g, h, a, b, c, d, e, k[11] + w[11]);
    round(e, f, g, h, a, b, c, d, k[12] + w[12]);
    round(d, e, f, g, h, a, b, c, k[13] + w[13]);
    round(c, d, e, f, g, h, a, b, k[14] + w[14]);
    round(b, c, d, e, f, g, h, a, k[15] + w[15]);
  }

  state[0] += a; state[1] += b; state[2] += c; state[3] += d;
  state[4] += e; state[5] += f; state[6] += g; state[7] += h;
}

}  // namespace

Sha256::Sha256()
    : state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
             0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

void Sha256::update(const void* data, size_t n) {
  if (n == 0) return;  // data may then be null, which memcpy must not see
  const uint8_t* p = static_cast<const uint8_t*>(data);
  totalBytes_ += uint64_t(n);
  if (buffered_ != 0) {
    const size_t take = n < 64 - buffered_ ? n : 64 - buffered_;
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += uint32_t(take);
    p += take;
    n -= take;
    if (buffered_ < 64) return;
    compress(state_, buffer_.data());
    buffered_ = 0;
  }
  for (; n >= 64; p += 64, n -= 64) compress(state_, p);
  if (n != 0) std::memcpy(buffer_.data(), p, n);
  buffered_ = uint32_t(n);
}

std::array<uint8_t, 32> Sha256::finish() {
  const uint64_t bits = totalBytes_ * 8;
  buffer_[buffered_++] = 0x80;
  if (buffered_ > 56) {
    std::memset(buffer_.data() + buffered_, 0, 64 - buffered_);
    compress(state_, buffer_.data());
    buffered_ = 0;
  }
  std::memset(buffer_.data() + buffered_, 0, 56 - buffered_);
  storeBe32(buffer_.data() + 56, uint32_t(bits >> 32));
  storeBe32(buffer_.data() + 60, uint32_t(bits));
  compress(state_, buffer_.data());
  buffered_ = 0;

  std::array<uint8_t, 32> out;
  for (int i = 0; i < 8; ++i) storeBe32(out.data() + 4 * i, state_[i]);
  return out;
}

std::array<uint8_t, 32> sha256(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

Digest128 digest128(const std::array<uint8_t, 32>& digest) {
  Digest128 d;
  for (int i = 0; i < 8; ++i) {
    d.hi = (d.hi << 8) | digest[i];
    d.lo = (d.lo << 8) | digest[8 + i];
  }
  return d;
}

}  // namespace pc
