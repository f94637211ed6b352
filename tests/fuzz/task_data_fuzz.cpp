// Fuzzes pc::checkTaskData and pc::parseTaskData: the CBOR task inputs and
// results that peers send in WorkAssign and WorkResult frames.
//
// Input: the task data bytes.
// Checks, beyond no crash (nlohmann's CBOR parser trusts declared lengths and
// recurses without bound; the checker is what keeps it safe):
//  - checkTaskData and parseTaskData agree: parse returns a value exactly
//    when the check passes;
//  - encodeTaskData of a parsed value passes the check itself, and
//    parse∘encode is a fixpoint on it (same bytes again).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "compute/task_data.h"
#include "fuzz_check.h"

using namespace pc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string problem = checkTaskData(bytes);
  std::optional<nlohmann::json> value = parseTaskData(bytes);
  if (!problem.empty()) {
    FUZZ_CHECK(!value.has_value(), "parseTaskData accepted what checkTaskData refuses (%s)", problem.c_str());
    return 0;
  }
  FUZZ_CHECK(value.has_value(), "checkTaskData passed %zu bytes that parseTaskData refuses", size);

  const std::string encoded = encodeTaskData(*value);
  const std::string recheck = checkTaskData(encoded);
  FUZZ_CHECK(recheck.empty(), "the encoding of a parsed value fails the check: %s", recheck.c_str());
  std::optional<nlohmann::json> again = parseTaskData(encoded);
  FUZZ_CHECK(again.has_value(), "the encoding of a parsed value does not parse");
  FUZZ_CHECK(encodeTaskData(*again) == encoded, "parse∘encode is not a fixpoint (%zu bytes)", encoded.size());
  return 0;
}
