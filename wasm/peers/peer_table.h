// PeerTable: every peer this node knows of, its connection state and its
// statistics. It also holds the dial rule.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "state/hybrid_logical_clock.h"
#include "state/replicated_map.h"
#include "wire/fragment_assembler.h"

namespace pc {

enum class PeerState {
  Discovered,   // heard of through signaling; no connection yet
  Connecting,   // WebRTC negotiation under way
  Handshaking,  // data channel open; waiting for the peer's Hello (and password proof)
  Connected,    // Hello exchanged: state and messages flow
};
const char* toString(PeerState s);

struct PeerStats {
  uint64_t bytesIn = 0, bytesOut = 0;
  uint64_t framesIn = 0, framesOut = 0;
  uint64_t messagesIn = 0, messagesOut = 0;  // application messages
  uint64_t rejected = 0;                      // frames dropped as malformed or out of protocol
};

struct PeerRecord {
  std::string id;
  PeerState state = PeerState::Discovered;
  bool initiator = false;
  uint64_t replica = 0;
  uint64_t incarnation = 0;  // of the peer, from its signals
  Millis discoveredAt = 0;
  Millis stateSince = 0;
  Millis connectedAt = 0;
  Millis lastHeardAt = 0;     // any valid frame: liveness
  Millis lastMessageAt = 0;   // last application message
  Millis lastPingAt = 0;
  bool pingSentLate = false;  // the last ping went out on a late wake-up
  Millis lastAnnouncedAt = 0;  // last signal from the peer itself
  uint32_t failedDials = 0;    // since the last connection that worked
  Millis nextDialAt = 0;       // while Discovered after a failure
  Millis failedAt = 0;         // when the last connection failed
  std::optional<double> rttMs;
  uint64_t pingNonce = 0;
  // State sync with this peer (kernel/node_kernel_sync.cpp).
  bool syncOutstanding = false;        // we asked; its final response has not come
  Millis syncAnsweredAt = -1e300;      // when we last answered its SyncRequest
  bool syncAnswering = false;          // that answer is out and not yet acknowledged
  std::optional<StateVector> deferredRequest;  // its latest request, waiting for the two above
  uint64_t ackedVectorVersion = 0;     // our vector version last sent to this peer
  uint64_t ackedStateVersion = 0;      // our state version, likewise
  Millis ackedAt = -1e300;             // when we last sent it a StateAck
  bool rootsDiffer = false;            // its last fingerprint was not ours
  Millis reconcileStartedAt = -1e300;  // when we last began anti-entropy with it
  Millis reconcileHeardAt = -1e300;    // its last anti-entropy frame
  double reconcileBudget = 0;          // frames it may still send now (a token bucket)
  Millis reconcileBudgetAt = 0;
  std::optional<std::string> presence;  // JSON text; never stored
  // Signaling routes: heard on the local transport, and its server id.
  bool viaLocal = false;
  std::string serverId;
  // The password handshake (sealed rooms): our challenge, the peer's Hello,
  // the proof we expect of it, and its proof if it came first.
  std::string challenge;
  bool helloWaitsForEntropy = false;  // our Hello waits for the host's randomness
  bool helloSent = false;
  bool helloReceived = false;
  std::string theirChallenge;
  uint64_t authTicket = 0;
  std::optional<std::string> expectedProof;
  std::optional<std::string> ourProof;  // sent first by the dialer, else once the peer's checks out
  std::optional<std::string> receivedProof;
  bool authenticated = false;
  PeerStats stats;
  wire::FragmentAssembler assembler;

  PeerRecord(std::string id_, size_t maxFrameBytes) : id(std::move(id_)), assembler(wire::Limits{maxFrameBytes}) {}
};

class PeerTable {
 public:
  // Exactly one side of a pair dials: the one with the smaller id. Both sides
  // evaluate the same rule, so discovering each other at the same moment
  // still yields one connection.
  static bool shouldDial(const std::string& self, const std::string& peer) { return self < peer; }

  PeerRecord* find(const std::string& id);
  const PeerRecord* find(const std::string& id) const;
  PeerRecord& add(const std::string& id, size_t maxFrameBytes, Millis now);
  void setState(PeerRecord& p, PeerState s, Millis now);
  void remove(const std::string& id) { peers_.erase(id); }
  void clear() { peers_.clear(); }

  size_t size() const { return peers_.size(); }
  size_t countIn(PeerState s) const;

  auto begin() { return peers_.begin(); }
  auto end() { return peers_.end(); }
  auto begin() const { return peers_.begin(); }
  auto end() const { return peers_.end(); }

 private:
  std::map<std::string, PeerRecord> peers_;
};

}  // namespace pc
