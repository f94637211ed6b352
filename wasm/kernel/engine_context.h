// What the kernel's engines share, and what each sees of the connections.
//
// The router (NodeKernel) owns everything here and outlives its engines. An
// engine queues host outputs, sets its deadlines in the one timer table,
// counts what it refuses, and reaches peers only through PeerLinks: it never
// holds another engine.
#pragma once

#include <deque>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include "host/host_outputs.h"
#include "kernel/node_config.h"
#include "kernel/node_counters.h"
#include "kernel/timer_table.h"
#include "wire/frame_codec.h"

namespace pc {

// The connections, as the engines above the sessions see them: implemented
// by the router over the SessionEngine.
class PeerLinks {
 public:
  virtual ~PeerLinks() = default;
  // Sends a frame to a peer that has a session; larger frames than a channel
  // message go as fragments.
  virtual void send(const std::string& peer, const wire::Frame& frame) = 0;
  // An encoded message on the unordered, unreliable channel: one channel
  // message, never fragmented.
  virtual void sendUnreliable(const std::string& peer, const std::vector<uint8_t>& bytes) = 0;
  // Counts a frame from the peer as refused, and why.
  virtual void reject(const std::string& peer, const std::string& why) = 0;
  virtual bool isConnected(const std::string& peer) const = 0;
  // The peers whose handshake is done, in id order.
  virtual std::vector<std::string> connected() const = 0;
  // The last ping round trip to the peer; nullopt before its first pong.
  virtual std::optional<double> roundTripMs(const std::string& peer) const = 0;
};

struct EngineContext {
  const NodeConfig& config;
  std::deque<Output>& outputs;
  TimerTable& timers;
  NodeCounters& counters;
  PeerLinks& links;
};

// For the router's dispatch: the frame types an engine takes from peers.
template <typename... Frames>
struct FrameSet {
  template <typename T>
  static constexpr bool has = (std::is_same_v<T, Frames> || ...);
};

}  // namespace pc
