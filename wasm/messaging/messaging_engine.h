// MessagingEngine: the application's messages to one peer or to all, as JSON
// text or raw bytes, on the reliable ordered channel or the unreliable
// unordered one. Messages are not stored and not relayed.
#pragma once

#include <string>
#include <vector>

#include "kernel/engine_context.h"
#include "kernel/result.h"

namespace pc {

// An application message: JSON text or raw bytes, on the reliable ordered
// channel or the unreliable unordered one.
struct MessageKind {
  bool binary = false;
  bool reliable = true;
};

class MessagingEngine {
 public:
  using Frames = FrameSet<wire::AppMessage, wire::BinaryMessage>;

  explicit MessagingEngine(EngineContext& context) : ctx_(context) {}

  // To one connected peer, or to every connected peer.
  Result send(const std::string& peer, std::string payload, MessageKind kind);
  Result broadcast(std::string payload, MessageKind kind);

  void onFrame(const std::string& peer, wire::AppMessage&& f, Millis now);
  void onFrame(const std::string& peer, wire::BinaryMessage&& f, Millis now);

 private:
  Result sendTo(const std::vector<std::string>& peers, std::string payload, MessageKind kind);

  EngineContext& ctx_;
};

}  // namespace pc
