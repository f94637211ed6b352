#include "presence/presence_engine.h"

#include "rules/app_rules.h"

namespace pc {

Result PresenceEngine::set(const std::string& json) {
  if (json.size() > wire::kMaxPresenceBytes)
    return Result::failure("presence is " + std::to_string(json.size()) + " bytes of JSON, over the limit of " +
                           std::to_string(wire::kMaxPresenceBytes));
  if (std::string why = rules::checkJsonText(json, "presence"); !why.empty()) return Result::failure(why);
  if (json == "null") ours_.reset();
  else ours_ = json;
  wire::Frame frame = wire::Presence{json};
  for (const std::string& peer : ctx_.links.connected()) ctx_.links.send(peer, frame);
  return Result::success();
}

const std::string* PresenceEngine::of(const std::string& peer) const {
  auto it = theirs_.find(peer);
  return it == theirs_.end() ? nullptr : &it->second;
}

void PresenceEngine::peerConnected(const std::string& peer) {
  if (ours_) ctx_.links.send(peer, wire::Presence{*ours_});
}

void PresenceEngine::peerGone(const std::string& peer) {
  if (theirs_.erase(peer)) ctx_.outputs.push_back(PresenceChanged{peer, std::nullopt});
}

void PresenceEngine::onFrame(const std::string& peer, wire::Presence&& f, Millis) {
  auto it = theirs_.find(peer);
  if (f.json == "null") {
    if (it == theirs_.end()) return;
    theirs_.erase(it);
    ctx_.outputs.push_back(PresenceChanged{peer, std::nullopt});
    return;
  }
  if (it != theirs_.end() && it->second == f.json) return;
  theirs_[peer] = f.json;
  ctx_.outputs.push_back(PresenceChanged{peer, std::move(f.json)});
}

}  // namespace pc
