// The fingerprint of a replica's state: a Merkle tree over every key's
// winning write, deletes included (PROTOCOL.md, "Anti-entropy").
//
// Two replicas with equal roots hold equal states; where roots differ, the
// tree leads them to the keys that differ in a few round trips. This is what
// makes convergence independent of anything a peer claims: state vectors
// speed sync up, but a lie in one (an inflated entry, a forged sequence
// number) can only hide a difference from the vectors, never from the tree.
//
// Every definition here is part of the wire protocol: replicas compare these
// digests, so they must compute them alike on every platform.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "hashing/key_hash.h"
#include "hashing/sha256.h"
#include "state/hybrid_logical_clock.h"

namespace pc {

// The tree: 16 children per node, 3 levels below the root, 4096 leaves. A
// key's leaf is the top 12 bits of stableKeyHash(key).
constexpr unsigned kFingerprintFanout = 16;
constexpr unsigned kFingerprintDepth = 3;  // the leaves' level
constexpr size_t kFingerprintLeaves = size_t{1} << kFingerprintLeafBits;
static_assert(kFingerprintLeaves == 16 * 16 * 16, "fanout^depth leaves");

inline size_t nodesAtLevel(unsigned level) { return size_t{1} << (4 * level); }

// One entry's digest, for anti-entropy's lists of a leaf's entries:
// SHA-256("pc/entry" ‖ the entry as hashEntry writes it), first 16 bytes.
Digest128 entryDigest(std::string_view key, const Stamp& stamp, uint64_t seq, const std::optional<std::string_view>& value);

// An entry as the fingerprint hashes it: u32 keyLength ‖ key ‖ u64 wall ‖
// u32 logical ‖ u64 replica ‖ u64 seq ‖ u8 0 for a delete, or u8 1 ‖ u32
// valueLength ‖ value; integers big-endian.
void hashEntry(Sha256& h, std::string_view key, const Stamp& stamp, uint64_t seq,
               const std::optional<std::string_view>& value);

// A leaf: SHA-256("pc/leaf" ‖ each of its entries, as hashEntry writes it, in
// byte order of their keys), first 16 bytes; zero when it holds no key. One
// hash over the leaf, so an entry costs its bytes and no finalization.
class LeafHasher {
 public:
  LeafHasher();
  void add(std::string_view key, const Stamp& stamp, uint64_t seq, const std::optional<std::string_view>& value);
  Digest128 finish();

 private:
  Sha256 h_;
  bool empty_ = true;
};

// An inner node: SHA-256("pc/node" ‖ its 16 children's digests); zero when
// every child is zero, so an empty subtree costs nothing to compare.
Digest128 nodeDigest(const Digest128* children);

}  // namespace pc
