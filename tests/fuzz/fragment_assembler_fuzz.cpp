// Fuzzes pc::wire::FragmentAssembler, which holds a peer's partial frames.
//
// Input: a small script of operations, each starting with a byte `c`:
//   c & 3 in {0,1,2}  a raw Fragment: three more bytes idx, cnt, len, then
//                     `len` bytes of piece (fewer if the input ends).
//                     messageId = (c >> 2) & 3; index = idx & 0x7f, or
//                     2^64-1-(idx & 0x7f) when idx & 0x80; count likewise.
//   c & 3 == 3        a well-formed fragmented frame: three more bytes t, p,
//                     len, then `len` bytes of payload. The frame is a
//                     BinaryMessage (t even) or an AppMessage holding the
//                     payload as a hex JSON string (t odd), split by
//                     wire::fragment into pieces of 16 + p % (size - 16)
//                     bytes, with messageId t >> 1.
// Each fragment goes through encode and decode first, as a peer's would: one
// the decoder refuses never reaches the assembler.
// Checks:
//  - a Complete frame is one whole frame: its header parses and declares
//    exactly the bytes held, it is no Fragment, and its body is within its
//    type's limit (for messages: within the assembler's maxFrameBytes);
//  - after Complete or Rejected nothing is in progress;
//  - a well-formed fragmented frame fed to an idle assembler comes out
//    Complete, byte for byte;
//  - after Rejected, the assembler accepts a fresh well-formed frame (checked
//    on a copy, so the script's own sequence goes on undisturbed).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "wire/fragment_assembler.h"
#include "wire/frame_codec.h"

using namespace pc::wire;

namespace {

const Limits kLimits{512};  // small, so frames over it are easy to make

struct Script {
  const uint8_t* p;
  const uint8_t* end;
  bool done() const { return p == end; }
  uint8_t byte() { return p == end ? 0 : *p++; }
  std::string bytes(size_t n) {
    n = std::min<size_t>(n, static_cast<size_t>(end - p));
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
};

uint64_t smallOrHuge(uint8_t b) { return (b & 0x80) ? UINT64_MAX - (b & 0x7f) : (b & 0x7f); }

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

void checkComplete(const std::vector<uint8_t>& whole) {
  DecodeError error = DecodeError::None;
  auto h = peekHeader(whole.data(), whole.size(), kLimits, &error);
  FUZZ_CHECK(h.has_value(), "a Complete frame (%zu bytes) has no valid header: %s", whole.size(), describe(error));
  FUZZ_CHECK(h->headerBytes + h->bodyBytes == whole.size(), "Complete frame of %zu bytes declares %zu+%zu",
             whole.size(), h->headerBytes, h->bodyBytes);
  FUZZ_CHECK(h->type != FrameType::Fragment, "a Complete frame is itself a Fragment");
  FUZZ_CHECK(h->bodyBytes <= maxBodyBytes(h->type, kLimits), "Complete body %zu over its type's limit %zu",
             h->bodyBytes, maxBodyBytes(h->type, kLimits));
  if (h->type == FrameType::AppMessage || h->type == FrameType::BinaryMessage)
    FUZZ_CHECK(h->bodyBytes <= kLimits.maxFrameBytes, "Complete message body %zu over maxFrameBytes %zu",
               h->bodyBytes, kLimits.maxFrameBytes);
}

// Feeds one fragment as the kernel would: only if it decodes.
bool feed(FragmentAssembler& a, const Fragment& f, FragmentAssembler::Result* result, std::vector<uint8_t>* whole) {
  Decoded d = decode(encode(f), kLimits);
  if (!d.frame) return false;
  *result = a.add(std::get<Fragment>(*d.frame), whole);
  if (*result == FragmentAssembler::Result::Complete) checkComplete(*whole);
  if (*result != FragmentAssembler::Result::Incomplete)
    FUZZ_CHECK(!a.inProgress(), "still in progress after Complete or Rejected");
  return true;
}

// Feeds a well-formed fragmented frame; with mustComplete, checks that it comes
// out whole and equal.
void feedWellFormed(FragmentAssembler& a, const std::vector<uint8_t>& encoded, uint64_t messageId, size_t piece,
                    bool mustComplete) {
  auto pieces = fragment(encoded, messageId, piece);
  for (size_t i = 0; i < pieces.size(); ++i) {
    Decoded d = decode(pieces[i], kLimits);
    FUZZ_CHECK(d.frame.has_value(), "wire::fragment made a fragment that does not decode: %s", describe(d.error));
    std::vector<uint8_t> whole;
    FragmentAssembler::Result r = a.add(std::get<Fragment>(*d.frame), &whole);
    if (r == FragmentAssembler::Result::Complete) checkComplete(whole);
    if (!mustComplete) continue;
    const bool last = i + 1 == pieces.size();
    FUZZ_CHECK(r == (last ? FragmentAssembler::Result::Complete : FragmentAssembler::Result::Incomplete),
               "well-formed frame of %zu bytes in %zu pieces: piece %zu gave %d (%s)", encoded.size(), pieces.size(),
               i, static_cast<int>(r), a.lastError());
    if (last) FUZZ_CHECK(whole == encoded, "reassembled frame differs from the one fragmented");
  }
}

void checkRecovers(const FragmentAssembler& rejected) {
  FragmentAssembler copy = rejected;
  std::vector<uint8_t> encoded = encode(BinaryMessage{std::string(100, 'r')});
  feedWellFormed(copy, encoded, 7, 40, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Script s{data, data + size};
  FragmentAssembler a(kLimits);
  int ops = 0;
  while (!s.done() && ops++ < 256) {
    uint8_t c = s.byte();
    if ((c & 3) != 3) {
      Fragment f;
      f.messageId = (c >> 2) & 3;
      f.index = smallOrHuge(s.byte());
      f.count = smallOrHuge(s.byte());
      f.bytes = s.bytes(s.byte());
      FragmentAssembler::Result r;
      std::vector<uint8_t> whole;
      if (feed(a, f, &r, &whole) && r == FragmentAssembler::Result::Rejected) checkRecovers(a);
    } else {
      uint8_t t = s.byte();
      uint8_t p = s.byte();
      std::string payload = s.bytes(s.byte());
      payload.resize(std::max<size_t>(payload.size(), 24), '\0');
      payload.resize(std::min<size_t>(payload.size(), 240));
      std::vector<uint8_t> encoded =
          (t & 1) ? encode(AppMessage{"\"" + hex(payload) + "\""}) : encode(BinaryMessage{payload});
      size_t piece = 16 + p % (encoded.size() - 16);
      feedWellFormed(a, encoded, t >> 1, piece, !a.inProgress());
      if (!a.inProgress()) checkRecovers(a);
    }
  }
  return 0;
}
