#include "signaling/peer_server_link.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "discovery/backoff.h"
#include "signaling/signal_codec.h"

namespace pc {

using nlohmann::json;

namespace {
constexpr size_t kMaxServerMessageBytes = 128 * 1024;
constexpr size_t kMaxRoomMembersListed = 1024;

std::string percentEncode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}
}  // namespace

const char* toString(LinkState s) {
  switch (s) {
    case LinkState::Off: return "off";
    case LinkState::Connecting: return "connecting";
    case LinkState::AwaitingOpen: return "awaiting-open";
    case LinkState::Registered: return "registered";
    case LinkState::Waiting: return "reconnecting";
  }
  return "unknown";
}

PeerServerLink::PeerServerLink(PeerServerConfig config, std::string roomTag, std::string nodeId, uint64_t seed)
    : enabled_(true), config_(std::move(config)), roomTag_(std::move(roomTag)), nodeId_(std::move(nodeId)), rng_(seed) {
  serverId_ = roomTag_ + "." + nodeId_;
}

std::string PeerServerLink::socketUrl() const {
  std::string path = config_.path;
  if (path.empty() || path.back() != '/') path += '/';
  return std::string(config_.secure ? "wss://" : "ws://") + config_.host + ":" + std::to_string(config_.port) + path +
         "peerjs?key=" + percentEncode(config_.key) + "&id=" + percentEncode(serverId_) +
         "&token=" + percentEncode(config_.token);
}

std::string PeerServerLink::listUrl() const {
  std::string path = config_.path;
  if (path.empty() || path.back() != '/') path += '/';
  return std::string(config_.secure ? "https://" : "http://") + config_.host + ":" + std::to_string(config_.port) +
         path + percentEncode(config_.key) + "/peers";
}

void PeerServerLink::start(Millis now, Actions& out) {
  if (!enabled_ || state_ != LinkState::Off) return;
  failures_ = 0;
  state_ = LinkState::Connecting;
  stateSince_ = now;
  out.connect = LinkConnect{socketUrl()};
}

void PeerServerLink::stop(Actions& out) {
  if (!enabled_ || state_ == LinkState::Off) return;
  if (state_ != LinkState::Waiting) out.close = true;
  state_ = LinkState::Off;
}

void PeerServerLink::onSocketOpen(Millis now, Actions&) {
  if (state_ != LinkState::Connecting) return;
  state_ = LinkState::AwaitingOpen;
  stateSince_ = now;
}

void PeerServerLink::becomeRegistered(Millis now, Actions& out) {
  state_ = LinkState::Registered;
  stateSince_ = now;
  failures_ = 0;
  lastError_.clear();
  nextHeartbeatAt_ = now + config_.heartbeatIntervalMs;
  nextListAt_ = now + config_.discoveryIntervalMs;
  out.list = LinkList{listUrl()};
}

void PeerServerLink::scheduleReconnect(Millis now) {
  ++failures_;
  state_ = LinkState::Waiting;
  stateSince_ = now;
  reconnectAt_ = now + backoffDelay(config_.reconnectBaseMs, config_.reconnectMaxMs, failures_, rng_);
}

void PeerServerLink::onSocketClosed(Millis now, Actions&) {
  if (state_ == LinkState::Off || state_ == LinkState::Waiting) return;
  scheduleReconnect(now);
}

std::optional<ServerMessage> PeerServerLink::onSocketMessage(std::string_view text, Millis now, Actions& out,
                                                             std::string* error) {
  if (state_ != LinkState::AwaitingOpen && state_ != LinkState::Registered) return std::nullopt;
  if (text.size() > kMaxServerMessageBytes) {
    *error = "server message larger than 128 KiB";
    return std::nullopt;
  }
  json m = json::parse(text.begin(), text.end(), nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("type") || !m["type"].is_string()) {
    *error = "server message is not a JSON object with a string type";
    return std::nullopt;
  }
  std::string type = m["type"].get<std::string>();
  if (type == "OPEN") {
    if (state_ == LinkState::AwaitingOpen) becomeRegistered(now, out);
    return std::nullopt;
  }
  if (type == "ID-TAKEN") {
    // Another token holds this id: most often this node's own earlier socket
    // that the server has not yet seen close. Register under a fresh id.
    ++idTaken_;
    ++generation_;
    serverId_ = roomTag_ + "." + nodeId_ + "." + std::to_string(generation_);
    lastError_ = "ID-TAKEN";
    out.close = true;
    scheduleReconnect(now);
    reconnectAt_ = now;  // at once: the new id is free
    return std::nullopt;
  }
  if (type == "ERROR") {
    lastError_ = "ERROR";
    if (auto p = m.find("payload"); p != m.end() && p->is_object() && p->contains("msg") && (*p)["msg"].is_string())
      lastError_ += ": " + (*p)["msg"].get<std::string>();
    out.close = true;
    scheduleReconnect(now);
    return std::nullopt;
  }
  if (type == "HEARTBEAT") return std::nullopt;
  if (type != "OFFER" && type != "ANSWER" && type != "CANDIDATE" && type != "LEAVE" && type != "EXPIRE") {
    *error = "unknown server message type";
    return std::nullopt;
  }
  auto src = m.find("src");
  if (src == m.end() || !src->is_string() || src->get_ref<const std::string&>().empty()) {
    *error = type + " without a src";
    return std::nullopt;
  }
  ServerMessage msg{type, src->get<std::string>(), std::nullopt};
  if (auto p = m.find("payload"); p != m.end() && !p->is_null()) {
    if (!p->is_string()) {
      *error = type + " payload is not a string";
      return std::nullopt;
    }
    msg.payload = p->get<std::string>();
  }
  // A socket the server took over silently never gets OPEN; relayed traffic
  // proves it is registered.
  if (state_ == LinkState::AwaitingOpen) becomeRegistered(now, out);
  return msg;
}

void PeerServerLink::onTimeout(Millis now, Actions& out) {
  switch (state_) {
    case LinkState::Off:
    case LinkState::Connecting:
      return;
    case LinkState::AwaitingOpen:
      // Reconnecting with the same id and token, the server replaces the old
      // socket without a word.
      // (Tested as nextTimeout() computes it, so that time always passes it.)
      if (now >= stateSince_ + config_.openGraceMs) becomeRegistered(now, out);
      return;
    case LinkState::Waiting:
      if (now >= reconnectAt_) {
        ++reconnects_;
        state_ = LinkState::Connecting;
        stateSince_ = now;
        out.connect = LinkConnect{socketUrl()};
      }
      return;
    case LinkState::Registered:
      if (now >= nextHeartbeatAt_) {
        out.sends.push_back({R"({"type":"HEARTBEAT"})", {}});
        nextHeartbeatAt_ = now + config_.heartbeatIntervalMs;
      }
      if (now >= nextListAt_) {
        out.list = LinkList{listUrl()};
        nextListAt_ = now + config_.discoveryIntervalMs;
      }
      return;
  }
}

std::optional<Millis> PeerServerLink::nextTimeout() const {
  switch (state_) {
    case LinkState::Off:
    case LinkState::Connecting:
      return std::nullopt;  // the host reports open or closed
    case LinkState::AwaitingOpen:
      return stateSince_ + config_.openGraceMs;
    case LinkState::Waiting:
      return reconnectAt_;
    case LinkState::Registered:
      return std::min(nextHeartbeatAt_, nextListAt_);
  }
  return std::nullopt;
}

bool PeerServerLink::send(const std::string& type, const std::string& dst, const std::string& payload, Actions& out) {
  if (state_ != LinkState::Registered && state_ != LinkState::AwaitingOpen) return false;
  out.sends.push_back({json{{"type", type}, {"dst", dst}, {"payload", payload}}.dump(), dst});
  return true;
}

std::string PeerServerLink::nodeIdOf(std::string_view serverId) const {
  if (serverId.size() <= roomTag_.size() + 1 || serverId.substr(0, roomTag_.size()) != roomTag_ ||
      serverId[roomTag_.size()] != '.')
    return {};
  std::string_view rest = serverId.substr(roomTag_.size() + 1);
  if (size_t dot = rest.find('.'); dot != std::string_view::npos) {
    std::string_view generation = rest.substr(dot + 1);
    if (generation.empty() || generation.find_first_not_of("0123456789") != std::string_view::npos) return {};
    rest = rest.substr(0, dot);
  }
  return isValidNodeId(rest) ? std::string(rest) : std::string();
}

std::vector<std::pair<std::string, std::string>> PeerServerLink::roomMembers(std::string_view listing,
                                                                            std::string* error) const {
  std::vector<std::pair<std::string, std::string>> members;
  json ids = json::parse(listing.begin(), listing.end(), nullptr, false);
  if (ids.is_discarded() || !ids.is_array()) {
    *error = "peer listing is not a JSON array";
    return members;
  }
  for (const json& id : ids) {
    if (!id.is_string()) continue;
    const std::string& serverId = id.get_ref<const std::string&>();
    std::string nodeId = nodeIdOf(serverId);
    if (nodeId.empty() || nodeId == nodeId_) continue;
    members.emplace_back(std::move(nodeId), serverId);
    if (members.size() >= kMaxRoomMembersListed) break;
  }
  return members;
}

}  // namespace pc
