// SimulatedNetwork: runs several NodeKernels on simulated time and plays
// their host, deterministically for a given seed.
//
// What it models:
//  - The "broadcast-channel" route is a broadcast medium: a RouteSend with an
//    empty `to` reaches every other node, one with a `to` only that node,
//    each after a signal delay.
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
//  - stall(): a node's main thread is busy; its timer and incoming frames
//    wait, and then the timer runs before the frames.
//  - crash(): a node stops running; its peers either see its channels close
//    or, for a silent crash, only notice through their liveness timeouts.
//  - Local signaling reaches only nodes in the same "browser" (NodeSetup),
//    and none of a node whose local signaling is off.
//  - PeerJS servers (addServer): a model of the unmodified npm `peer` server
//    (node_modules/peer/dist/module.mjs). A node's RouteOpen (route "peerjs-server") opens a
//    WebSocket to the server its url names; the server registers the socket
//    by id and token (OPEN), refuses an id another token holds (ID-TAKEN,
//    then close), and silently moves an id to a new socket that brings the
//    same token (no OPEN; the old socket stays open, unused). It stamps
//    `src` on OFFER/ANSWER/CANDIDATE/LEAVE/EXPIRE and relays them to `dst`;
//    for an id not registered it queues them (LEAVE and EXPIRE are dropped),
//    hands the queue over when the id registers, and otherwise, checked every
//    cleanupIntervalMs, sends the sender EXPIRE once expireTimeoutMs have
//    passed. HEARTBEAT keeps a client; one silent for aliveTimeoutMs is
//    closed. RouteList is answered with the registered ids, as a JSON array.
//    A server can be killed (every socket closes) and restarted empty.
//    Not modelled: the server's own LEAVE when a send to a registered id
//    throws; as with `ws`, a send to a socket the client has lost is simply
//    lost (forgetSocket, a silent crash).
//    The host (this simulator) reports open, messages and close of its
//    current socket only: after RouteClose, or a new RouteOpen, the old
//    socket's events are not passed on, as a host that drops its handlers.
//  - Room passwords: a sealed node's host seals, unseals and proves with the
//    node's simulated password (NodeSetup). Sealing is a reversible encoding
//    tagged with the password, so another password cannot unseal it; a proof
//    is a hash of password, prover, verifier and both challenges.
//  - Compute: RunTask runs on the node's simulated worker (NodeSetup) and is
//    answered with handleTaskResult after the task's duration; CancelTask is
//    answered at once with an error, as a host that terminates the worker.
//    A unit with a CPU budget (RunTask.budgetMs) that would run longer is
//    stopped when the budget is spent and answered with an error, as the
//    JS worker pool does.
//  - Send queues: frames for a node that stopped reading (stopReading) wait
//    in the sender's host; past NetworkOptions.sendQueueLimit the host calls
//    handleSendOverflow, as the JS pool does.
//    With workerQueues, each of the node's workers runs its units in turn.
//  - The unreliable channel: SendData with `unreliable` reaches the far end's
//    handleData(..., unreliable=true) after its own delay (so messages
//    overtake each other when the delays vary), or is lost with probability
//    `unreliableLoss`; nothing is ever retransmitted.
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

#include <nlohmann/json.hpp>

#include "compute/builtin_tasks.h"
#include "kernel/node_kernel.h"
#include "signaling/signal_codec.h"

namespace pcsim {

using pc::Millis;

// The kernel's signaling routes (host/host_outputs.h).
inline constexpr const char* kBroadcastRoute = "broadcast-channel";
inline constexpr const char* kPeerServerRoute = "peerjs-server";

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

// Hands a kernel built outside a SimulatedNetwork the host randomness it
// needs before initialize(): bytes from a seeded generator, as a test wants.
void addTestEntropy(pc::NodeKernel& kernel, uint64_t seed = 1);

// A signal's envelope as a test forges it: sent at `now`, with a counter no
// other call returns, so replay protection takes it as new.
std::string signalText(pc::Signal s, pc::Millis now);

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
  // The responder's host reports its channel open this long after the
  // initiator's, and frames that reach it meanwhile are delivered first (a
  // browser may dispatch an answerer's first message before its open event).
  Millis responderOpenLag = 0;
  // The responder's frames sent before it has heard anything from the
  // dialer on that connection are lost, as Chromium was seen to lose an
  // answerer's message sent as soon as its channel opened.
  bool responderEarlyLoss = false;
  // The first this many handshakes fail at the dialer only, once the answer
  // is in, as a failed DTLS handshake does: the dialer's channel closes, and
  // the answering side hears nothing, its half left connecting (seen with a
  // node-datachannel dialer and a Chromium answerer).
  size_t dialerOnlyHandshakeFailures = 0;
  // The unreliable channel: each message gets its own delay, or is lost.
  Millis unreliableDelayMin = 10, unreliableDelayMax = 10;
  double unreliableLoss = 0;
  // The host's bound on what waits to be sent to one peer (the JS pool's
  // 64 MiB): past it the host reports handleSendOverflow.
  size_t sendQueueLimit = size_t{64} << 20;
};

// One simulated PeerJS server; the names in comments are the npm `peer`
// server's options.
struct ServerOptions {
  std::string host = "peers.test";
  uint32_t port = 9000;
  std::string path = "/peerjs";        // path; the WebSocket is at <path>/peerjs
  std::string key = "peerjs";          // key
  bool allowDiscovery = true;          // allow_discovery: GET <path>/<key>/peers
  Millis expireTimeoutMs = 5000;       // expire_timeout
  Millis cleanupIntervalMs = 1000;     // cleanup_out_msgs: how often queues are checked
  Millis aliveTimeoutMs = 90'000;      // alive_timeout
  Millis aliveCheckIntervalMs = 300;   // how often clients are checked for it
  size_t concurrentLimit = 5000;       // concurrent_limit
  Millis delay = 15;                   // one way between a host and the server
};

// What a server did, for assertions.
struct ServerStats {
  uint64_t opens = 0;         // OPEN sent: a new registration
  uint64_t replacements = 0;  // same id and token on a new socket: no OPEN
  uint64_t idTaken = 0;
  uint64_t errors = 0;        // ERROR sent
  uint64_t relayed = 0;       // messages passed to a registered dst
  uint64_t queued = 0;
  uint64_t expires = 0;       // EXPIRE sent (or dropped, if the sender had gone)
  uint64_t listings = 0;      // listings answered with ids
  uint64_t aliveClosed = 0;   // clients closed for want of heartbeats
  std::map<std::string, uint64_t> heartbeats;  // by client id
};

// How a node's host behaves.
struct NodeSetup {
  // Local signaling (BroadcastChannel) reaches the nodes of the same browser.
  std::string browser;
  bool localSignaling = true;  // false: this node sends and hears no local signals
  // A sealed node's room password; proofs use proofPassword when set (a host
  // whose key for the data channel is wrong).
  std::optional<std::string> password;
  std::optional<std::string> proofPassword;
  Millis cryptoDelay = 1;  // the host answers seal, unseal and proof requests after this
  // Compute: the host's worker runs a RunTask with runTask (built-in tasks
  // by default) and answers after taskDuration (taskMs when not set). A
  // hung worker never answers. A CancelTask is answered at once, as a host
  // that terminates the worker.
  Millis taskMs = 100;
  std::function<Millis(const std::string& task, const std::string& input)> taskDuration;
  std::function<pc::TaskOutcome(const std::string& task, const std::string& input)> runTask;
  bool hangTasks = false;
  // How the host's workers take RunTasks. Off: each runs at once, however
  // many there are (the kernel never hands more than it has workers). On:
  // as Web Workers do, the node's computeWorkers workers each run their
  // units one at a time, in order; a RunTask goes to the worker with the
  // fewest, and cancelling the unit a worker is running terminates it, its
  // queued units going on in a fresh worker. A RunTask reaches its worker,
  // and a result the kernel, workerHopMs after it was sent (a postMessage
  // between the page and a worker).
  bool workerQueues = false;
  Millis workerHopMs = 0;
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
  pc::NodeKernel& addNode(const std::string& id, pc::NodeConfig config = {}, NodeSetup setup = {});
  void start(const std::string& id);
  void stop(const std::string& id);
  void crash(const std::string& id, CrashMode mode);
  // A page reload: the node's page goes as in crash(id, mode) and a new page
  // runs a fresh kernel under the same id, initialized with `config` (its
  // own token, say) and not yet started. A zero replicaId becomes a new one.
  pc::NodeKernel& reload(const std::string& id, pc::NodeConfig config = {}, NodeSetup setup = {},
                         CrashMode mode = CrashMode::ClosesChannels);
  // From now on the node gets handleTimeout at most once per `period`.
  void throttleTimers(const std::string& id, Millis period);
  // The node's main thread is busy for `duration` (a long task in its page):
  // its timer and the frames that reach it meanwhile wait, and when it is
  // free the timer runs first, then the waiting frames in order (the worst
  // order a browser may pick). Signals and task results are not held.
  void stall(const std::string& id, Millis duration);
  // The node stops reading its channels (a page that stops taking data, or
  // a peer that does so on purpose): frames for it wait in their senders'
  // hosts, counted against sendQueueLimit, until it reads again.
  void stopReading(const std::string& id);
  void resumeReading(const std::string& id);
  // Bytes waiting in `from`'s host for `to`.
  size_t queuedFor(const std::string& from, const std::string& to) const;

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
  // The node's outputs of type T on one signaling route (RouteOpen, RouteSend, ...).
  template <typename T>
  std::vector<std::pair<Millis, T>> routeOutputs(const std::string& id, std::string_view route) const {
    std::vector<std::pair<Millis, T>> out;
    for (auto& [at, o] : outputs<T>(id))
      if (o.route == route) out.emplace_back(at, std::move(o));
    return out;
  }

  // Closes the channel between a and b at both ends (say ICE failed): each
  // end sees handleChannelClosed after closeDelay.
  void breakConnection(const std::string& a, const std::string& b);

  // ---- PeerJS servers ----
  // Adds a server, running; returns its number.
  size_t addServer(ServerOptions options = {});
  // A PeerServerConfig that points at server `s`, with this token.
  pc::PeerServerConfig serverConfig(size_t s, const std::string& token) const;
  // Kills the server: every socket closes and it forgets every id and queue.
  // Connections to it fail until restartServer().
  void killServer(size_t s);
  void restartServer(size_t s);
  bool serverUp(size_t s) const;
  // Registered ids, in registration order (the order of its listing).
  std::vector<std::string> registeredIds(size_t s) const;
  size_t queuedMessages(size_t s) const;
  const ServerStats& serverStats(size_t s) const;
  // The node's socket dies on the node's side only: the node sees it close
  // (handleServerClosed) while the server keeps its id on the dead socket,
  // and whatever it relays there is lost.
  void forgetSocket(const std::string& node);
  // Hands `text` to the node as if its server had sent it; false when the
  // node has no open socket.
  bool injectServerMessage(const std::string& node, const std::string& text);
  // Server messages the node's kernel was given, with their times.
  const std::vector<std::pair<Millis, std::string>>& serverMessages(const std::string& node) const;
  // ServerSends the host could not make: on no socket, or one not open (a
  // browser's WebSocket.send would throw). A kernel should never ask for one.
  uint64_t hostErrors() const { return hostErrors_; }
  // Raw clients: sockets the test drives itself, registered on server `s`
  // at once (no delay). An empty key means the server's.
  uint64_t rawConnect(size_t s, const std::string& id, const std::string& token, const std::string& key = "");
  void rawSend(uint64_t socket, const std::string& text);  // arrives at the server now
  void rawClose(uint64_t socket);                          // the server sees it close now
  const std::vector<std::string>& rawReceived(uint64_t socket) const;

  // The unreliable channel: messages handed to it, delivered, and lost.
  uint64_t unreliableSent() const { return unreliableSent_; }
  uint64_t unreliableDelivered() const { return unreliableDelivered_; }
  uint64_t unreliableLost() const { return unreliableLost_; }

  // Connections whose channel is open at both ends.
  size_t openConnections() const;
  bool channelOpen(const std::string& a, const std::string& b) const;
  // True when every pair of live started nodes is Connected both ways.
  bool fullMesh() const;
  // True when every two of these nodes are Connected both ways.
  bool meshAmong(const std::vector<std::string>& ids) const;
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
    bool heard = false;  // a frame has arrived on this connection
  };
  struct Node;
  struct Server;
  struct Socket;
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

  // The host's CSPRNG: bytes from the simulation's seeded generator, so a
  // run stays reproducible while every node gets different bytes.
  void supplyEntropy(pc::NodeKernel& kernel, size_t bytes);
  Node& node(const std::string& id);
  const Node& node(const std::string& id) const;
  Node* live(const std::string& id);  // null when unknown or crashed
  void schedule(Millis at, std::function<void()> run);
  void pump(const std::string& id);
  void handle(Node& n, const pc::Output& o);
  void sendData(Node& n, const pc::SendData& d);
  void openChannel(const std::string& initiator, const std::string& responder, uint64_t conn);
  void closeFarEnd(const std::string& from, const std::string& to, uint64_t conn);
  void startWorker(Node& n, size_t w);
  void deliverFrame(const std::string& from, const std::string& to, uint64_t conn,
                    std::shared_ptr<const std::vector<uint8_t>> payload);
  std::optional<Millis> wakeTime(const Node& n) const;
  bool step(Millis limit);

  // The host's side of the server link.
  void hostConnect(Node& n, const std::string& url);
  void hostClose(Node& n);
  void hostSend(Node& n, const std::string& text);
  void hostList(Node& n, const std::string& url);
  void hostCrypto(Node& n, const pc::Output& o);
  void hostRunTask(Node& n, const pc::RunTask& run);
  void hostCancelTask(Node& n, uint64_t exec);
  void notifySocketClosed(uint64_t socket, Millis at);
  // The server's side.
  Server& server(size_t s);
  const Server& server(size_t s) const;
  void scheduleServerTimers(size_t s);
  void serverEvery(size_t s, uint64_t epoch, Millis period, void (SimulatedNetwork::*fn)(size_t));
  void serverAccept(size_t s, uint64_t socket, const std::string& key, const std::string& id, const std::string& token);
  void serverReceive(uint64_t socket, const std::string& text);
  void serverTransmit(size_t s, const nlohmann::ordered_json& message);
  void serverSendTo(uint64_t socket, const std::string& text);
  void serverCloses(uint64_t socket);
  void serverSocketGone(uint64_t socket);
  void serverPrune(size_t s);
  void serverCheckAlive(size_t s);

  NetworkOptions options_;
  Rng rng_;
  Millis now_;
  uint64_t nextSeq_ = 0;
  uint64_t nextConn_ = 1;
  uint64_t oversizeFrames_ = 0;
  size_t handshakesFailed_ = 0;
  uint64_t framesDelivered_ = 0;
  uint64_t nextSocket_ = 1;
  uint64_t nextReplica_ = 1000;  // for reloaded pages
  uint64_t hostErrors_ = 0;
  uint64_t unreliableSent_ = 0;
  uint64_t unreliableDelivered_ = 0;
  uint64_t unreliableLost_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::map<uint64_t, std::unique_ptr<Socket>> sockets_;
  std::priority_queue<Event, std::vector<Event>, Later> events_;
};

}  // namespace pcsim
