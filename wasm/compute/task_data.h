// Task data: the inputs and results of compute tasks, as CBOR (RFC 8949) in
// the subset js-glue/compute/task-data.js writes, with typed arrays as RFC
// 8746 tags. Bytes from peers are checked here before nlohmann parses them:
// its parser trusts declared lengths and recurses without a bound.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace pc {

constexpr size_t kMaxTaskDataDepth = 256;

// RFC 8746 tags (little-endian typed arrays) that task data may carry, named
// as JavaScript names their arrays. js-glue/compute/task-data.js takes them
// from here (describeTaskDataTags(), through the package's kernel rules).
struct TypedArrayTag {
  const char* name;
  uint64_t tag;
  size_t elementBytes;
};
constexpr TypedArrayTag kTypedArrayTags[] = {
    {"Uint8ClampedArray", 68, 1}, {"Int8Array", 72, 1},       {"Uint16Array", 69, 2},
    {"Int16Array", 77, 2},        {"Uint32Array", 70, 4},     {"Int32Array", 78, 4},
    {"Float32Array", 85, 4},      {"BigUint64Array", 71, 8},  {"BigInt64Array", 79, 8},
    {"Float64Array", 86, 8},
};
constexpr uint64_t kTagUint32Array = 70;
bool isTypedArrayTag(uint64_t tag);
nlohmann::json describeTaskDataTags();

// Empty when `bytes` is one well-formed task data value, else what is wrong.
std::string checkTaskData(std::string_view bytes);

// The value, or nullopt when malformed. Typed arrays become binary values
// whose subtype is their tag.
std::optional<nlohmann::json> parseTaskData(std::string_view bytes);
std::string encodeTaskData(const nlohmann::json& value);

// A Uint32Array, as task data.
nlohmann::json uint32Array(const std::vector<uint32_t>& values);

}  // namespace pc
