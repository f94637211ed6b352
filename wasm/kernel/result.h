// The answer to an application's call: success, or what was wrong, in words
// the JS API puts in the Error it throws.
#pragma once

#include <string>
#include <utility>

namespace pc {

struct Result {
  bool ok = true;
  std::string error;
  static Result success() { return {}; }
  static Result failure(std::string why) { return {false, std::move(why)}; }
};

}  // namespace pc
