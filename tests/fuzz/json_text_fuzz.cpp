// Fuzzes pc::isJsonText, the one-pass check of every JSON value, message and
// presence from the host and from peers, against nlohmann::json::accept.
//
// Input: the text.
// Checks, beyond no crash: isJsonText accepts exactly what nlohmann accepts,
// except where nlohmann is more lenient than JSON.parse, which isJsonText
// follows: a text that begins with a byte order mark (nlohmann skips it),
// and one with a NUL byte (nlohmann ends the input at the first NUL, so
// "1\0garbage" passes it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_check.h"
#include "state/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool bom = text.substr(0, 3) == "\xEF\xBB\xBF";
  const bool nul = text.find('\0') != std::string_view::npos;
  const bool nlohmann = nlohmann::json::accept(text.begin(), text.end());
  const bool ours = pc::isJsonText(text);
  FUZZ_CHECK(ours == (nlohmann && !bom && !nul), "isJsonText says %d, nlohmann %d (bom %d, nul %d), for %zu bytes", ours,
             nlohmann, bom, nul, size);
  return 0;
}
