#include "messaging/messaging_engine.h"

#include "rules/app_rules.h"

namespace pc {

namespace {
size_t varuintBytes(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

// The largest payload whose AppMessage or BinaryMessage frame fits `limit`
// bytes: magic, version and type, the body's length, then the body (the
// payload's length and the payload); see wire/PROTOCOL.md.
size_t largestMessagePayload(size_t limit) {
  for (size_t payload = limit; payload > 0; --payload) {
    size_t body = varuintBytes(payload) + payload;
    if (3 + varuintBytes(body) + body <= limit) return payload;
  }
  return 0;
}
}  // namespace

Result MessagingEngine::send(const std::string& peer, std::string payload, MessageKind kind) {
  if (!ctx_.links.isConnected(peer)) return Result::failure("peer " + peer + " is not connected");
  return sendTo({peer}, std::move(payload), kind);
}

Result MessagingEngine::broadcast(std::string payload, MessageKind kind) {
  return sendTo(ctx_.links.connected(), std::move(payload), kind);
}

Result MessagingEngine::sendTo(const std::vector<std::string>& peers, std::string payload, MessageKind kind) {
  wire::Frame frame;
  if (kind.binary) {
    frame = wire::BinaryMessage{std::move(payload)};
  } else {
    if (std::string why = rules::checkJsonText(payload, "message"); !why.empty()) return Result::failure(why);
    frame = wire::AppMessage{std::move(payload)};
  }
  if (kind.reliable) {
    for (const std::string& peer : peers) ctx_.links.send(peer, frame);
    return Result::success();
  }
  // No fragments on a channel that may lose or reorder them.
  std::vector<uint8_t> bytes = wire::encode(frame);
  if (bytes.size() > ctx_.config.maxChannelMessageBytes)
    return Result::failure("an unreliable message must fit one channel message (" +
                           std::to_string(largestMessagePayload(ctx_.config.maxChannelMessageBytes)) +
                           " bytes); send larger ones reliably");
  for (const std::string& peer : peers) ctx_.links.sendUnreliable(peer, bytes);
  return Result::success();
}

void MessagingEngine::onFrame(const std::string& peer, wire::AppMessage&& f, Millis) {
  ctx_.outputs.push_back(MessageReceived{peer, std::move(f.json), false});
}

void MessagingEngine::onFrame(const std::string& peer, wire::BinaryMessage&& f, Millis) {
  ctx_.outputs.push_back(MessageReceived{peer, std::move(f.bytes), true});
}

}  // namespace pc
