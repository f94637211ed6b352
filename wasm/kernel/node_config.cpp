#include "kernel/node_config.h"

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
            readBool(j, "corruptResults", &c.corruptResults, error);
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

std::string NodeConfig::validate() const {
  if (!isValidNodeId(nodeId)) return "nodeId must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'";
  if (replicaId == 0 || replicaId > kMaxSafeInteger) return "replicaId must be an integer in 1..2^53-1";
  if (roomId.empty() || roomId.size() > 1024) return "roomId must be 1-1024 characters";
  if (!roomTag.empty() && (roomTag.size() > 64 || roomTag.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos))
    return "roomTag must be at most 64 hex digits";
  if (peerServer) {
    if (roomTag.empty()) return "a peerServer needs a roomTag";
    if (peerServer->host.empty()) return "peerServer.host must be a non-empty string";
    if (peerServer->port == 0 || peerServer->port > 65535) return "peerServer.port must be in 1..65535";
    if (peerServer->token.empty()) return "peerServer.token must be a non-empty string";
    if (peerServer->heartbeatIntervalMs <= 0 || peerServer->openGraceMs <= 0 || peerServer->discoveryIntervalMs <= 0 ||
        peerServer->reconnectBaseMs <= 0 || peerServer->reconnectMaxMs < peerServer->reconnectBaseMs)
      return "peerServer intervals must be positive";
  }
  if (topology != "mesh") return "topology '" + topology + "' is not supported; use 'mesh'";
  if (announceIntervalMs <= 0 || connectTimeoutMs <= 0 || pingIntervalMs <= 0 || peerTimeoutMs <= 0 ||
      maxClockDriftMs <= 0 || antiEntropyIntervalMs <= 0)
    return "intervals and timeouts must be positive";
  if (peerTimeoutMs <= pingIntervalMs) return "peerTimeoutMs must be longer than pingIntervalMs";
  if (redialBaseMs <= 0 || redialMaxMs < redialBaseMs) return "redialBaseMs must be positive and at most redialMaxMs";
  if (maxChannelMessageBytes < 1024) return "maxChannelMessageBytes must be at least 1024";
  if (maxFrameBytes < maxChannelMessageBytes) return "maxFrameBytes must be at least maxChannelMessageBytes";
  if (computeWorkers > 256) return "computeWorkers must be at most 256";
  if (maxConnections < 1 || maxConnections > 256) return "maxConnections must be in 1..256";
  if (!(maxUnitMs > 0)) return "maxUnitMs must be positive";
  if (unitsQueuedPerWorker > 4) return "unitsQueuedPerWorker must be at most 4";
  if (maxTaskDataBytes < 1024 || maxTaskDataBytes > maxFrameBytes / 2)
    return "maxTaskDataBytes must be at least 1024 and at most half of maxFrameBytes";
  return "";
}

}  // namespace pc
