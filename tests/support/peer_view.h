// One kernel's view of one peer, gathered from its engines (discovery's
// KnownPeer, the session, presence) for tests to assert on.
#pragma once

#include <optional>
#include <string>

#include "kernel/node_kernel.h"

namespace pcsim {

struct PeerView {
  std::string id;
  pc::PeerState state = pc::PeerState::Discovered;
  bool initiator = false;
  uint64_t incarnation = 0;
  uint32_t failedDials = 0;  // since its last connection that worked
  std::string serverId;  // its address on the PeerJS server route, if it was heard there
  pc::Millis connectedAt = 0;
  pc::Millis lastPingAt = 0;
  pc::Millis lastHeardAt = 0;
  std::optional<double> rttMs;
  pc::PeerStats stats;
  bool reassembling = false;  // part of a fragmented frame is held
  std::optional<std::string> presence;
};

// Nullopt when the kernel does not know the peer.
inline std::optional<PeerView> peerOf(const pc::NodeKernel& kernel, const std::string& id) {
  std::optional<pc::PeerState> state = kernel.peerState(id);
  if (!state) return std::nullopt;
  PeerView v;
  v.id = id;
  v.state = *state;
  if (const pc::KnownPeer* known = kernel.knownPeer(id)) {
    v.incarnation = known->incarnation;
    v.failedDials = known->failedDials;
    v.serverId = kernel.discovery().addressOn(*known, "peerjs-server");
  }
  if (const pc::PeerSession* s = kernel.session(id)) {
    v.initiator = s->initiator;
    v.connectedAt = s->connectedAt;
    v.lastPingAt = s->lastPingAt;
    v.lastHeardAt = s->lastHeardAt;
    v.rttMs = s->rttMs;
    v.stats = s->stats;
    v.reassembling = s->assembler.inProgress();
  }
  if (const std::string* p = kernel.presence().of(id)) v.presence = *p;
  return v;
}

}  // namespace pcsim
