// Fuzzes pc::PeerServerLink, the kernel's side of a PeerJS signaling server
// session, with whatever a server (or something posing as one) may send.
//
// Input: messages separated by 0x00 bytes. Each message's first byte is a
// control byte for the simulated host, the rest is the text:
//   bits 0-3  how far time moves on after the message (kAdvance below)
//   bit 4     plus half a millisecond (hosts pass fractional times)
//   bit 5     if the link asked to connect, the socket opens first
//   bit 6     the socket closes first (onSocketClosed)
//   bit 7     the text is also offered as the server's peer listing
// The link starts registered-pending (start, onSocketOpen). For each
// message: the control actions, onSocketMessage(text), then time moves on as
// a host's timer would: onTimeout at every nextTimeout() due on the way, and
// once more at the new time.
// Checks, beyond no crash (nlohmann aborts under JSON_NOEXCEPTION):
//  - after onTimeout(now), nextTimeout() is not in the past, nor now itself
//    (a host would spin on its timer);
//  - onSocketMessage either relays a message of a relayed type with a src
//    and no error, or returns nothing;
//  - every member a listing yields is a valid node id that nodeIdOf maps
//    its server id back to, and never this node.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "signaling/peer_server_link.h"
#include "signaling/signal_codec.h"

using namespace pc;

namespace {

constexpr Millis kAdvance[16] = {0, 1, 10, 100, 499, 500, 501, 1000, 1499, 1500, 1501, 4999, 5000, 5001, 10'000, 60'000};
const std::string kRoomTag = "0123456789abcdef0123456789abcdef";
const std::string kNodeId = "n";

void checkTimeout(const PeerServerLink& link, Millis now) {
  std::optional<Millis> next = link.nextTimeout();
  FUZZ_CHECK(!next || *next > now, "after onTimeout(%.3f) in state %s, nextTimeout() is %.3f", now,
             toString(link.state()), *next);
}

void checkActions(const PeerServerLink& link, const PeerServerLink::Actions& a) {
  if (a.connect) FUZZ_CHECK(!a.connect->url.empty(), "asked to connect to an empty url");
  for (const LinkSend& s : a.sends) FUZZ_CHECK(!s.text.empty(), "asked to send an empty message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  PeerServerConfig config;
  config.host = "h";
  config.token = "t";
  PeerServerLink link(config, kRoomTag, kNodeId, 42);
  Millis now = 1000;
  PeerServerLink::Actions actions;
  link.start(now, actions);
  checkActions(link, actions);
  actions = {};
  link.onSocketOpen(now, actions);
  checkActions(link, actions);

  size_t begin = 0;
  int messages = 0;
  while (begin < size && messages++ < 64) {
    size_t end = begin;
    while (end < size && data[end] != 0) ++end;
    std::string_view segment(reinterpret_cast<const char*>(data) + begin, end - begin);
    begin = end + 1;
    if (segment.empty()) continue;
    const uint8_t control = static_cast<uint8_t>(segment[0]);
    std::string_view text = segment.substr(1);

    actions = {};
    if ((control & 0x20) && link.state() == LinkState::Connecting) link.onSocketOpen(now, actions);
    if (control & 0x40) link.onSocketClosed(now, actions);
    checkActions(link, actions);

    actions = {};
    std::string error;
    std::optional<ServerMessage> msg = link.onSocketMessage(text, now, actions, &error);
    checkActions(link, actions);
    if (msg) {
      FUZZ_CHECK(error.empty(), "relayed a message and set an error: %s", error.c_str());
      FUZZ_CHECK(msg->type == "OFFER" || msg->type == "ANSWER" || msg->type == "CANDIDATE" || msg->type == "LEAVE" ||
                     msg->type == "EXPIRE",
                 "relayed a message of type %s", msg->type.c_str());
      FUZZ_CHECK(!msg->src.empty(), "relayed a message without src");
      FUZZ_CHECK(link.registered(), "relayed a message while %s", toString(link.state()));
      // What the kernel does next with it.
      std::string nodeId = link.nodeIdOf(msg->src);
      FUZZ_CHECK(nodeId.empty() || isValidNodeId(nodeId), "nodeIdOf gave an invalid id");
    }

    if (control & 0x80) {
      std::string listError;
      for (const auto& [nodeId, serverId] : link.roomMembers(text, &listError)) {
        FUZZ_CHECK(isValidNodeId(nodeId), "a listed member has an invalid id");
        FUZZ_CHECK(nodeId != kNodeId, "this node listed as a member of its own room");
        FUZZ_CHECK(link.nodeIdOf(serverId) == nodeId, "nodeIdOf(%s) is not %s", serverId.c_str(), nodeId.c_str());
      }
    }

    // Time moves on; the host's timer fires at each deadline on the way.
    const Millis target = now + kAdvance[control & 15] + ((control & 0x10) ? 0.5 : 0);
    for (int spins = 0; spins < 64; ++spins) {
      std::optional<Millis> next = link.nextTimeout();
      if (!next || *next > target) break;
      now = std::max(now, *next);
      actions = {};
      link.onTimeout(now, actions);
      checkActions(link, actions);
        checkTimeout(link, now);
    }
    now = target;
    actions = {};
    link.onTimeout(now, actions);
    checkActions(link, actions);
    checkTimeout(link, now);
  }
  return 0;
}
