// PresenceEngine: ephemeral state each node shows its connected peers (a
// cursor, a name, a status), never stored. A peer's presence lasts as long
// as its connection.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "kernel/engine_context.h"
#include "kernel/result.h"

namespace pc {

class PresenceEngine {
 public:
  using Frames = FrameSet<wire::Presence>;

  explicit PresenceEngine(EngineContext& context) : ctx_(context) {}

  // JSON text; "null" clears it.
  Result set(const std::string& json);
  // A peer's presence, if it has one.
  const std::string* of(const std::string& peer) const;

  void peerConnected(const std::string& peer);
  // PresenceChanged with nothing, when it had a presence.
  void peerGone(const std::string& peer);
  void onFrame(const std::string& peer, wire::Presence&& f, Millis now);

 private:
  EngineContext& ctx_;
  std::optional<std::string> ours_;
  std::map<std::string, std::string> theirs_;
};

}  // namespace pc
