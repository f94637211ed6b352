#include "rules/app_rules.h"

#include <algorithm>

#include "compute/task_data.h"
#include "kernel/node_config.h"
#include "state/json_text.h"

namespace pc::rules {

std::string checkKey(std::string_view key) {
  if (key.empty()) return "key must be a non-empty string";
  if (key.size() > kMaxKeyBytes) return "key is longer than " + std::to_string(kMaxKeyBytes) + " bytes";
  if (!isValidUtf8(key)) return "key is not valid UTF-8";
  return {};
}

std::string checkJsonText(std::string_view text, const char* what) {
  if (!isJsonText(text)) return std::string(what) + " is not valid JSON text";
  return {};
}

bool isValidTaskName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxTaskNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) { return kTaskNameCharacters.find(c) != std::string_view::npos; });
}

std::string checkTaskName(std::string_view name) {
  if (isValidTaskName(name)) return {};
  return "task name must be 1-" + std::to_string(kMaxTaskNameLength) +
         " characters of A-Z, a-z, 0-9, '_', '-', '.' or ':'";
}

std::string checkJobOptions(uint32_t redundancy, double timeoutMs, uint32_t maxAttempts) {
  if (redundancy < kMinRedundancy || redundancy > kMaxRedundancy)
    return "redundancy must be an integer in " + std::to_string(kMinRedundancy) + ".." + std::to_string(kMaxRedundancy);
  if (!(timeoutMs > 0)) return "timeoutMs must be positive";
  if (maxAttempts < kMinAttempts || maxAttempts > kMaxAttempts)
    return "maxAttempts must be an integer in " + std::to_string(kMinAttempts) + ".." + std::to_string(kMaxAttempts);
  return {};
}

nlohmann::json describeAppRules() {
  return {{"key", {{"maxBytes", kMaxKeyBytes}}},
          {"taskName", {{"maxLength", kMaxTaskNameLength}, {"characters", std::string(kTaskNameCharacters)}}},
          {"job",
           {{"redundancy", {{"min", kMinRedundancy}, {"max", kMaxRedundancy}}},
            {"maxAttempts", {{"min", kMinAttempts}, {"max", kMaxAttempts}}},
            {"maxUnits", kMaxUnitsPerJob}}},
          {"config", NodeConfig::describeRules()},
          {"taskData", describeTaskDataTags()}};
}

}  // namespace pc::rules
