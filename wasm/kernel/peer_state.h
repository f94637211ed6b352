// Where this node stands with a peer, as the status reports it.
#pragma once

namespace pc {

enum class PeerState {
  Discovered,   // heard of through signaling; no connection yet
  Connecting,   // WebRTC negotiation under way
  Handshaking,  // data channel open; waiting for the peer's Hello (and password proof)
  Connected,    // Hello exchanged: state and messages flow
};

inline const char* toString(PeerState s) {
  switch (s) {
    case PeerState::Discovered: return "discovered";
    case PeerState::Connecting: return "connecting";
    case PeerState::Handshaking: return "handshaking";
    case PeerState::Connected: return "connected";
  }
  return "unknown";
}

}  // namespace pc
