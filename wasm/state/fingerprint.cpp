#include "state/fingerprint.h"

namespace pc {

namespace {

template <typename T>
void putBigEndian(Sha256& h, T v) {
  uint8_t b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) b[i] = static_cast<uint8_t>(v >> (8 * (sizeof(T) - 1 - i)));
  h.update(b, sizeof(T));
}

void putDigest(Sha256& h, const Digest128& d) {
  putBigEndian(h, d.hi);
  putBigEndian(h, d.lo);
}

bool isZero(const Digest128& d) { return d.hi == 0 && d.lo == 0; }

}  // namespace

Digest128 entryDigest(std::string_view key, const Stamp& stamp, uint64_t seq,
                      const std::optional<std::string_view>& value) {
  Sha256 h;
  h.update("pc/entry");
  hashEntry(h, key, stamp, seq, value);
  return digest128(h.finish());
}

void hashEntry(Sha256& h, std::string_view key, const Stamp& stamp, uint64_t seq,
               const std::optional<std::string_view>& value) {
  putBigEndian(h, static_cast<uint32_t>(key.size()));
  h.update(key);
  putBigEndian(h, stamp.wall);
  putBigEndian(h, stamp.logical);
  putBigEndian(h, stamp.replica);
  putBigEndian(h, seq);
  if (!value) {
    putBigEndian(h, uint8_t{0});
  } else {
    putBigEndian(h, uint8_t{1});
    putBigEndian(h, static_cast<uint32_t>(value->size()));
    h.update(*value);
  }
}

LeafHasher::LeafHasher() { h_.update("pc/leaf"); }

void LeafHasher::add(std::string_view key, const Stamp& stamp, uint64_t seq,
                     const std::optional<std::string_view>& value) {
  empty_ = false;
  hashEntry(h_, key, stamp, seq, value);
}

Digest128 LeafHasher::finish() { return empty_ ? Digest128{} : digest128(h_.finish()); }

Digest128 nodeDigest(const Digest128* children) {
  bool empty = true;
  for (unsigned i = 0; i < kFingerprintFanout; ++i) empty = empty && isZero(children[i]);
  if (empty) return {};
  Sha256 h;
  h.update("pc/node");
  for (unsigned i = 0; i < kFingerprintFanout; ++i) putDigest(h, children[i]);
  return digest128(h.finish());
}

}  // namespace pc
