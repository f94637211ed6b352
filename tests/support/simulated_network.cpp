#include "support/simulated_network.h"

#include <algorithm>
#include <limits>
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
  std::unique_ptr<pc::NodeKernel> kernel;
  std::map<std::string, Endpoint> endpoints;  // by peer id
  std::map<uint64_t, Link> links;             // by connection number
  std::vector<Logged> log;
  bool crashed = false;
  Millis timerPeriod = 0;  // 0: not throttled
  std::optional<Millis> lastTimerAt;
  uint64_t timerCalls = 0;
  int sameTimeTimerCalls = 0;
};

namespace {
std::string sdp(const char* kind, uint64_t conn) {
  return nlohmann::json{{"sdp", kind}, {"conn", conn}}.dump();
}
}  // namespace

SimulatedNetwork::SimulatedNetwork(NetworkOptions options)
    : options_(options), rng_(options.seed), now_(options.startTime) {}

SimulatedNetwork::~SimulatedNetwork() = default;

pc::NodeKernel& SimulatedNetwork::addNode(const std::string& id, pc::NodeConfig config) {
  for (const auto& n : nodes_)
    if (n->id == id) throw std::invalid_argument("node " + id + " already exists");
  if (config.nodeId.empty()) config.nodeId = id;
  if (config.nodeId != id) throw std::invalid_argument("config.nodeId must equal the node's id");
  if (config.replicaId == 0) config.replicaId = nodes_.size() + 1;
  auto n = std::make_unique<Node>();
  n->id = id;
  n->kernel = std::make_unique<pc::NodeKernel>();
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
}

void SimulatedNetwork::throttleTimers(const std::string& id, Millis period) {
  Node& n = node(id);
  n.timerPeriod = period;
  n.lastTimerAt = now_;
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

void SimulatedNetwork::handle(Node& n, const pc::Output& o) {
  const std::string from = n.id;

  if (const auto* s = std::get_if<pc::SendSignal>(&o)) {
    for (const auto& m : nodes_) {
      if (m.get() == &n || m->crashed || (!s->to.empty() && s->to != m->id)) continue;
      Millis at = now_ + rng_.between(options_.signalDelayMin, options_.signalDelayMax);
      schedule(at, [this, to = m->id, text = s->text] {
        if (Node* r = live(to)) {
          r->kernel->handleSignal(text, now_);
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
      schedule(now_ + options_.rtcDelay, [this, from, peer = rtc->peerId, conn] { openChannel(from, peer, conn); });
    }
  } else if (const auto* close = std::get_if<pc::CloseConnection>(&o)) {
    auto it = n.endpoints.find(close->peerId);
    if (it == n.endpoints.end()) return;
    uint64_t conn = it->second.conn;
    n.endpoints.erase(it);
    if (conn == 0) return;
    schedule(now_ + options_.closeDelay, [this, from, peer = close->peerId, conn] { closeFarEnd(from, peer, conn); });
  } else if (const auto* data = std::get_if<pc::SendData>(&o)) {
    sendData(n, *data);
  }
  // PeerConnected, PeerDisconnected, StateChanged and MessageReceived are
  // events for the application: they are only logged.
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
  b->kernel->handleChannelOpen(initiator, now_);
  pump(responder);
}

void SimulatedNetwork::closeFarEnd(const std::string& from, const std::string& to, uint64_t conn) {
  Node* b = live(to);
  if (!b) return;
  auto it = b->endpoints.find(from);
  if (it == b->endpoints.end() || it->second.conn != conn) return;
  b->endpoints.erase(it);
  b->kernel->handleChannelClosed(from, now_);
  pump(to);
}

void SimulatedNetwork::sendData(Node& n, const pc::SendData& d) {
  auto it = n.endpoints.find(d.peerId);
  if (it == n.endpoints.end() || !it->second.open) return;  // no channel: the frame is lost
  if (d.bytes.size() > n.kernel->config().maxChannelMessageBytes) ++oversizeFrames_;
  if (onFrameSent) onFrameSent(n.id, d.peerId, d.bytes);

  const uint64_t conn = it->second.conn;
  Node::Link& link = n.links[conn];
  const bool first = link.frames++ == 0;
  auto payload = std::make_shared<const std::vector<uint8_t>>(d.bytes);
  auto deliverAt = [&](Millis at) {
    schedule(at, [this, from = n.id, to = d.peerId, conn, payload] {
      Node* b = live(to);
      if (!b) return;
      auto e = b->endpoints.find(from);
      if (e == b->endpoints.end() || e->second.conn != conn || !e->second.open) return;
      ++framesDelivered_;
      b->kernel->handleData(from, payload->data(), payload->size(), now_);
      pump(to);
    });
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

// ---- time ------------------------------------------------------------------------

std::optional<Millis> SimulatedNetwork::wakeTime(const Node& n) const {
  if (n.crashed) return std::nullopt;
  std::optional<Millis> t = n.kernel->pollTimeout();
  if (t && n.timerPeriod > 0 && n.lastTimerAt) t = std::max(*t, *n.lastTimerAt + n.timerPeriod);
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
      const pc::PeerRecord* p = a->kernel->peers().find(b->id);
      if (!p || p->state != pc::PeerState::Connected) return false;
    }
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
