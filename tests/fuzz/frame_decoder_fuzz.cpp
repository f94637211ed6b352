// Fuzzes pc::wire::decode, the first code every byte from a peer reaches.
//
// Input: one channel message (a frame, or garbage).
// Checks, beyond no crash, leak or undefined behaviour:
//  - a failed decode names its error;
//  - peekHeader agrees with decode: a frame that decodes has a header whose
//    declared length is exactly the bytes that follow it;
//  - decode∘encode is a fixpoint on decoded frames: if decode succeeds,
//    encode(frame) decodes too and re-encodes to the very same bytes. (The
//    input itself need not equal its re-encoding: overlong varints, split
//    runs of writes and explicit state-vector entries decode alike.)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "wire/frame_codec.h"

using namespace pc::wire;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded d = decode(data, size);
  if (!d.frame) {
    FUZZ_CHECK(d.error != DecodeError::None, "decode failed without naming an error");
    FUZZ_CHECK(describe(d.error) != nullptr && std::strlen(describe(d.error)) > 0, "error %d has no description",
               static_cast<int>(d.error));
    return 0;
  }
  FUZZ_CHECK(d.error == DecodeError::None, "a decoded frame carries error %s", describe(d.error));

  DecodeError headerError = DecodeError::None;
  auto header = peekHeader(data, size, Limits{}, &headerError);
  FUZZ_CHECK(header.has_value(), "decode accepted what peekHeader refuses: %s", describe(headerError));
  FUZZ_CHECK(header->headerBytes + header->bodyBytes == size, "header says %zu+%zu bytes, frame has %zu",
             header->headerBytes, header->bodyBytes, size);
  FUZZ_CHECK(static_cast<size_t>(header->type) == d.frame->index() + 1, "header type %d, frame alternative %zu",
             static_cast<int>(header->type), d.frame->index());

  const std::vector<uint8_t> once = encode(*d.frame);
  FUZZ_CHECK(!once.empty(), "encode of a decoded frame is empty");
  Decoded again = decode(once);
  FUZZ_CHECK(again.frame.has_value(), "the re-encoding of a decoded frame (type %d) does not decode: %s",
             static_cast<int>(header->type), describe(again.error));
  FUZZ_CHECK(again.frame->index() == d.frame->index(), "re-decoding changed the frame type");
  const std::vector<uint8_t> twice = encode(*again.frame);
  FUZZ_CHECK(twice == once, "decode∘encode is not a fixpoint (type %d): %zu bytes, then %zu",
             static_cast<int>(header->type), once.size(), twice.size());
  return 0;
}
