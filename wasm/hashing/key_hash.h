// The hash that places every key in a bucket of the state fingerprint tree.
// Replicas compare fingerprints bucket by bucket, so all of them, native or
// wasm32, old build or new, must compute exactly the same value: it is part
// of the wire protocol, unseeded, and must never change.
//
// Definition (all arithmetic modulo 2^64, bytes taken as unsigned):
//   h = 0xcbf29ce484222325                      FNV-1a 64 offset basis
//   for each byte b of key: h = (h ^ b) * 0x00000100000001b3
//   h ^= h >> 33; h *= 0xff51afd7ed558ccd       murmur3 fmix64
//   h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53
//   h ^= h >> 33
// FNV-1a alone leaves the top bits, which pick the leaf, poorly mixed for
// short keys that differ only at the end; fmix64 spreads every input bit.
// Example: stableKeyHash("a") == 0x82a2a958a9bece5b.
#pragma once

#include <cstdint>
#include <string_view>

namespace pc {

inline uint64_t stableKeyHash(std::string_view key) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : key) {
    h ^= uint64_t(static_cast<unsigned char>(c));
    h *= 0x00000100000001b3ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// The fingerprint tree has 2^12 leaves, chosen by the hash's top bits.
constexpr unsigned kFingerprintLeafBits = 12;

inline uint32_t fingerprintLeaf(uint64_t keyHash) {
  return uint32_t(keyHash >> (64 - kFingerprintLeafBits));
}

}  // namespace pc
