// SimulatedNetwork: runs several NodeKernels on simulated time and plays
// their host, deterministically for a given seed.
//
// What it models:
//  - Signaling is a broadcast medium (like a BroadcastChannel): a SendSignal
//    with an empty `to` reaches every other node, one with a `to` only that
//    node, each after a signal delay.
//  - WebRTC is a fake negotiation that does what the JS glue does: on an
//    initiator OpenConnection the initiator makes an "offer" through
//    handleLocalRtcSignal; the responder, handed the offer by
//    DeliverRtcSignal, makes an "answer"; when the answer reaches the
//    initiator the data channel opens on both ends (handleChannelOpen).
//    Offers and answers carry a connection number so stale payloads and
//    stale closes never touch a newer connection.
//  - SendData reaches the other end's handleData after a data delay, in order
//    per directed channel unless `orderedData` is off; then every frame but
//    a connection's first (its Hello) gets its own delay, and may be
//    duplicated. CloseConnection closes both ends: the far end sees
//    handleChannelClosed after `closeDelay`.
//  - Timers: a node gets handleTimeout at its pollTimeout(), or at most once
//    per period when its timers are throttled (a background browser tab).
//  - crash(): a node stops running; its peers either see its channels close
//    or, for a silent crash, only notice through their liveness timeouts.
//
// Everything a node outputs is kept in its log with the time it was output.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <type_traits>
#include <vector>

#include "kernel/node_kernel.h"

namespace pcsim {

using pc::Millis;

// splitmix64: small, and the same sequence on every platform and library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  uint64_t below(uint64_t n);            // uniform in [0, n); n > 0
  Millis between(Millis lo, Millis hi);  // a whole number of ms in [lo, hi]
  bool chance(double p);

 private:
  uint64_t state_;
};

// A map's visible contents, key to JSON text, for comparing replicas.
std::map<std::string, std::string> contents(const pc::ReplicatedMap& map);

struct NetworkOptions {
  uint64_t seed = 1;
  Millis startTime = 0;
  Millis signalDelayMin = 5, signalDelayMax = 5;
  Millis rtcDelay = 2;  // to make an offer or an answer, and to open the channel after the answer
  Millis dataDelayMin = 10, dataDelayMax = 10;
  bool orderedData = true;   // false: frames after a connection's first overtake each other
  double duplicateData = 0;  // chance that a frame (not a connection's first) is delivered twice
  Millis closeDelay = 10;    // until the far end of a closed connection notices
};

struct Logged {
  Millis at;
  pc::Output output;
};

enum class CrashMode {
  ClosesChannels,  // peers see handleChannelClosed after closeDelay
  Silent,          // nothing is closed: peers must time it out
};

class SimulatedNetwork {
 public:
  explicit SimulatedNetwork(NetworkOptions options = {});
  ~SimulatedNetwork();
  SimulatedNetwork(const SimulatedNetwork&) = delete;
  SimulatedNetwork& operator=(const SimulatedNetwork&) = delete;

  // Adds a node and initializes it. An empty config.nodeId becomes `id`, and
  // a zero replicaId becomes the node's position plus one.
  pc::NodeKernel& addNode(const std::string& id, pc::NodeConfig config = {});
  void start(const std::string& id);
  void stop(const std::string& id);
  void crash(const std::string& id, CrashMode mode);
  // From now on the node gets handleTimeout at most once per `period`.
  void throttleTimers(const std::string& id, Millis period);

  // Runs fn(kernel, now) as an input to one node, then handles its outputs.
  template <typename Fn>
  decltype(auto) input(const std::string& id, Fn&& fn) {
    pc::NodeKernel& k = kernel(id);
    if constexpr (std::is_void_v<std::invoke_result_t<Fn, pc::NodeKernel&, Millis>>) {
      fn(k, now_);
      pump(id);
    } else {
      auto result = fn(k, now_);
      pump(id);
      return result;
    }
  }
  pc::Result write(const std::string& id, const std::string& key, const std::string& json);
  pc::Result remove(const std::string& id, const std::string& key);
  pc::Result commit(const std::string& id, const std::vector<pc::Operation>& ops);

  // Advances simulated time, delivering everything due on the way.
  void runUntil(Millis t);
  void runFor(Millis d) { runUntil(now_ + d); }
  // Runs until done() holds (checked after every step) or time passes
  // `deadline`; returns done().
  bool runUntil(const std::function<bool()>& done, Millis deadline);

  Millis now() const { return now_; }
  pc::NodeKernel& kernel(const std::string& id);
  const std::vector<Logged>& log(const std::string& id) const;
  std::vector<std::string> ids() const;
  uint64_t timerCalls(const std::string& id) const;

  // Outputs of type T that node `id` produced, with their times.
  template <typename T>
  std::vector<std::pair<Millis, T>> outputs(const std::string& id) const {
    std::vector<std::pair<Millis, T>> out;
    for (const Logged& l : log(id))
      if (const T* t = std::get_if<T>(&l.output)) out.emplace_back(l.at, *t);
    return out;
  }

  // Connections whose channel is open at both ends.
  size_t openConnections() const;
  bool channelOpen(const std::string& a, const std::string& b) const;
  // True when every pair of live started nodes is Connected both ways.
  bool fullMesh() const;
  // Adds and starts these nodes, then runs until they form a full mesh;
  // false if they have not within `within` ms.
  bool startMesh(const std::vector<std::string>& ids, const pc::NodeConfig& config = {}, Millis within = 5000);

  // Called for every output of every node, as the node emits it.
  std::function<void(const std::string& node, const pc::Output& output)> onOutput;
  // Called for every frame a node hands to an open channel.
  std::function<void(const std::string& from, const std::string& to, const std::vector<uint8_t>& bytes)>
      onFrameSent;
  // Frames bigger than the sender's maxChannelMessageBytes: a real data
  // channel would refuse them.
  uint64_t oversizeFrames() const { return oversizeFrames_; }
  uint64_t framesDelivered() const { return framesDelivered_; }

 private:
  struct Endpoint {
    bool initiator = false;
    uint64_t conn = 0;  // 0 until a responder has seen the offer
    bool open = false;
  };
  struct Node;
  struct Event {
    Millis at;
    uint64_t seq;
    std::function<void()> run;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  Node& node(const std::string& id);
  const Node& node(const std::string& id) const;
  Node* live(const std::string& id);  // null when unknown or crashed
  void schedule(Millis at, std::function<void()> run);
  void pump(const std::string& id);
  void handle(Node& n, const pc::Output& o);
  void sendData(Node& n, const pc::SendData& d);
  void openChannel(const std::string& initiator, const std::string& responder, uint64_t conn);
  void closeFarEnd(const std::string& from, const std::string& to, uint64_t conn);
  std::optional<Millis> wakeTime(const Node& n) const;
  bool step(Millis limit);

  NetworkOptions options_;
  Rng rng_;
  Millis now_;
  uint64_t nextSeq_ = 0;
  uint64_t nextConn_ = 1;
  uint64_t oversizeFrames_ = 0;
  uint64_t framesDelivered_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
};

}  // namespace pcsim
