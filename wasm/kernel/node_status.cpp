// The node's status and its peers, in the shape the JS API reports
// (NodeStatus and PeerInfo in js-glue/peercompute.d.ts). This is the one
// definition of that shape: the JS API adds nothing to it, a node not yet
// initialized reports a copy of a fresh kernel's status (built into the
// package as STATUS_BEFORE_INIT), and tests/js/status-shape.test.mjs checks
// the d.ts against it.
#include "discovery/peer_server_route.h"
#include "kernel/node_kernel.h"

namespace pc {

using nlohmann::json;

json NodeKernel::describePeers() const {
  json out = json::array();
  const PeerStats none;
  for (const auto& [id, known] : discovery_.peers()) {
    const PeerSession* s = sessions_.find(id);
    const PeerStats& stats = s ? s->stats : none;
    const std::string route = discovery_.routeOf(known);
    out.push_back({{"peerId", id},
                   {"state", toString(s ? s->state : PeerState::Discovered)},
                   {"initiator", s && s->initiator},
                   {"transport", "webrtc"},
                   {"signaling", route.empty() ? json(nullptr) : json(route)},
                   {"passwordVerified", s && s->handshake.authenticated()},
                   {"discoveredAt", known.discoveredAt},
                   {"connectedAt", s && s->state == PeerState::Connected ? json(s->connectedAt) : json(nullptr)},
                   {"lastMessageTime", s && s->lastMessageAt > 0 ? json(s->lastMessageAt) : json(nullptr)},
                   {"lastHeardAt", s && s->lastHeardAt > 0 ? json(s->lastHeardAt) : json(nullptr)},
                   {"rttMs", s && s->rttMs ? json(*s->rttMs) : json(nullptr)},
                   {"bytesIn", stats.bytesIn},
                   {"bytesOut", stats.bytesOut},
                   {"framesIn", stats.framesIn},
                   {"framesOut", stats.framesOut},
                   {"messagesIn", stats.messagesIn},
                   {"messagesOut", stats.messagesOut},
                   {"rejected", stats.rejected}});
  }
  return out;
}

json NodeKernel::describeStatus() const {
  json connectionStates = json::object();
  for (const auto& [id, known] : discovery_.peers()) connectionStates[id] = toString(*peerState(id));
  uint64_t bytesIn = 0, bytesOut = 0, messagesIn = 0, messagesOut = 0;
  for (const auto& [id, s] : sessions_.all()) {
    bytesIn += s.stats.bytesIn;
    bytesOut += s.stats.bytesOut;
    messagesIn += s.stats.messagesIn;
    messagesOut += s.stats.messagesOut;
  }
  const size_t connected = connectedPeerCount();
  const SignalRoute* server = discovery_.route(PeerServerRoute::kName);
  const ReplicatedMap& map = sync_.map();
  const auto orNull = [](const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); };
  return {{"nodeId", config_.nodeId},
          {"roomId", config_.appRoomId.empty() ? config_.roomId : config_.appRoomId},
          {"gameId", orNull(config_.gameId)},
          {"isInitialized", isInitialized()},
          {"isStarted", isStarted()},
          {"startedAt", isStarted() ? json(startedAt_) : json(nullptr)},
          {"topology", config_.topology},
          {"network",
           {{"peerId", config_.nodeId},
            {"peerCount", connected},
            {"knownPeers", discovery_.peers().size()},
            {"isConnected", connected > 0},
            {"connections", connected},  // a count, as in the original library
            {"connectionStates", connectionStates},
            {"transports", isStarted() ? json(discovery_.routeNames()) : json::array()},
            {"bytesIn", bytesIn},
            {"bytesOut", bytesOut},
            {"messagesIn", messagesIn},
            {"messagesOut", messagesOut},
            {"rejectedFrames", counters_.rejectedFrames},
            {"rejectedSignals", counters_.rejectedSignals},
            {"shadowedSignals", counters_.shadowedSignals},
            {"lastRejection", counters_.lastRejection.empty() ? json(nullptr) : json(counters_.lastRejection)},
            {"passwordProtected", config_.sealed},
            {"signalingServer", server ? server->describe() : json(nullptr)}}},
          {"state",
           {{"keyCount", map.size()},
            {"tombstones", map.tombstones()},
            {"tombstoneBytes", map.tombstoneBytes()},
            {"futureWrites", counters_.futureWrites},
            {"reconciliations", counters_.reconciliations},
            {"repairedWrites", counters_.repairedWrites},
            {"replicaId", config_.replicaId},
            {"rejectedWrites", counters_.rejectedWrites},
            {"hasPersistence", config_.persist},
            {"persistenceError", orNull(config_.persistenceError)},
            {"hasP2PSync", isStarted()}}},
          {"compute", compute_.describe()}};
}

json NodeKernel::describeComputePeers() const { return compute_.scheduler().describeWorkers(); }

}  // namespace pc
