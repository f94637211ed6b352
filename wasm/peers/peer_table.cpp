#include "peers/peer_table.h"

namespace pc {

const char* toString(PeerState s) {
  switch (s) {
    case PeerState::Discovered: return "discovered";
    case PeerState::Connecting: return "connecting";
    case PeerState::Handshaking: return "handshaking";
    case PeerState::Connected: return "connected";
  }
  return "unknown";
}

PeerRecord* PeerTable::find(const std::string& id) {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

const PeerRecord* PeerTable::find(const std::string& id) const {
  auto it = peers_.find(id);
  return it == peers_.end() ? nullptr : &it->second;
}

PeerRecord& PeerTable::add(const std::string& id, size_t maxFrameBytes, Millis now) {
  auto [it, inserted] = peers_.try_emplace(id, id, maxFrameBytes);
  if (inserted) {
    it->second.discoveredAt = now;
    it->second.stateSince = now;
  }
  return it->second;
}

void PeerTable::setState(PeerRecord& p, PeerState s, Millis now) {
  p.state = s;
  p.stateSince = now;
}

size_t PeerTable::countIn(PeerState s) const {
  size_t n = 0;
  for (const auto& [id, p] : peers_) n += p.state == s;
  return n;
}

}  // namespace pc
