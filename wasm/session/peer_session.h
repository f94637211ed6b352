// PeerSession: one peer's connection, from the moment this node decides to
// open it: its state, its handshake, its liveness, its fragments and its
// statistics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kernel/peer_state.h"
#include "session/handshake.h"
#include "time/millis.h"
#include "wire/fragment_assembler.h"

namespace pc {

struct PeerStats {
  uint64_t bytesIn = 0, bytesOut = 0;
  uint64_t framesIn = 0, framesOut = 0;
  uint64_t messagesIn = 0, messagesOut = 0;  // application messages
  uint64_t rejected = 0;                      // frames dropped as malformed or out of protocol
};

struct PeerSession {
  PeerSession(std::string id_, bool initiator_, Handshake handshake_, size_t maxFrameBytes, Millis now)
      : id(std::move(id_)), initiator(initiator_), stateSince(now), handshake(std::move(handshake_)),
        assembler(wire::Limits{maxFrameBytes}) {}

  std::string id;
  PeerState state = PeerState::Connecting;  // never Discovered
  bool initiator = false;                   // this node dialled
  uint64_t replica = 0;                     // the peer's, from its Hello
  Millis stateSince = 0;
  Millis connectedAt = 0;
  Millis lastHeardAt = 0;    // any valid frame: liveness
  Millis lastMessageAt = 0;  // last application message
  Millis lastPingAt = 0;
  bool pingSentLate = false;  // the last ping went out on a late wake-up
  std::optional<double> rttMs;
  uint64_t pingNonce = 0;
  uint64_t proofsTicket = 0;  // the host's answer to our AuthenticatePeer carries it
  Handshake handshake;
  PeerStats stats;
  wire::FragmentAssembler assembler;
};

}  // namespace pc
