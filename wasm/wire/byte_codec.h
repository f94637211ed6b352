// Bounds-checked primitives for the binary wire format: LEB128 varints and
// length-prefixed byte strings. A ByteReader never reads past
// its end; the first failed read latches `ok() == false` and every later read
// returns a zero value, so a decoder checks once at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pc::wire {

class ByteWriter {
 public:
  void u8(uint8_t v) { out_.push_back(v); }

  void varuint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<uint8_t>(v));
  }

  void bytes(std::string_view s) {
    varuint(s.size());
    raw(s.data(), s.size());
  }


  void raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_.insert(out_.end(), b, b + n);
  }

  size_t size() const { return out_.size(); }
  std::vector<uint8_t>& buffer() { return out_; }
  std::vector<uint8_t> take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? static_cast<size_t>(end_ - p_) : 0; }
  bool atEnd() const { return ok_ && p_ == end_; }
  void fail() { ok_ = false; }

  uint8_t u8() {
    if (!ok_ || p_ == end_) return failed<uint8_t>();
    return *p_++;
  }

  // Rejects encodings longer than 10 bytes or that overflow 64 bits.
  uint64_t varuint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (!ok_ || p_ == end_) return failed<uint64_t>();
      uint8_t b = *p_++;
      if (shift == 63 && (b & 0x7e)) return failed<uint64_t>();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return failed<uint64_t>();
  }

  // A length prefix is checked against the bytes that remain before anything
  // is allocated, so a forged length cannot make us reserve memory.
  std::string_view bytes() {
    uint64_t n = varuint();
    if (!ok_ || n > remaining()) return failed<std::string_view>();
    std::string_view s(reinterpret_cast<const char*>(p_), static_cast<size_t>(n));
    p_ += n;
    return s;
  }

  // `n` bytes with no length prefix; the caller has the length from elsewhere.
  std::string_view raw(size_t n) {
    if (n > remaining()) return failed<std::string_view>();
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }


 private:
  template <typename T>
  T failed() {
    ok_ = false;
    return T{};
  }

  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

}  // namespace pc::wire
