// Nodes as the signaling and password tests set them up: through a simulated
// PeerJS server, each in a browser of its own, with or without a password.
#pragma once

#include <optional>
#include <string>

#include "support/simulated_network.h"

namespace pcsim {

constexpr const char* kRoomTag = "5eed";

// A node of the default room that signals through server `server`.
inline pc::NodeConfig viaServer(SimulatedNetwork& net, const std::string& id, size_t server = 0,
                                const std::string& tag = kRoomTag) {
  pc::NodeConfig c;
  c.nodeId = id;
  c.roomTag = tag;
  c.peerServer = net.serverConfig(server, "token-" + id);
  return c;
}

inline pc::NodeConfig sealedNode(const std::string& id) {
  pc::NodeConfig c;
  c.nodeId = id;
  c.sealed = true;
  return c;
}

inline pc::NodeConfig sealedViaServer(SimulatedNetwork& net, const std::string& id) {
  pc::NodeConfig c = sealedNode(id);
  c.roomTag = kRoomTag;
  c.peerServer = net.serverConfig(0, "token-" + id);
  return c;
}

// A node in a browser of its own: only the server connects it to others.
inline NodeSetup browser(const std::string& name) {
  NodeSetup s;
  s.browser = name;
  return s;
}

inline NodeSetup withPassword(const std::string& password, const std::string& browserName = "") {
  NodeSetup s;
  s.password = password;
  s.browser = browserName;
  return s;
}

inline void join(SimulatedNetwork& net, const std::string& id, const pc::NodeConfig& config, const NodeSetup& setup) {
  net.addNode(id, config, setup);
  net.start(id);
}

inline std::string serverId(const std::string& node, const std::string& tag = kRoomTag) { return tag + "." + node; }

// A key's value at a node; nullopt when it has none.
inline std::optional<std::string> valueAt(SimulatedNetwork& net, const std::string& id, const std::string& key) {
  const std::string* v = net.kernel(id).state().get(key);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

}  // namespace pcsim
