// Checks for text that enters the replicated state from outside the kernel.
#pragma once

#include <string_view>

namespace pc {

bool isValidUtf8(std::string_view s);
// One complete JSON value (RFC 8259) in UTF-8, in one pass that builds
// nothing. It accepts what nlohmann::json::accept() accepts (numbers must be
// finite as doubles; escapes pair their surrogates; depth is unbounded) with
// two exceptions, where nlohmann is more lenient than JSON.parse in every
// peer's host: a leading byte order mark (nlohmann skips it) and a NUL byte
// (nlohmann ends the text there, so "1\0garbage" passed it) are refused.
bool isJsonText(std::string_view s);

}  // namespace pc
