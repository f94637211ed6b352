// What the kernel needs to know to run. Identity and randomness come in from
// the host: the kernel draws no random numbers and reads no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "signaling/peer_server_link.h"
#include "time/millis.h"

namespace pc {

struct NodeConfig {
  std::string nodeId;        // unique, see isValidNodeId
  uint64_t replicaId = 0;    // nonzero, below 2^53 so JavaScript holds it exactly
  std::string roomId = "default";
  std::string topology = "mesh";
  // At most this many connections, counting those being set up; no signal
  // can make a node open more. Rooms larger than maxConnections + 1 need a
  // partial mesh (not in this version).
  uint32_t maxConnections = 32;
  Millis announceIntervalMs = 2000;
  Millis connectTimeoutMs = 15000;
  // A failed connection is redialled after redialBaseMs, doubling per failure
  // up to redialMaxMs, each delay jittered to between half and 1.5 times.
  Millis redialBaseMs = 500;
  Millis redialMaxMs = 30'000;
  uint64_t seed = 0;  // for the jitter; the host supplies randomness
  Millis pingIntervalMs = 1000;
  Millis peerTimeoutMs = 4000;  // with 1 s pings, a vanished peer goes within 5 s
  // A peer's write stamped further than this ahead of our clock is refused
  // until our clock catches up (PROTOCOL.md, "Clocks").
  Millis maxClockDriftMs = 60'000;
  // Anti-entropy with a peer whose fingerprint differs from ours begins at
  // most this often (PROTOCOL.md, "Anti-entropy").
  Millis antiEntropyIntervalMs = 5'000;
  bool persist = false;  // emit PersistRecord outputs for the host to store
  size_t maxChannelMessageBytes = 64 * 1024;  // larger frames travel as fragments
  size_t maxFrameBytes = 64 * 1024 * 1024;    // largest frame accepted after reassembly

  // Signaling. The local transport (BroadcastChannel) takes SendSignal; a
  // PeerJS server, when configured, is spoken to through ServerConnect and
  // friends. roomTag names the room on the server: the host derives it from
  // the room (and password), so the kernel never sees the password.
  std::optional<PeerServerConfig> peerServer;
  std::string roomTag;
  // A room password is in use: signals are sealed by the host, and peers
  // prove the password on the data channel before anything else flows.
  bool sealed = false;

  // Compute: how many units this node runs at once (0: it submits work but
  // runs none), and the largest task input or result, in bytes of task data.
  uint32_t computeWorkers = 1;
  // The CPU budget of one unit run for a peer: the host stops it past this.
  Millis maxUnitMs = 60'000;
  size_t maxTaskDataBytes = 16 * 1024 * 1024;
  // Units handed to the host beyond one per worker, per worker: a host whose
  // workers each keep a queue (the browser's Web Workers) gets the next unit
  // before the current one ends, so a worker never waits for the page
  // between units. 0: a unit is handed over only when a worker is free.
  uint32_t unitsQueuedPerWorker = 0;
  // StateChanged for this node's own writes. A host that applies its writes
  // itself as it makes them (the JS API does) turns it off.
  bool reportLocalChanges = true;

  // Facts of the host that the status reports, so that the status has one
  // shape, defined in node_status.cpp: the room and game as the app named
  // them (roomId above is the effective room, which joins the two), and why
  // the host could not persist although asked to.
  std::string appRoomId;                   // empty: roomId
  std::optional<std::string> gameId;       // null in the status when absent
  std::optional<std::string> persistenceError;

  // Parses the JSON the bindings pass in; fields left out keep their defaults.
  static std::optional<NodeConfig> fromJson(std::string_view text, std::string* error);
  // Empty when valid, else what is wrong.
  std::string validate() const;
  // The rules validate() applies, as data for the JS API (rules/app_rules.h).
  static nlohmann::json describeRules();
};

}  // namespace pc
