#include "kernel/node_config.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "signaling/signal_codec.h"

namespace pc {

using nlohmann::json;

namespace {
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

template <typename T>
bool readNumber(const json& j, const char* name, T* out, std::string* error) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_number() || it->get<double>() < 0) {
    *error = std::string(name) + " must be a non-negative number";
    return false;
  }
  if constexpr (std::is_integral_v<T>) {
    // 1.5 workers is not one worker: refuse it rather than truncate.
    const double v = it->get<double>();
    if (std::floor(v) != v) {
      *error = std::string(name) + " must be an integer";
      return false;
    }
    if (v > static_cast<double>(std::numeric_limits<T>::max())) {
      *error = std::string(name) + " is too large";
      return false;
    }
  }
  *out = it->get<T>();
  return true;
}

bool readBool(const json& j, const char* name, bool* out, std::string* error) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_boolean()) {
    *error = std::string(name) + " must be a boolean";
    return false;
  }
  *out = it->get<bool>();
  return true;
}

bool readString(const json& j, const char* name, std::string* out, std::string* error) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_string()) {
    *error = std::string(name) + " must be a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}
// Null or absent leaves `out` empty.
bool readOptionalString(const json& j, const char* name, std::optional<std::string>* out, std::string* error) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *error = std::string(name) + " must be null or a string";
    return false;
  }
  *out = it->get<std::string>();
  return true;
}
}  // namespace

std::optional<NodeConfig> NodeConfig::fromJson(std::string_view text, std::string* error) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "config must be a JSON object";
    return std::nullopt;
  }
  NodeConfig c;
  bool ok = readString(j, "nodeId", &c.nodeId, error) && readNumber(j, "replicaId", &c.replicaId, error) &&
            readString(j, "roomId", &c.roomId, error) && readString(j, "topology", &c.topology, error) &&
            readNumber(j, "maxConnections", &c.maxConnections, error) &&
            readNumber(j, "announceIntervalMs", &c.announceIntervalMs, error) &&
            readNumber(j, "connectTimeoutMs", &c.connectTimeoutMs, error) &&
            readNumber(j, "redialBaseMs", &c.redialBaseMs, error) &&
            readNumber(j, "redialMaxMs", &c.redialMaxMs, error) && readNumber(j, "seed", &c.seed, error) &&
            readNumber(j, "pingIntervalMs", &c.pingIntervalMs, error) &&
            readNumber(j, "peerTimeoutMs", &c.peerTimeoutMs, error) &&
            readNumber(j, "maxClockDriftMs", &c.maxClockDriftMs, error) &&
            readNumber(j, "antiEntropyIntervalMs", &c.antiEntropyIntervalMs, error) &&
            readNumber(j, "maxChannelMessageBytes", &c.maxChannelMessageBytes, error) &&
            readNumber(j, "maxFrameBytes", &c.maxFrameBytes, error) && readBool(j, "persist", &c.persist, error) &&
            readString(j, "roomTag", &c.roomTag, error) && readBool(j, "sealed", &c.sealed, error) &&
            readNumber(j, "computeWorkers", &c.computeWorkers, error) &&
            readNumber(j, "maxUnitMs", &c.maxUnitMs, error) &&
            readNumber(j, "maxTaskDataBytes", &c.maxTaskDataBytes, error) &&
            readNumber(j, "unitsQueuedPerWorker", &c.unitsQueuedPerWorker, error) &&
            readBool(j, "reportLocalChanges", &c.reportLocalChanges, error) &&
            readString(j, "appRoomId", &c.appRoomId, error) && readOptionalString(j, "gameId", &c.gameId, error) &&
            readOptionalString(j, "persistenceError", &c.persistenceError, error);
  if (!ok) return std::nullopt;
  if (auto it = j.find("peerServer"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      *error = "peerServer must be an object";
      return std::nullopt;
    }
    PeerServerConfig s;
    ok = readString(*it, "host", &s.host, error) && readNumber(*it, "port", &s.port, error) &&
         readString(*it, "path", &s.path, error) && readBool(*it, "secure", &s.secure, error) &&
         readString(*it, "key", &s.key, error) && readString(*it, "token", &s.token, error) &&
         readNumber(*it, "heartbeatIntervalMs", &s.heartbeatIntervalMs, error) &&
         readNumber(*it, "openGraceMs", &s.openGraceMs, error) &&
         readNumber(*it, "discoveryIntervalMs", &s.discoveryIntervalMs, error) &&
         readNumber(*it, "reconnectBaseMs", &s.reconnectBaseMs, error) &&
         readNumber(*it, "reconnectMaxMs", &s.reconnectMaxMs, error);
    if (!ok) return std::nullopt;
    c.peerServer = std::move(s);
  }
  *error = c.validate();
  if (!error->empty()) return std::nullopt;
  return c;
}

namespace {
constexpr size_t kMaxRoomBytes = 1024;
constexpr uint32_t kMaxComputeWorkers = 256;
constexpr uint32_t kMaxUnitsQueuedPerWorker = 4;
constexpr uint32_t kMaxMaxConnections = 256;
constexpr size_t kMinTaskDataBytes = 1024;
constexpr size_t kMinChannelMessageBytes = 1024;
constexpr uint32_t kMaxPort = 65535;

// The numeric options' ranges: validate() checks them and describeRules()
// hands them to the JS API, so the two cannot differ. A number is either
// positive (an interval), or an integer in [min, max].
struct Range {
  const char* name;
  bool integer;
  double min;  // exclusive for intervals
  double max;  // 0: no upper bound
  bool positive;
};

std::vector<Range> ranges(const NodeConfig& c) {
  return {
      {"maxConnections", true, 1, kMaxMaxConnections, false},
      {"announceIntervalMs", false, 0, 0, true},
      {"connectTimeoutMs", false, 0, 0, true},
      {"pingIntervalMs", false, 0, 0, true},
      {"peerTimeoutMs", false, 0, 0, true},
      {"maxClockDriftMs", false, 0, 0, true},
      {"antiEntropyIntervalMs", false, 0, 0, true},
      {"redialBaseMs", false, 0, 0, true},
      {"maxUnitMs", false, 0, 0, true},
      {"computeWorkers", true, 0, kMaxComputeWorkers, false},
      {"unitsQueuedPerWorker", true, 0, kMaxUnitsQueuedPerWorker, false},
      {"maxTaskDataBytes", true, kMinTaskDataBytes, static_cast<double>(c.maxFrameBytes / 2), false},
  };
}

double value(const NodeConfig& c, std::string_view name) {
  if (name == "maxConnections") return c.maxConnections;
  if (name == "announceIntervalMs") return c.announceIntervalMs;
  if (name == "connectTimeoutMs") return c.connectTimeoutMs;
  if (name == "pingIntervalMs") return c.pingIntervalMs;
  if (name == "peerTimeoutMs") return c.peerTimeoutMs;
  if (name == "maxClockDriftMs") return c.maxClockDriftMs;
  if (name == "antiEntropyIntervalMs") return c.antiEntropyIntervalMs;
  if (name == "redialBaseMs") return c.redialBaseMs;
  if (name == "maxUnitMs") return c.maxUnitMs;
  if (name == "computeWorkers") return c.computeWorkers;
  if (name == "unitsQueuedPerWorker") return c.unitsQueuedPerWorker;
  if (name == "maxTaskDataBytes") return static_cast<double>(c.maxTaskDataBytes);
  return 0;
}

std::string describe(const Range& r) {
  if (r.positive) return std::string(r.name) + " must be a positive number";
  return std::string(r.name) + " must be an integer in " + std::to_string(static_cast<uint64_t>(r.min)) + ".." +
         std::to_string(static_cast<uint64_t>(r.max));
}
}  // namespace

std::string NodeConfig::validate() const {
  if (!isValidNodeId(nodeId)) return "nodeId must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'";
  if (replicaId == 0 || replicaId > kMaxSafeInteger) return "replicaId must be an integer in 1..2^53-1";
  if (roomId.empty() || roomId.size() > kMaxRoomBytes)
    return "the room must be 1-" + std::to_string(kMaxRoomBytes) + " bytes of UTF-8";
  if (!roomTag.empty() && (roomTag.size() > 64 || roomTag.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
    return "roomTag must be at most 64 hex digits";
  if (peerServer) {
    if (roomTag.empty()) return "a peerServer needs a roomTag";
    if (peerServer->host.empty()) return "peerServer.host must be a non-empty string";
    if (peerServer->port == 0 || peerServer->port > kMaxPort)
      return "peerServer.port must be an integer in 1.." + std::to_string(kMaxPort);
    if (peerServer->token.empty()) return "peerServer.token must be a non-empty string";
    if (peerServer->heartbeatIntervalMs <= 0 || peerServer->openGraceMs <= 0 || peerServer->discoveryIntervalMs <= 0 ||
        peerServer->reconnectBaseMs <= 0 || peerServer->reconnectMaxMs < peerServer->reconnectBaseMs)
      return "peerServer intervals must be positive";
  }
  if (topology != "mesh") return "topology '" + topology + "' is not supported; use 'mesh'";
  if (maxChannelMessageBytes < kMinChannelMessageBytes)
    return "maxChannelMessageBytes must be at least " + std::to_string(kMinChannelMessageBytes);
  if (maxFrameBytes < maxChannelMessageBytes) return "maxFrameBytes must be at least maxChannelMessageBytes";
  for (const Range& r : ranges(*this)) {
    const double v = value(*this, r.name);
    const bool ok = r.positive ? v > 0 : v >= r.min && v <= r.max;
    if (!ok) return describe(r);
  }
  if (peerTimeoutMs <= pingIntervalMs) return "peerTimeoutMs must be longer than pingIntervalMs";
  if (redialMaxMs < redialBaseMs) return "redialMaxMs must be at least redialBaseMs";
  return "";
}

nlohmann::json NodeConfig::describeRules() {
  json numbers = json::object();
  for (const Range& r : ranges(NodeConfig{})) {
    if (r.positive) numbers[r.name] = {{"positive", true}, {"message", describe(r)}};
    else numbers[r.name] = {{"integer", true}, {"min", r.min}, {"max", r.max}, {"message", describe(r)}};
  }
  return {{"nodeId", {{"maxLength", 64}, {"characters", kNodeIdCharacters}}},
          {"room", {{"maxBytes", kMaxRoomBytes}}},
          {"topologies", {"mesh"}},
          {"peerServerPort", {{"min", 1}, {"max", kMaxPort}}},
          {"numbers", numbers},
          {"longer", {{"peerTimeoutMs", "pingIntervalMs"}}}};
}

}  // namespace pc
