#include "support/simulated_network.h"
#include "support/peer_view.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <deque>
#include <limits>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace pcsim {

// ---- Rng -------------------------------------------------------------------------

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rng::below(uint64_t n) { return next() % n; }

Millis Rng::between(Millis lo, Millis hi) {
  if (hi <= lo) return lo;
  return lo + static_cast<Millis>(below(static_cast<uint64_t>(hi - lo) + 1));
}

bool Rng::chance(double p) { return static_cast<double>(next() >> 11) / 9007199254740992.0 < p; }

void addTestEntropy(pc::NodeKernel& kernel, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint8_t> bytes(1024);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng.next());
  kernel.addEntropy(bytes.data(), bytes.size());
}

std::string signalText(pc::Signal s, pc::Millis now) {
  static uint64_t counter = uint64_t{1} << 40;  // far from any node's own counters
  s.sentAt = now > 0 ? static_cast<uint64_t>(now) : 0;
  s.counter = counter++;
  return pc::encodeSignal(s);
}

std::map<std::string, std::string> contents(const pc::ReplicatedMap& map) {
  std::map<std::string, std::string> out;
  map.forEach([&](const std::string& key, const std::string& json) { out.emplace(key, json); });
  return out;
}

// ---- nodes -----------------------------------------------------------------------

struct SimulatedNetwork::Node {
  struct Link {  // one direction of one connection, from this node
    uint64_t frames = 0;
    Millis lastDelivery = 0;
  };

  std::string id;
  NodeSetup setup;
  std::unique_ptr<pc::NodeKernel> kernel;
  uint64_t socket = 0;  // the host's current WebSocket to a server; 0: none
  std::vector<std::pair<Millis, std::string>> serverInbox;
  std::map<std::string, Endpoint> endpoints;  // by peer id
  std::map<uint64_t, Link> links;             // by connection number
  std::vector<Logged> log;
  bool crashed = false;
  uint64_t page = 0;  // bumped by reload(): answers meant for an old page are dropped
  Millis timerPeriod = 0;  // 0: not throttled
  Millis stalledUntil = 0;  // its main thread is busy until then
  std::optional<Millis> lastTimerAt;
  uint64_t timerCalls = 0;
  int sameTimeTimerCalls = 0;
  std::set<uint64_t> runningTasks;  // execs the worker has not answered yet
  struct QueuedUnit {
    uint64_t exec;
    Millis took;
    pc::TaskOutcome outcome;
    double budgetMs = 0;
  };
  bool reading = true;
  // Frames waiting in this node's host for a peer that is not reading.
  struct Backlog {
    std::deque<std::pair<uint64_t, std::shared_ptr<const std::vector<uint8_t>>>> frames;  // conn, bytes
    size_t bytes = 0;
    bool overflowed = false;
  };
  std::map<std::string, Backlog> backlog;  // by peer id
  struct Worker {  // with setup.workerQueues
    std::deque<QueuedUnit> units;  // the front one is running
    size_t arriving = 0;           // sent by the page, not yet in the queue
    uint64_t incarnation = 0;      // bumped when it is terminated
  };
  std::vector<Worker> workers;
};

// ---- servers ---------------------------------------------------------------------

// One WebSocket between a host (or a raw client) and a server.
struct SimulatedNetwork::Socket {
  std::string node;             // empty: a raw client the test drives
  size_t server = SIZE_MAX;     // SIZE_MAX: never reached a server
  uint64_t epoch = 0;           // of the server run it reached
  bool clientOpen = false;      // the host saw it open and has not closed it
  bool serverOpen = false;      // the server holds it open
  std::string client;           // the id it is configured for on the server
  Millis lastToClient = 0;      // deliveries stay in order per direction
  Millis lastToServer = 0;
  std::vector<std::string> received;  // raw clients: what the server sent
};

struct SimulatedNetwork::Server {
  struct Client {  // the server's Client: id, token, socket, last heartbeat
    std::string id, token;
    uint64_t socket = 0;
    Millis lastPing = 0;
  };
  struct Queue {  // the server's MessageQueue for one unregistered dst
    std::string dst;
    Millis lastReadAt = 0;
    std::vector<nlohmann::ordered_json> messages;
  };

  ServerOptions options;
  bool up = true;
  uint64_t epoch = 1;
  std::vector<Client> clients;  // in registration order, like the server's Map
  std::vector<Queue> queues;
  ServerStats stats;

  Client* find(const std::string& id) {
    for (Client& c : clients)
      if (c.id == id) return &c;
    return nullptr;
  }
  void removeClient(const std::string& id) {
    clients.erase(std::remove_if(clients.begin(), clients.end(), [&](const Client& c) { return c.id == id; }),
                  clients.end());
  }
  void clearQueue(const std::string& dst) {
    queues.erase(std::remove_if(queues.begin(), queues.end(), [&](const Queue& q) { return q.dst == dst; }),
                 queues.end());
  }
};

namespace {
// A frame held by a stalled node is delivered this long after the timer that
// runs when the stall ends (events at one time run before timers).
constexpr Millis kAfterTimer = 0.001;
std::string sdp(const char* kind, uint64_t conn) {
  return nlohmann::json{{"sdp", kind}, {"conn", conn}}.dump();
}

std::string percentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';  // as URLSearchParams reads it
    } else {
      out += s[i];
    }
  }
  return out;
}

// Collapses repeated slashes and drops a trailing one, as routers match.
std::string normalizePath(std::string p) {
  std::string out;
  for (char c : p)
    if (c != '/' || out.empty() || out.back() != '/') out += c;
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "/" : out;
}

// ---- the simulated host cryptography ----
std::string hexOf(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

// A deterministic stand-in for a key or a MAC: 16 hex digits.
std::string digest(const std::string& text) {
  uint64_t h = std::hash<std::string>{}(text);
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes += static_cast<char>((h >> (8 * i)) & 0xFF);
  return hexOf(bytes);
}

std::string sealWith(const std::string& password, const std::string& text) {
  return "sealed1." + digest("key|" + password) + "." + hexOf(text);
}

std::optional<std::string> unsealWith(const std::string& password, const std::string& sealed) {
  const std::string prefix = "sealed1." + digest("key|" + password) + ".";
  if (sealed.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  return unhex(std::string_view(sealed).substr(prefix.size()));
}

// What `prover` sends `verifier` to show it knows the password.
std::string proofOf(const std::string& password, const std::string& prover, const std::string& verifier,
                    const std::string& verifierChallenge, const std::string& proverChallenge) {
  return digest("proof|" + password + "|" + prover + "|" + verifier + "|" + hexOf(verifierChallenge) + "|" +
                hexOf(proverChallenge));
}
}  // namespace

SimulatedNetwork::SimulatedNetwork(NetworkOptions options)
    : options_(options), rng_(options.seed), now_(options.startTime) {}

SimulatedNetwork::~SimulatedNetwork() = default;

pc::NodeKernel& SimulatedNetwork::addNode(const std::string& id, pc::NodeConfig config, NodeSetup setup) {
  for (const auto& n : nodes_)
    if (n->id == id) throw std::invalid_argument("node " + id + " already exists");
  if (config.nodeId.empty()) config.nodeId = id;
  if (config.nodeId != id) throw std::invalid_argument("config.nodeId must equal the node's id");
  if (config.replicaId == 0) config.replicaId = nodes_.size() + 1;
  if (config.sealed && !setup.password) throw std::invalid_argument("sealed node " + id + " needs a password");
  auto n = std::make_unique<Node>();
  n->id = id;
  n->setup = std::move(setup);
  n->kernel = std::make_unique<pc::NodeKernel>();
  supplyEntropy(*n->kernel, 1024 + pc::NodeKernel::kEntropyForInitialize);
  pc::Result r = n->kernel->initialize(config, now_);
  if (!r.ok) throw std::invalid_argument("initialize " + id + ": " + r.error);
  nodes_.push_back(std::move(n));
  return *nodes_.back()->kernel;
}

SimulatedNetwork::Node& SimulatedNetwork::node(const std::string& id) {
  for (auto& n : nodes_)
    if (n->id == id) return *n;
  throw std::invalid_argument("no node " + id);
}

const SimulatedNetwork::Node& SimulatedNetwork::node(const std::string& id) const {
  for (const auto& n : nodes_)
    if (n->id == id) return *n;
  throw std::invalid_argument("no node " + id);
}

SimulatedNetwork::Node* SimulatedNetwork::live(const std::string& id) {
  for (auto& n : nodes_)
    if (n->id == id) return n->crashed ? nullptr : n.get();
  return nullptr;
}

pc::NodeKernel& SimulatedNetwork::kernel(const std::string& id) { return *node(id).kernel; }
const std::vector<Logged>& SimulatedNetwork::log(const std::string& id) const { return node(id).log; }
uint64_t SimulatedNetwork::timerCalls(const std::string& id) const { return node(id).timerCalls; }

std::vector<std::string> SimulatedNetwork::ids() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(n->id);
  return out;
}

// ---- inputs ----------------------------------------------------------------------

void SimulatedNetwork::start(const std::string& id) {
  input(id, [](pc::NodeKernel& k, Millis now) { return k.start(now); });
}

void SimulatedNetwork::stop(const std::string& id) {
  input(id, [](pc::NodeKernel& k, Millis now) { return k.stop(now); });
}

pc::Result SimulatedNetwork::write(const std::string& id, const std::string& key, const std::string& json) {
  return input(id, [&](pc::NodeKernel& k, Millis now) { return k.write(key, json, now); });
}

pc::Result SimulatedNetwork::remove(const std::string& id, const std::string& key) {
  return input(id, [&](pc::NodeKernel& k, Millis now) { return k.remove(key, now); });
}

pc::Result SimulatedNetwork::commit(const std::string& id, const std::vector<pc::Operation>& ops) {
  return input(id, [&](pc::NodeKernel& k, Millis now) { return k.commit(ops, now); });
}

void SimulatedNetwork::crash(const std::string& id, CrashMode mode) {
  Node& n = node(id);
  if (n.crashed) return;
  n.crashed = true;
  if (mode == CrashMode::ClosesChannels) {
    for (const auto& [peer, ep] : n.endpoints) {
      if (ep.conn == 0) continue;
      schedule(now_ + options_.closeDelay, [this, id, peer = peer, conn = ep.conn] { closeFarEnd(id, peer, conn); });
    }
  }
  n.endpoints.clear();
  // A closed tab's WebSocket closes; a silent crash leaves it half-open, still
  // registered on the server.
  if (n.socket) {
    if (mode == CrashMode::ClosesChannels) hostClose(n);
    else n.socket = 0;
  }
}

pc::NodeKernel& SimulatedNetwork::reload(const std::string& id, pc::NodeConfig config, NodeSetup setup,
                                         CrashMode mode) {
  crash(id, mode);
  Node& n = node(id);
  if (config.nodeId.empty()) config.nodeId = id;
  if (config.nodeId != id) throw std::invalid_argument("config.nodeId must equal the node's id");
  if (config.replicaId == 0) config.replicaId = nextReplica_++;
  if (config.sealed && !setup.password) throw std::invalid_argument("sealed node " + id + " needs a password");
  auto kernel = std::make_unique<pc::NodeKernel>();
  supplyEntropy(*kernel, 1024 + pc::NodeKernel::kEntropyForInitialize);
  pc::Result r = kernel->initialize(config, now_);
  if (!r.ok) throw std::invalid_argument("initialize " + id + ": " + r.error);
  n.kernel = std::move(kernel);
  n.setup = std::move(setup);
  n.crashed = false;
  ++n.page;
  n.endpoints.clear();
  n.links.clear();
  n.runningTasks.clear();
  n.workers.clear();
  n.socket = 0;
  n.timerPeriod = 0;
  n.lastTimerAt.reset();
  return *n.kernel;
}

void SimulatedNetwork::breakConnection(const std::string& a, const std::string& b) {
  Node& x = node(a);
  auto it = x.endpoints.find(b);
  if (it == x.endpoints.end() || it->second.conn == 0) return;
  const uint64_t conn = it->second.conn;
  schedule(now_ + options_.closeDelay, [this, a, b, conn] { closeFarEnd(a, b, conn); });
  schedule(now_ + options_.closeDelay, [this, a, b, conn] { closeFarEnd(b, a, conn); });
}

void SimulatedNetwork::stopReading(const std::string& id) { node(id).reading = false; }

void SimulatedNetwork::resumeReading(const std::string& id) {
  node(id).reading = true;
  for (auto& other : nodes_) {
    auto it = other->backlog.find(id);
    if (it == other->backlog.end()) continue;
    Millis at = now_;
    for (auto& [conn, payload] : it->second.frames)
      schedule(at += 0.001, [this, from = other->id, to = id, conn = conn, payload = payload] { deliverFrame(from, to, conn, payload); });
    other->backlog.erase(it);
  }
}

size_t SimulatedNetwork::queuedFor(const std::string& from, const std::string& to) const {
  const Node& n = node(from);
  auto it = n.backlog.find(to);
  return it == n.backlog.end() ? 0 : it->second.bytes;
}

void SimulatedNetwork::throttleTimers(const std::string& id, Millis period) {
  Node& n = node(id);
  n.timerPeriod = period;
  n.lastTimerAt = now_;
}

void SimulatedNetwork::stall(const std::string& id, Millis duration) {
  Node& n = node(id);
  n.stalledUntil = std::max(n.stalledUntil, now_ + duration);
}

// ---- outputs ---------------------------------------------------------------------

void SimulatedNetwork::schedule(Millis at, std::function<void()> run) {
  events_.push(Event{at, nextSeq_++, std::move(run)});
}

void SimulatedNetwork::pump(const std::string& id) {
  Node& n = node(id);
  while (std::optional<pc::Output> o = n.kernel->pollOutput()) {
    n.log.push_back({now_, *o});
    if (onOutput) onOutput(id, *o);
    if (!n.crashed) handle(n, *o);
  }
}

void SimulatedNetwork::supplyEntropy(pc::NodeKernel& kernel, size_t bytes) {
  std::vector<uint8_t> random(bytes);
  for (auto& b : random) b = static_cast<uint8_t>(rng_.next());
  kernel.addEntropy(random.data(), random.size());
}

void SimulatedNetwork::handle(Node& n, const pc::Output& o) {
  const std::string from = n.id;
  if (const auto* wanted = std::get_if<pc::EntropyWanted>(&o)) {
    // As a browser's crypto.getRandomValues, at once.
    return supplyEntropy(*n.kernel, wanted->bytes);
  }

  if (const auto* routeSend = std::get_if<pc::RouteSend>(&o); routeSend && routeSend->route == kPeerServerRoute) {
    hostSend(n, routeSend->text);
  } else if (const auto* s = routeSend) {  // the BroadcastChannel
    if (!n.setup.localSignaling) return;
    for (const auto& m : nodes_) {
      if (m.get() == &n || m->crashed || (!s->to.empty() && s->to != m->id)) continue;
      if (!m->setup.localSignaling || m->setup.browser != n.setup.browser) continue;
      Millis at = now_ + rng_.between(options_.signalDelayMin, options_.signalDelayMax);
      schedule(at, [this, to = m->id, text = s->text] {
        if (Node* r = live(to)) {
          r->kernel->handleRouteMessage(kBroadcastRoute, text, now_);
          pump(to);
        }
      });
    }
  } else if (const auto* open = std::get_if<pc::OpenConnection>(&o)) {
    // A new connection to a peer replaces whatever endpoint was there.
    Endpoint ep;
    ep.initiator = open->initiator;
    if (open->initiator) ep.conn = nextConn_++;
    n.endpoints[open->peerId] = ep;
    if (open->initiator) {
      schedule(now_ + options_.rtcDelay, [this, from, peer = open->peerId, conn = ep.conn] {
        Node* a = live(from);
        if (!a) return;
        auto it = a->endpoints.find(peer);
        if (it == a->endpoints.end() || it->second.conn != conn) return;
        a->kernel->handleLocalRtcSignal(peer, sdp("offer", conn), now_);
        pump(from);
      });
    }
  } else if (const auto* rtc = std::get_if<pc::DeliverRtcSignal>(&o)) {
    nlohmann::json j = nlohmann::json::parse(rtc->data, nullptr, false);
    if (!j.is_object()) return;
    auto kind = j.find("sdp");
    auto connField = j.find("conn");
    if (kind == j.end() || !kind->is_string() || connField == j.end() || !connField->is_number_unsigned()) return;
    uint64_t conn = connField->get<uint64_t>();
    auto it = n.endpoints.find(rtc->peerId);
    if (it == n.endpoints.end()) return;
    Endpoint& ep = it->second;
    if (*kind == "offer" && !ep.initiator) {
      ep.conn = conn;
      ep.open = false;
      schedule(now_ + options_.rtcDelay, [this, from, peer = rtc->peerId, conn] {
        Node* b = live(from);
        if (!b) return;
        auto e = b->endpoints.find(peer);
        if (e == b->endpoints.end() || e->second.conn != conn) return;
        b->kernel->handleLocalRtcSignal(peer, sdp("answer", conn), now_);
        pump(from);
      });
    } else if (*kind == "answer" && ep.initiator && ep.conn == conn) {
      if (handshakesFailed_ < options_.dialerOnlyHandshakeFailures) {
        ++handshakesFailed_;
        // The dialer's own end closes as a far end's would, and the
        // answerer's end is never told.
        schedule(now_ + options_.rtcDelay, [this, from, peer = rtc->peerId, conn] { closeFarEnd(peer, from, conn); });
        return;
      }
      schedule(now_ + options_.rtcDelay, [this, from, peer = rtc->peerId, conn] { openChannel(from, peer, conn); });
    }
  } else if (const auto* close = std::get_if<pc::CloseConnection>(&o)) {
    auto it = n.endpoints.find(close->peerId);
    if (it == n.endpoints.end()) return;
    uint64_t conn = it->second.conn;
    n.endpoints.erase(it);
    n.backlog.erase(close->peerId);  // a closed connection's queue goes with it
    if (conn == 0) return;
    schedule(now_ + options_.closeDelay, [this, from, peer = close->peerId, conn] { closeFarEnd(from, peer, conn); });
  } else if (const auto* data = std::get_if<pc::SendData>(&o)) {
    sendData(n, *data);
  } else if (const auto* connect = std::get_if<pc::RouteOpen>(&o)) {
    // The BroadcastChannel opens as the host creates it; only the server's socket is modelled.
    if (connect->route == kPeerServerRoute) hostConnect(n, connect->url);
  } else if (const auto* close = std::get_if<pc::RouteClose>(&o)) {
    if (close->route == kPeerServerRoute) hostClose(n);
  } else if (const auto* list = std::get_if<pc::RouteList>(&o)) {
    hostList(n, list->url);
  } else if (std::holds_alternative<pc::SealSignal>(o) || std::holds_alternative<pc::UnsealSignal>(o) ||
             std::holds_alternative<pc::AuthenticatePeer>(o)) {
    hostCrypto(n, o);
  } else if (const auto* run = std::get_if<pc::RunTask>(&o)) {
    hostRunTask(n, *run);
  } else if (const auto* cancel = std::get_if<pc::CancelTask>(&o)) {
    hostCancelTask(n, cancel->exec);
  }
  // PeerConnected, PeerDisconnected, StateChanged and MessageReceived are
  // events for the application: they are only logged.
}

namespace {
// What the host answers for a unit stopped at its CPU budget.
pc::TaskOutcome overBudget(const std::string& task, double budgetMs) {
  return {false, task + ": the unit ran past its CPU budget of " + std::to_string(static_cast<long long>(budgetMs)) +
                     " ms and was stopped (maxUnitMs)"};
}
}  // namespace

void SimulatedNetwork::hostRunTask(Node& n, const pc::RunTask& run) {
  n.runningTasks.insert(run.exec);
  Millis took = n.setup.taskDuration ? n.setup.taskDuration(run.task, run.input) : n.setup.taskMs;
  pc::TaskOutcome outcome =
      n.setup.runTask ? n.setup.runTask(run.task, run.input) : pc::runBuiltinTask(run.task, run.input);
  if (run.budgetMs > 0 && (took > run.budgetMs || n.setup.hangTasks)) {
    took = run.budgetMs;
    outcome = overBudget(run.task, run.budgetMs);
  }
  if (n.setup.workerQueues) {
    if (n.workers.empty()) n.workers.resize(std::max<uint32_t>(1, n.kernel->config().computeWorkers));
    // The page picks the worker now; the unit reaches its queue a hop later.
    auto fewest = std::min_element(n.workers.begin(), n.workers.end(), [](const Node::Worker& a, const Node::Worker& b) {
      return a.units.size() + a.arriving < b.units.size() + b.arriving;
    });
    const size_t w = static_cast<size_t>(fewest - n.workers.begin());
    ++fewest->arriving;
    schedule(now_ + n.setup.workerHopMs, [this, id = n.id, page = n.page, w, unit = Node::QueuedUnit{run.exec, took, std::move(outcome), run.budgetMs}] {
      Node* m = live(id);
      if (!m || m->page != page) return;
      Node::Worker& worker = m->workers[w];
      --worker.arriving;
      if (!m->runningTasks.count(unit.exec)) return;  // cancelled on its way
      worker.units.push_back(unit);
      if (unit.budgetMs > 0 && (unit.took > unit.budgetMs || m->setup.hangTasks))
        worker.units.back().outcome = overBudget("unit", unit.budgetMs);
      if (worker.units.size() == 1) startWorker(*m, w);
    });
    return;
  }
  if (n.setup.hangTasks && !(run.budgetMs > 0)) return;
  schedule(now_ + took, [this, id = n.id, page = n.page, exec = run.exec, took, outcome = std::move(outcome)] {
    Node* m = live(id);
    if (!m || m->page != page || !m->runningTasks.erase(exec)) return;
    m->kernel->handleTaskResult(exec, outcome.ok, outcome.bytes, took, now_);
    pump(id);
  });
}

// Starts worker w's front unit; when it ends, the worker answers and starts
// its next one.
void SimulatedNetwork::startWorker(Node& n, size_t w) {
  Node::Worker& worker = n.workers[w];
  if (worker.units.empty()) return;
  const Node::QueuedUnit& unit = worker.units.front();
  // A unit over its budget (hung ones included) is stopped when it is spent:
  // the pool terminates the worker, and its queue goes on in a fresh one.
  const bool stopped = unit.budgetMs > 0 && (unit.took > unit.budgetMs || n.setup.hangTasks);
  if (n.setup.hangTasks && !stopped) return;
  schedule(now_ + (stopped ? unit.budgetMs : unit.took), [this, id = n.id, page = n.page, w, stopped,
                                                          incarnation = worker.incarnation, exec = unit.exec] {
    Node* m = live(id);
    if (!m || m->page != page) return;
    Node::Worker& worker = m->workers[w];
    if (worker.incarnation != incarnation || worker.units.empty() || worker.units.front().exec != exec) return;
    pc::TaskOutcome outcome = std::move(worker.units.front().outcome);
    const double ran = stopped ? worker.units.front().budgetMs : worker.units.front().took;
    worker.units.pop_front();
    if (stopped) ++worker.incarnation;
    startWorker(*m, w);
    schedule(now_ + m->setup.workerHopMs, [this, id, page, exec, ran, outcome = std::move(outcome)] {
      Node* m = live(id);
      if (!m || m->page != page || !m->runningTasks.erase(exec)) return;
      m->kernel->handleTaskResult(exec, outcome.ok, outcome.bytes, ran, now_);
      pump(id);
    });
  });
}

void SimulatedNetwork::hostCancelTask(Node& n, uint64_t exec) {
  if (!n.runningTasks.erase(exec)) return;
  for (size_t w = 0; w < n.workers.size(); ++w) {
    auto& units = n.workers[w].units;
    auto it = std::find_if(units.begin(), units.end(), [&](const Node::QueuedUnit& u) { return u.exec == exec; });
    if (it == units.end()) continue;
    const bool running = it == units.begin();
    units.erase(it);
    if (running) {  // terminated; a fresh worker takes its queue
      ++n.workers[w].incarnation;
      startWorker(n, w);
    }
    break;
  }
  // Answered on the next step, as a host's worker.terminate() would.
  schedule(now_, [this, id = n.id, page = n.page, exec] {
    Node* m = live(id);
    if (!m || m->page != page) return;
    m->kernel->handleTaskResult(exec, false, "cancelled", 0, now_);
    pump(id);
  });
}

void SimulatedNetwork::openChannel(const std::string& initiator, const std::string& responder, uint64_t conn) {
  Node* a = live(initiator);
  Node* b = live(responder);
  if (!a || !b) return;
  auto ia = a->endpoints.find(responder);
  auto ib = b->endpoints.find(initiator);
  if (ia == a->endpoints.end() || ib == b->endpoints.end() || ia->second.conn != conn || ib->second.conn != conn)
    return;
  ia->second.open = true;
  ib->second.open = true;
  a->kernel->handleChannelOpen(responder, now_);
  pump(initiator);
  auto reportOpen = [this, initiator, responder, conn] {
    Node* b = live(responder);
    if (!b) return;
    auto ib = b->endpoints.find(initiator);
    if (ib == b->endpoints.end() || ib->second.conn != conn) return;
    b->kernel->handleChannelOpen(initiator, now_);
    pump(responder);
  };
  if (options_.responderOpenLag > 0) schedule(now_ + options_.responderOpenLag, reportOpen);
  else reportOpen();
}

void SimulatedNetwork::closeFarEnd(const std::string& from, const std::string& to, uint64_t conn) {
  Node* b = live(to);
  if (!b) return;
  auto it = b->endpoints.find(from);
  if (it == b->endpoints.end() || it->second.conn != conn) return;
  b->endpoints.erase(it);
  b->backlog.erase(from);
  b->kernel->handleChannelClosed(from, now_);
  pump(to);
}

void SimulatedNetwork::sendData(Node& n, const pc::SendData& d) {
  auto it = n.endpoints.find(d.peerId);
  if (it == n.endpoints.end() || !it->second.open) return;  // no channel: the frame is lost
  if (options_.responderEarlyLoss && !it->second.initiator && !it->second.heard && !d.unreliable) return;
  if (d.bytes.size() > n.kernel->config().maxChannelMessageBytes) ++oversizeFrames_;
  if (onFrameSent) onFrameSent(n.id, d.peerId, d.bytes);

  const uint64_t conn = it->second.conn;
  if (d.unreliable) {
    // Its own channel: no order, no retransmission, and no part in the
    // reliable channel's ordering below.
    ++unreliableSent_;
    if (options_.unreliableLoss > 0 && rng_.chance(options_.unreliableLoss)) {
      ++unreliableLost_;
      return;
    }
    auto payload = std::make_shared<const std::vector<uint8_t>>(d.bytes);
    schedule(now_ + rng_.between(options_.unreliableDelayMin, options_.unreliableDelayMax),
             [this, from = n.id, to = d.peerId, conn, payload] {
               Node* b = live(to);
               if (!b) return;
               auto e = b->endpoints.find(from);
               if (e == b->endpoints.end() || e->second.conn != conn || !e->second.open) return;
               ++unreliableDelivered_;
               b->kernel->handleData(from, payload->data(), payload->size(), now_, true);
               pump(to);
             });
    return;
  }
  Node::Link& link = n.links[conn];
  const bool first = link.frames++ == 0;
  auto payload = std::make_shared<const std::vector<uint8_t>>(d.bytes);
  if (Node* receiver = live(d.peerId); receiver && !receiver->reading) {
    Node::Backlog& b = n.backlog[d.peerId];
    if (b.overflowed) return;
    if (b.bytes + payload->size() > options_.sendQueueLimit) {
      // As the JS pool: the send is dropped, and the kernel hears once.
      b.overflowed = true;
      schedule(now_, [this, from = n.id, to = d.peerId] {
        if (Node* s = live(from)) {
          s->kernel->handleSendOverflow(to, now_);
          pump(from);
        }
      });
      return;
    }
    b.bytes += payload->size();
    b.frames.emplace_back(conn, payload);
    return;
  }
  auto deliverAt = [&](Millis at) {
    schedule(at, [this, from = n.id, to = d.peerId, conn, payload] { deliverFrame(from, to, conn, payload); });
  };
  auto pickTime = [&] {
    Millis at = now_ + rng_.between(options_.dataDelayMin, options_.dataDelayMax);
    if (options_.orderedData) {
      at = std::max(at, link.lastDelivery);
      link.lastDelivery = at;
    } else if (first) {
      // The Hello goes first even on a reordering link: every later frame
      // is sent no earlier and delayed at least as long.
      at = now_ + options_.dataDelayMin;
    }
    return at;
  };

  deliverAt(pickTime());
  if (!first && options_.duplicateData > 0 && rng_.chance(options_.duplicateData)) deliverAt(pickTime());
}

// ---- the host's WebSocket and fetch -------------------------------------------------

namespace {
// scheme://host:port/path?query; false when it is not of that shape.
bool parseUrl(const std::string& text, std::string* scheme, std::string* host, uint32_t* port, std::string* path,
              std::map<std::string, std::string>* query) {
  size_t colon = text.find("://");
  if (colon == std::string::npos) return false;
  *scheme = text.substr(0, colon);
  std::string rest = text.substr(colon + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t portColon = authority.rfind(':');
  if (portColon == std::string::npos) return false;
  *host = authority.substr(0, portColon);
  std::string digits = authority.substr(portColon + 1);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  *port = static_cast<uint32_t>(std::stoul(digits));
  size_t q = target.find('?');
  *path = target.substr(0, q);
  query->clear();
  if (q != std::string::npos) {
    std::string params = target.substr(q + 1);
    size_t start = 0;
    while (start <= params.size()) {
      size_t amp = params.find('&', start);
      std::string pair = params.substr(start, amp == std::string::npos ? std::string::npos : amp - start);
      size_t eq = pair.find('=');
      if (!pair.empty())
        (*query)[percentDecode(pair.substr(0, eq))] = eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1));
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
  }
  return true;
}
}  // namespace

void SimulatedNetwork::hostConnect(Node& n, const std::string& url) {
  if (n.socket) hostClose(n);  // one socket at a time: the old one is closed
  const uint64_t id = nextSocket_++;
  auto socket = std::make_unique<Socket>();
  socket->node = n.id;
  sockets_[id] = std::move(socket);
  n.socket = id;

  std::string scheme, host, path;
  uint32_t port = 0;
  std::map<std::string, std::string> query;
  size_t target = SIZE_MAX;
  if (parseUrl(url, &scheme, &host, &port, &path, &query) && (scheme == "ws" || scheme == "wss")) {
    for (size_t s = 0; s < servers_.size(); ++s)
      if (servers_[s]->options.host == host && servers_[s]->options.port == port) target = s;
  }
  const Millis delay = target == SIZE_MAX ? 15 : servers_[target]->options.delay;
  schedule(now_ + delay, [this, id, target, path, query] {
    Socket& k = *sockets_.at(id);
    Node* n = live(k.node);
    if (!n || n->socket != id) return;  // the host gave up on it first
    if (target == SIZE_MAX || !servers_[target]->up ||
        normalizePath(path) != normalizePath(servers_[target]->options.path + "/peerjs")) {
      // Nothing listening, or not a WebSocket endpoint: the socket errors
      // and closes without ever opening.
      notifySocketClosed(id, now_);
      return;
    }
    Server& v = *servers_[target];
    k.server = target;
    k.epoch = v.epoch;
    k.serverOpen = true;
    // The host sees it open, and only then whatever the server sends.
    k.lastToClient = now_ + v.options.delay;
    schedule(k.lastToClient, [this, id] {
      Socket& k = *sockets_.at(id);
      Node* n = live(k.node);
      if (!n || n->socket != id) return;
      k.clientOpen = true;
      n->kernel->handleRouteOpen(kPeerServerRoute, now_);
      pump(n->id);
    });
    auto param = [&](const char* name) {
      auto it = query.find(name);
      return it == query.end() ? std::string() : it->second;
    };
    serverAccept(target, id, param("key"), param("id"), param("token"));
  });
}

void SimulatedNetwork::notifySocketClosed(uint64_t id, Millis at) {
  Socket& k = *sockets_.at(id);
  at = std::max(at, k.lastToClient);  // after whatever the server sent before
  k.lastToClient = at;
  schedule(at, [this, id] {
    Socket& k = *sockets_.at(id);
    k.clientOpen = false;
    Node* n = live(k.node);
    if (!n || n->socket != id) return;  // the host closed it itself: no event
    n->socket = 0;
    n->kernel->handleRouteClosed(kPeerServerRoute, now_);
    pump(n->id);
  });
}

void SimulatedNetwork::hostClose(Node& n) {
  const uint64_t id = n.socket;
  if (!id) return;
  n.socket = 0;
  Socket& k = *sockets_.at(id);
  k.clientOpen = false;
  if (k.server == SIZE_MAX) return;
  k.lastToServer = std::max(now_ + server(k.server).options.delay, k.lastToServer);
  schedule(k.lastToServer, [this, id] { serverSocketGone(id); });
}

void SimulatedNetwork::hostSend(Node& n, const std::string& text) {
  const uint64_t id = n.socket;
  if (!id || !sockets_.at(id)->clientOpen) {
    ++hostErrors_;  // WebSocket.send before open throws; after close it is lost
    return;
  }
  Socket& k = *sockets_.at(id);
  k.lastToServer = std::max(now_ + server(k.server).options.delay, k.lastToServer);
  schedule(k.lastToServer, [this, id, text] { serverReceive(id, text); });
}

void SimulatedNetwork::hostList(Node& n, const std::string& url) {
  std::string scheme, host, path;
  uint32_t port = 0;
  std::map<std::string, std::string> query;
  size_t target = SIZE_MAX;
  if (parseUrl(url, &scheme, &host, &port, &path, &query) && (scheme == "http" || scheme == "https")) {
    for (size_t s = 0; s < servers_.size(); ++s)
      if (servers_[s]->options.host == host && servers_[s]->options.port == port) target = s;
  }
  const Millis delay = target == SIZE_MAX ? 15 : servers_[target]->options.delay;
  auto answer = [this, id = n.id, page = n.page, delay](bool ok, std::string body) {
    schedule(now_ + delay, [this, id, page, ok, body] {
      if (Node* n = live(id); n && n->page == page) {
        n->kernel->handleRouteListing(kPeerServerRoute, ok, body, now_);
        pump(id);
      }
    });
  };
  schedule(now_ + delay, [this, target, path, answer] {
    // A fetch that fails (nothing listening) or a 401/404 both come back as
    // not ok: the host cannot tell the kernel more.
    if (target == SIZE_MAX || !servers_[target]->up) return answer(false, "");
    Server& v = *servers_[target];
    // GET <path>/:key/peers lists the ids whatever the key (the server's
    // router does not check it), and only with allow_discovery.
    std::string p = normalizePath(path);
    std::string mount = normalizePath(v.options.path);
    std::string prefix = mount == "/" ? "/" : mount + "/";
    const std::string suffix = "/peers";
    bool route = p.size() > prefix.size() + suffix.size() && p.compare(0, prefix.size(), prefix) == 0 &&
                 p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0 &&
                 p.substr(prefix.size(), p.size() - prefix.size() - suffix.size()).find('/') == std::string::npos;
    if (!route || !v.options.allowDiscovery) return answer(false, "");
    nlohmann::json ids = nlohmann::json::array();
    for (const auto& c : v.clients) ids.push_back(c.id);
    ++v.stats.listings;
    answer(true, ids.dump());
  });
}

void SimulatedNetwork::hostCrypto(Node& n, const pc::Output& o) {
  const NodeSetup& setup = n.setup;
  const std::string password = setup.password.value_or("");
  const std::string proving = setup.proofPassword.value_or(password);
  std::function<void(pc::NodeKernel&)> answer;
  if (const auto* seal = std::get_if<pc::SealSignal>(&o)) {
    answer = [ticket = seal->ticket, text = sealWith(password, seal->text), this](pc::NodeKernel& k) {
      k.handleSealed(ticket, text, now_);
    };
  } else if (const auto* unseal = std::get_if<pc::UnsealSignal>(&o)) {
    std::optional<std::string> text = unsealWith(password, unseal->sealed);
    answer = [ticket = unseal->ticket, text, this](pc::NodeKernel& k) {
      k.handleUnsealed(ticket, text.has_value(), text.value_or(""), now_);
    };
  } else if (const auto* auth = std::get_if<pc::AuthenticatePeer>(&o)) {
    std::string proof = proofOf(proving, n.id, auth->peerId, auth->theirChallenge, auth->ourChallenge);
    std::string expected = proofOf(proving, auth->peerId, n.id, auth->ourChallenge, auth->theirChallenge);
    answer = [ticket = auth->ticket, proof, expected, this](pc::NodeKernel& k) {
      k.handleAuthProofs(ticket, proof, expected, now_);
    };
  }
  // WebCrypto answers asynchronously, in order.
  schedule(now_ + setup.cryptoDelay, [this, id = n.id, page = n.page, answer] {
    if (Node* n = live(id); n && n->page == page) {
      answer(*n->kernel);
      pump(id);
    }
  });
}

// ---- the PeerJS server ------------------------------------------------------------------

SimulatedNetwork::Server& SimulatedNetwork::server(size_t s) {
  if (s >= servers_.size()) throw std::invalid_argument("no server " + std::to_string(s));
  return *servers_[s];
}

const SimulatedNetwork::Server& SimulatedNetwork::server(size_t s) const {
  if (s >= servers_.size()) throw std::invalid_argument("no server " + std::to_string(s));
  return *servers_[s];
}

size_t SimulatedNetwork::addServer(ServerOptions options) {
  auto v = std::make_unique<Server>();
  v->options = std::move(options);
  servers_.push_back(std::move(v));
  scheduleServerTimers(servers_.size() - 1);
  return servers_.size() - 1;
}

pc::PeerServerConfig SimulatedNetwork::serverConfig(size_t s, const std::string& token) const {
  const ServerOptions& o = server(s).options;
  pc::PeerServerConfig c;
  c.host = o.host;
  c.port = o.port;
  c.path = o.path;
  c.key = o.key;
  c.token = token;
  return c;
}

void SimulatedNetwork::scheduleServerTimers(size_t s) {
  // The server's two interval timers, for this run of it only.
  const Server& v = server(s);
  serverEvery(s, v.epoch, v.options.cleanupIntervalMs, &SimulatedNetwork::serverPrune);
  serverEvery(s, v.epoch, v.options.aliveCheckIntervalMs, &SimulatedNetwork::serverCheckAlive);
}

void SimulatedNetwork::serverEvery(size_t s, uint64_t epoch, Millis period, void (SimulatedNetwork::*fn)(size_t)) {
  schedule(now_ + period, [this, s, epoch, period, fn] {
    const Server& v = server(s);
    if (!v.up || v.epoch != epoch) return;
    (this->*fn)(s);
    serverEvery(s, epoch, period, fn);
  });
}

void SimulatedNetwork::serverSendTo(uint64_t id, const std::string& text) {
  Socket& k = *sockets_.at(id);
  if (!k.serverOpen) return;
  // ws.send on a socket the client has silently lost "succeeds": it is lost.
  k.lastToClient = std::max(now_ + server(k.server).options.delay, k.lastToClient);
  schedule(k.lastToClient, [this, id, text] {
    Socket& k = *sockets_.at(id);
    if (k.node.empty()) {
      if (k.clientOpen) k.received.push_back(text);
      return;
    }
    Node* n = live(k.node);
    if (!n || n->socket != id || !k.clientOpen) return;
    n->serverInbox.emplace_back(now_, text);
    n->kernel->handleRouteMessage(kPeerServerRoute, text, now_);
    pump(n->id);
  });
}

void SimulatedNetwork::serverCloses(uint64_t id) {
  Socket& k = *sockets_.at(id);
  if (!k.serverOpen) return;
  serverSocketGone(id);
  if (k.node.empty()) {
    k.clientOpen = false;
    return;
  }
  notifySocketClosed(id, now_ + server(k.server).options.delay);
}

void SimulatedNetwork::serverSocketGone(uint64_t id) {
  // The server's "close" handler: the id is freed only if this socket still
  // carries it (a silently replaced socket frees nothing).
  Socket& k = *sockets_.at(id);
  if (!k.serverOpen) return;
  k.serverOpen = false;
  Server& v = server(k.server);
  if (!v.up || v.epoch != k.epoch) return;
  if (Server::Client* c = v.find(k.client); c && c->socket == id) v.removeClient(k.client);
}

void SimulatedNetwork::serverAccept(size_t s, uint64_t id, const std::string& key, const std::string& clientId,
                                    const std::string& token) {
  Server& v = server(s);
  auto error = [&](const char* msg) {
    ++v.stats.errors;
    serverSendTo(id, nlohmann::ordered_json{{"type", "ERROR"}, {"payload", {{"msg", msg}}}}.dump());
    serverCloses(id);
  };
  if (clientId.empty() || token.empty() || key.empty())
    return error("No id, token, or key supplied to websocket server");
  if (key != v.options.key) return error("Invalid key provided");
  Server::Client* client = v.find(clientId);
  if (client && token != client->token) {
    ++v.stats.idTaken;
    serverSendTo(id, nlohmann::ordered_json{{"type", "ID-TAKEN"}, {"payload", {{"msg", "ID is taken"}}}}.dump());
    serverCloses(id);
    return;
  }
  if (client) {
    ++v.stats.replacements;  // same id and token: takes the id over, no OPEN
  } else {
    if (v.clients.size() >= v.options.concurrentLimit) return error("Server has reached its concurrent user limit");
    v.clients.push_back(Server::Client{clientId, token, 0, now_});
    client = &v.clients.back();
    ++v.stats.opens;
    serverSendTo(id, R"({"type":"OPEN"})");
  }
  // _configureWS, then the "connection" event hands over the queued messages.
  client->socket = id;
  sockets_.at(id)->client = clientId;
  auto q = std::find_if(v.queues.begin(), v.queues.end(), [&](const Server::Queue& x) { return x.dst == clientId; });
  if (q != v.queues.end()) {
    std::vector<nlohmann::ordered_json> messages = std::move(q->messages);
    v.queues.erase(q);
    for (const auto& m : messages) serverTransmit(s, m);
  }
}

void SimulatedNetwork::serverReceive(uint64_t id, const std::string& text) {
  Socket& k = *sockets_.at(id);
  if (!k.serverOpen) return;
  Server& v = server(k.server);
  if (!v.up || v.epoch != k.epoch || k.client.empty()) return;
  // JSON.parse, then message.src = the socket's client id: anything but an
  // object throws there and is only logged.
  nlohmann::ordered_json m = nlohmann::ordered_json::parse(text, nullptr, false);
  if (m.is_discarded() || !m.is_object()) return;
  m["src"] = k.client;
  auto type = m.find("type");
  if (type == m.end() || !type->is_string()) return;
  const std::string t = type->get<std::string>();
  if (t == "HEARTBEAT") {
    if (Server::Client* c = v.find(k.client)) c->lastPing = now_;
    ++v.stats.heartbeats[k.client];
    return;
  }
  if (t != "OFFER" && t != "ANSWER" && t != "CANDIDATE" && t != "LEAVE" && t != "EXPIRE") return;
  // handleTransmission passes on only these four fields.
  nlohmann::ordered_json out;
  out["type"] = t;
  out["src"] = k.client;
  if (auto d = m.find("dst"); d != m.end()) out["dst"] = *d;
  if (auto p = m.find("payload"); p != m.end()) out["payload"] = *p;
  serverTransmit(k.server, out);
}

void SimulatedNetwork::serverTransmit(size_t s, const nlohmann::ordered_json& message) {
  Server& v = server(s);
  const std::string type = message["type"].get<std::string>();
  auto d = message.find("dst");
  const std::string dst = d != message.end() && d->is_string() ? d->get<std::string>() : std::string();
  if (Server::Client* c = dst.empty() ? nullptr : v.find(dst)) {
    ++v.stats.relayed;
    serverSendTo(c->socket, message.dump());
    return;
  }
  if (type != "LEAVE" && type != "EXPIRE" && !dst.empty()) {
    // Wait for the id to register; the prune timer answers EXPIRE otherwise.
    auto q = std::find_if(v.queues.begin(), v.queues.end(), [&](const Server::Queue& x) { return x.dst == dst; });
    if (q == v.queues.end()) {
      v.queues.push_back(Server::Queue{dst, now_, {}});
      q = v.queues.end() - 1;
    }
    q->messages.push_back(message);
    ++v.stats.queued;
  } else if (type == "LEAVE" && (d == message.end() || d->is_null() || dst.empty())) {
    // A LEAVE with no dst unregisters its sender.
    if (auto src = message.find("src"); src != message.end() && src->is_string()) v.removeClient(src->get<std::string>());
  }
}

void SimulatedNetwork::serverPrune(size_t s) {
  Server& v = server(s);
  std::vector<Server::Queue> due;
  for (auto it = v.queues.begin(); it != v.queues.end();) {
    if (now_ - it->lastReadAt >= v.options.expireTimeoutMs) {
      due.push_back(std::move(*it));
      it = v.queues.erase(it);
    } else {
      ++it;
    }
  }
  for (const Server::Queue& q : due) {
    std::set<std::string> seen;
    for (const auto& m : q.messages) {
      const std::string src = m["src"].get<std::string>();
      if (!seen.insert(src + "_" + q.dst).second) continue;
      ++v.stats.expires;
      nlohmann::ordered_json expire;
      expire["type"] = "EXPIRE";
      expire["src"] = q.dst;
      expire["dst"] = src;
      serverTransmit(s, expire);
    }
  }
}

void SimulatedNetwork::serverCheckAlive(size_t s) {
  Server& v = server(s);
  std::vector<Server::Client> stale;
  for (const auto& c : v.clients)
    if (now_ - c.lastPing >= v.options.aliveTimeoutMs) stale.push_back(c);
  for (const auto& c : stale) {
    ++v.stats.aliveClosed;
    v.clearQueue(c.id);
    v.removeClient(c.id);
    serverCloses(c.socket);
  }
}

void SimulatedNetwork::killServer(size_t s) {
  Server& v = server(s);
  if (!v.up) return;
  for (auto& [id, k] : sockets_) {
    if (k->server != s || !k->serverOpen || k->epoch != v.epoch) continue;
    k->serverOpen = false;
    if (k->node.empty()) k->clientOpen = false;
    else notifySocketClosed(id, now_ + v.options.delay);
  }
  v.up = false;
  v.clients.clear();
  v.queues.clear();
}

void SimulatedNetwork::restartServer(size_t s) {
  Server& v = server(s);
  if (v.up) return;
  v.up = true;
  ++v.epoch;
  scheduleServerTimers(s);
}

bool SimulatedNetwork::serverUp(size_t s) const { return server(s).up; }

std::vector<std::string> SimulatedNetwork::registeredIds(size_t s) const {
  std::vector<std::string> out;
  for (const auto& c : server(s).clients) out.push_back(c.id);
  return out;
}

size_t SimulatedNetwork::queuedMessages(size_t s) const {
  size_t n = 0;
  for (const auto& q : server(s).queues) n += q.messages.size();
  return n;
}

const ServerStats& SimulatedNetwork::serverStats(size_t s) const { return server(s).stats; }

void SimulatedNetwork::forgetSocket(const std::string& id) {
  Node& n = node(id);
  const uint64_t socket = n.socket;
  if (!socket || n.crashed) return;
  n.socket = 0;
  sockets_.at(socket)->clientOpen = false;
  // The server still holds it open (serverOpen) and the id on it.
  n.kernel->handleRouteClosed(kPeerServerRoute, now_);
  pump(id);
}

bool SimulatedNetwork::injectServerMessage(const std::string& id, const std::string& text) {
  Node& n = node(id);
  if (n.crashed || !n.socket || !sockets_.at(n.socket)->clientOpen) return false;
  n.serverInbox.emplace_back(now_, text);
  n.kernel->handleRouteMessage(kPeerServerRoute, text, now_);
  pump(id);
  return true;
}

const std::vector<std::pair<Millis, std::string>>& SimulatedNetwork::serverMessages(const std::string& id) const {
  return node(id).serverInbox;
}

uint64_t SimulatedNetwork::rawConnect(size_t s, const std::string& clientId, const std::string& token,
                                      const std::string& key) {
  Server& v = server(s);
  const uint64_t id = nextSocket_++;
  auto socket = std::make_unique<Socket>();
  socket->server = s;
  socket->epoch = v.epoch;
  socket->clientOpen = true;
  socket->serverOpen = v.up;
  sockets_[id] = std::move(socket);
  if (v.up) serverAccept(s, id, key.empty() ? v.options.key : key, clientId, token);
  else sockets_[id]->clientOpen = false;
  return id;
}

void SimulatedNetwork::rawSend(uint64_t id, const std::string& text) {
  if (sockets_.at(id)->clientOpen) serverReceive(id, text);
}

void SimulatedNetwork::rawClose(uint64_t id) {
  sockets_.at(id)->clientOpen = false;
  serverSocketGone(id);
}

const std::vector<std::string>& SimulatedNetwork::rawReceived(uint64_t id) const { return sockets_.at(id)->received; }

void SimulatedNetwork::deliverFrame(const std::string& from, const std::string& to, uint64_t conn,
                                    std::shared_ptr<const std::vector<uint8_t>> payload) {
  Node* b = live(to);
  if (!b) return;
  if (b->stalledUntil > now_) {
    // Queued behind the long task, and after the timer that runs when it ends.
    schedule(b->stalledUntil + kAfterTimer, [this, from, to, conn, payload] { deliverFrame(from, to, conn, payload); });
    return;
  }
  auto e = b->endpoints.find(from);
  if (e == b->endpoints.end() || e->second.conn != conn || !e->second.open) return;
  e->second.heard = true;
  ++framesDelivered_;
  b->kernel->handleData(from, payload->data(), payload->size(), now_);
  pump(to);
}

// ---- time ------------------------------------------------------------------------

std::optional<Millis> SimulatedNetwork::wakeTime(const Node& n) const {
  if (n.crashed) return std::nullopt;
  std::optional<Millis> t = n.kernel->pollTimeout();
  if (t && n.timerPeriod > 0 && n.lastTimerAt) t = std::max(*t, *n.lastTimerAt + n.timerPeriod);
  if (t) t = std::max(*t, n.stalledUntil);
  return t;
}

bool SimulatedNetwork::step(Millis limit) {
  Node* timer = nullptr;
  Millis best = std::numeric_limits<Millis>::infinity();
  for (const auto& n : nodes_) {
    std::optional<Millis> w = wakeTime(*n);
    if (w && *w < best) {
      best = *w;
      timer = n.get();
    }
  }
  const bool eventFirst = !events_.empty() && events_.top().at <= best;
  if (!eventFirst && !timer) return false;
  const Millis t = eventFirst ? events_.top().at : best;
  if (t > limit) return false;
  now_ = std::max(now_, t);

  if (eventFirst) {
    Event e = events_.top();
    events_.pop();
    e.run();
    return true;
  }
  // A kernel whose pollTimeout() does not move past a handleTimeout() would
  // spin here forever.
  if (timer->lastTimerAt && *timer->lastTimerAt == now_) {
    if (++timer->sameTimeTimerCalls > 1000)
      throw std::runtime_error("node " + timer->id + ": pollTimeout() does not advance after handleTimeout()");
  } else {
    timer->sameTimeTimerCalls = 0;
  }
  timer->lastTimerAt = now_;
  ++timer->timerCalls;
  timer->kernel->handleTimeout(now_);
  pump(timer->id);
  return true;
}

void SimulatedNetwork::runUntil(Millis t) {
  while (step(t)) {
  }
  now_ = std::max(now_, t);
}

bool SimulatedNetwork::runUntil(const std::function<bool()>& done, Millis deadline) {
  while (!done()) {
    if (!step(deadline)) {
      now_ = std::max(now_, deadline);
      return done();
    }
  }
  return true;
}

// ---- queries ---------------------------------------------------------------------

bool SimulatedNetwork::channelOpen(const std::string& a, const std::string& b) const {
  const Node& x = node(a);
  const Node& y = node(b);
  if (x.crashed || y.crashed) return false;
  auto ix = x.endpoints.find(b);
  auto iy = y.endpoints.find(a);
  return ix != x.endpoints.end() && iy != y.endpoints.end() && ix->second.open && iy->second.open &&
         ix->second.conn == iy->second.conn;
}

size_t SimulatedNetwork::openConnections() const {
  size_t n = 0;
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (size_t j = i + 1; j < nodes_.size(); ++j) n += channelOpen(nodes_[i]->id, nodes_[j]->id);
  return n;
}

bool SimulatedNetwork::fullMesh() const {
  for (const auto& a : nodes_) {
    if (a->crashed || !a->kernel->isStarted()) continue;
    for (const auto& b : nodes_) {
      if (a == b || b->crashed || !b->kernel->isStarted()) continue;
      const std::optional<pcsim::PeerView> p = pcsim::peerOf(*a->kernel, b->id);
      if (!p || p->state != pc::PeerState::Connected) return false;
    }
  }
  return true;
}

bool SimulatedNetwork::meshAmong(const std::vector<std::string>& ids) const {
  for (const auto& a : ids)
    for (const auto& b : ids) {
      if (a == b) continue;
      const std::optional<pcsim::PeerView> p = pcsim::peerOf(*node(a).kernel, b);
      if (!p || p->state != pc::PeerState::Connected) return false;
    }
  return true;
}

bool SimulatedNetwork::startMesh(const std::vector<std::string>& ids, const pc::NodeConfig& config, Millis within) {
  for (const auto& id : ids) {
    addNode(id, config);
    start(id);
  }
  return runUntil([&] { return fullMesh(); }, now_ + within);
}

}  // namespace pcsim
