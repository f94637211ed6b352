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

// RFC 8746 tags (little-endian typed arrays) that task data may carry.
constexpr uint64_t kTagUint32Array = 70;
bool isTypedArrayTag(uint64_t tag);

// Empty when `bytes` is one well-formed task data value, else what is wrong.
std::string checkTaskData(std::string_view bytes);

// The value, or nullopt when malformed. Typed arrays become binary values
// whose subtype is their tag.
std::optional<nlohmann::json> parseTaskData(std::string_view bytes);
std::string encodeTaskData(const nlohmann::json& value);

// A Uint32Array, as task data.
nlohmann::json uint32Array(const std::vector<uint32_t>& values);

}  // namespace pc
