// The rules an application's input must follow, defined once. The kernel
// checks them; the JS API takes them from here (describeAppRules(), exported
// by the bindings and built into the package) so that it can throw at once,
// naming the bad argument, and a test fails if the two ever disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace pc::rules {

// Keys: non-empty UTF-8 of at most this many bytes.
constexpr size_t kMaxKeyBytes = 64 * 1024;
// Task names: 1-64 characters of this set.
constexpr size_t kMaxTaskNameLength = 64;
constexpr std::string_view kTaskNameCharacters =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.:";
// Job options.
constexpr uint32_t kMinRedundancy = 1, kMaxRedundancy = 16;
constexpr uint32_t kMinAttempts = 1, kMaxAttempts = 100;
constexpr size_t kMaxUnitsPerJob = 1'000'000;

// Each returns what is wrong, or an empty string.
std::string checkKey(std::string_view key);
// JSON text: values, messages, presence. `what` names it in the error.
std::string checkJsonText(std::string_view text, const char* what);
bool isValidTaskName(std::string_view name);
std::string checkTaskName(std::string_view name);
std::string checkJobOptions(uint32_t redundancy, double timeoutMs, uint32_t maxAttempts);

// All of the rules as data: these, the config's (NodeConfig::describeRules())
// and the task data's CBOR tags (compute/task_data.h).
nlohmann::json describeAppRules();

}  // namespace pc::rules
