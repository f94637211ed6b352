// Checks for text that enters the replicated state from outside the kernel.
#pragma once

#include <string_view>

namespace pc {

bool isValidUtf8(std::string_view s);
// One complete JSON value (RFC 8259) in UTF-8, as nlohmann::json accepts it.
bool isJsonText(std::string_view s);

}  // namespace pc
