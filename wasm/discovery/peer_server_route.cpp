#include "discovery/peer_server_route.h"

#include "discovery/backoff.h"

namespace pc {

PeerServerRoute::PeerServerRoute(PeerServerConfig config, std::string roomTag, std::string nodeId, uint64_t seed)
    : SignalRoute(kName), link_(std::move(config), std::move(roomTag), std::move(nodeId), seed) {}

void PeerServerRoute::flush(PeerServerLink::Actions& actions, std::deque<Output>& out) {
  if (actions.close) out.push_back(RouteClose{name()});
  for (auto& send : actions.sends) out.push_back(RouteSend{name(), std::move(send.dst), std::move(send.text)});
  if (actions.connect) out.push_back(RouteOpen{name(), std::move(actions.connect->url)});
  if (actions.list) out.push_back(RouteList{name(), std::move(actions.list->url)});
  actions = {};
}

void PeerServerRoute::start(Millis now, std::deque<Output>& out) {
  announces_.refill(now);
  PeerServerLink::Actions actions;
  link_.start(now, actions);
  flush(actions, out);
}

void PeerServerRoute::stop(std::deque<Output>& out) {
  PeerServerLink::Actions actions;
  link_.stop(actions);
  flush(actions, out);
  directory_.clear();
}

namespace {
// The PeerJS message type a signal travels as. The server relays OFFER,
// ANSWER, CANDIDATE and LEAVE alike; the type only shows what it carries,
// and in a room with a password everything goes as OFFER.
const char* serverType(SignalKind kind) {
  switch (kind) {
    case SignalKind::Leave: return "LEAVE";
    case SignalKind::Answer: return "ANSWER";
    case SignalKind::Candidate: return "CANDIDATE";
    case SignalKind::Announce:
    case SignalKind::Offer:
    case SignalKind::Sealed: return "OFFER";
  }
  return "OFFER";
}
}  // namespace

void PeerServerRoute::send(const std::string& address, const std::string& text, SignalKind kind,
                           std::deque<Output>& out) {
  PeerServerLink::Actions actions;
  link_.send(serverType(kind), address, text, actions);
  flush(actions, out);
}

std::string PeerServerRoute::checkSender(const std::string& address, const std::string& from, bool* shadowed) const {
  // The server stamps src with the sender's registered id: a signal that
  // claims another sender is forged.
  if (link_.nodeIdOf(address) != from) return "sender " + from + " does not match its server id";
  // "<tag>.<id>.<n>" is how a node re-registers when its old socket still
  // holds "<tag>.<id>"; while "<tag>.<id>" is listed, anyone else could
  // register the longer form to pose as <id>.
  const std::string plain = link_.plainServerIdOf(from);
  if (address != plain && listed_.count(plain)) {
    *shadowed = true;
    return "a server id posing as " + from + ", whose own id is registered";
  }
  return {};
}

void PeerServerRoute::onOpen(Millis now, std::deque<Output>& out) {
  PeerServerLink::Actions actions;
  link_.onSocketOpen(now, actions);
  flush(actions, out);
}

// Data channels stay up without the server; only signaling waits.
void PeerServerRoute::onClosed(Millis now, std::deque<Output>& out) {
  PeerServerLink::Actions actions;
  link_.onSocketClosed(now, actions);
  flush(actions, out);
}

void PeerServerRoute::onMessage(std::string_view text, Millis now, std::deque<Output>& out, RouteNews& news) {
  PeerServerLink::Actions actions;
  std::string error;
  std::optional<ServerMessage> msg = link_.onSocketMessage(text, now, actions, &error);
  flush(actions, out);
  if (!error.empty()) return news.errors.push_back("server: " + error);
  if (!msg) return;
  if (msg->type == "EXPIRE" || !msg->payload) {
    // EXPIRE: our message found no one registered under that id. A LEAVE the
    // server wrote itself: that peer's socket is dead.
    std::string nodeId = link_.nodeIdOf(msg->src);
    if (nodeId.empty()) return;
    if (auto it = directory_.find(nodeId); it != directory_.end() && it->second == msg->src) directory_.erase(it);
    news.gone.push_back({std::move(nodeId), std::move(msg->src)});
    return;
  }
  if (link_.nodeIdOf(msg->src).empty()) return news.errors.push_back("server: a message from outside this room");
  news.envelopes.push_back({std::move(msg->src), std::move(*msg->payload)});
}

void PeerServerRoute::onListing(bool ok, std::string_view text, Millis, RouteNews& news) {
  if (!link_.registered()) return;
  if (!ok)
    return news.errors.push_back(
        "server: the peer listing failed (is the server up, and started with allow_discovery?)");
  std::string error;
  auto members = link_.roomMembers(text, &error);
  if (!error.empty()) return news.errors.push_back("server: " + error);
  directory_.clear();
  listed_.clear();
  for (auto& [nodeId, serverId] : members) {
    listed_.insert(serverId);
    auto it = directory_.find(nodeId);
    // Of "<tag>.<id>" and "<tag>.<id>.<n>", the plain one is the node's.
    if (it == directory_.end() || serverId.size() < it->second.size()) directory_[nodeId] = serverId;
  }
  news.listed = true;
}

void PeerServerRoute::onTimeout(Millis now, std::deque<Output>& out) {
  PeerServerLink::Actions actions;
  link_.onTimeout(now, actions);
  flush(actions, out);
}

nlohmann::json PeerServerRoute::describe() const {
  const std::string url = link_.socketUrl();
  return {{"state", toString(link_.state())},
          {"serverId", link_.serverId()},
          {"url", url.substr(0, url.find('?'))},
          {"roomMembers", directory_.size()},
          {"reconnects", link_.reconnects()},
          {"idTaken", link_.idTaken()},
          {"lastError", link_.lastError().empty() ? nlohmann::json(nullptr) : nlohmann::json(link_.lastError())}};
}

}  // namespace pc
