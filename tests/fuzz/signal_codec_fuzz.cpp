// Fuzzes pc::decodeSignal, which parses every signaling envelope a node hears
// (BroadcastChannel, or relayed by a PeerJS server).
//
// Input: the envelope's text.
// Checks, beyond no crash (JSON_NOEXCEPTION turns any nlohmann exception into
// an abort, so a type confusion shows up here):
//  - a refused envelope says why;
//  - an accepted one has a valid sender id, a valid or empty recipient, and
//    for rtc a recipient and a JSON object as data;
//  - encodeSignal then decodeSignal gives back the same fields, and encoding
//    that again gives the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "signaling/signal_codec.h"

using namespace pc;

namespace {
bool sameFields(const Signal& a, const Signal& b) {
  return a.type == b.type && a.room == b.room && a.from == b.from && a.to == b.to && a.data == b.data &&
         a.incarnation == b.incarnation;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  std::optional<Signal> s = decodeSignal(text, &error);
  if (!s) {
    FUZZ_CHECK(!error.empty(), "a signal was refused without a reason");
    return 0;
  }
  FUZZ_CHECK(isValidNodeId(s->from), "accepted a signal from an invalid id");
  FUZZ_CHECK(s->to.empty() || isValidNodeId(s->to), "accepted a signal to an invalid id");
  if (s->type == SignalType::Rtc) {
    FUZZ_CHECK(!s->to.empty(), "accepted an rtc signal without a recipient");
    nlohmann::json d = nlohmann::json::parse(s->data, nullptr, false);
    FUZZ_CHECK(!d.is_discarded() && d.is_object(), "rtc data is not a JSON object: %s", s->data.c_str());
  } else {
    FUZZ_CHECK(s->data.empty(), "a non-rtc signal kept data");
  }

  const std::string encoded = encodeSignal(*s);
  std::string error2;
  std::optional<Signal> again = decodeSignal(encoded, &error2);
  FUZZ_CHECK(again.has_value(), "the encoding of an accepted signal is refused (%s): %s", error2.c_str(),
             encoded.c_str());
  FUZZ_CHECK(sameFields(*s, *again), "encode then decode changed a field: %s", encoded.c_str());
  FUZZ_CHECK(encodeSignal(*again) == encoded, "encoding is not stable: %s", encoded.c_str());
  return 0;
}
