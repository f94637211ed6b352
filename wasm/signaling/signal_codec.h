// The signaling envelope: small JSON messages that let peers find each other
// and carry WebRTC's SDP and ICE, which stay opaque to the kernel. The same
// envelope travels over every signaling transport. See wasm/wire/PROTOCOL.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pc {

enum class SignalType { Announce, Leave, Rtc };

struct Signal {
  SignalType type = SignalType::Announce;
  std::string room;
  std::string from;
  std::string to;    // empty: addressed to every node in the room
  std::string data;  // Rtc only: the WebRTC payload as JSON text
  // Counts the sender's starts. Signals travel with independent delays, so
  // this is how a receiver tells a restarted peer from a stale message.
  uint64_t incarnation = 0;
  // The sender's clock when it sent the signal, and its count of signals in
  // this incarnation: together they let a receiver refuse a replayed signal
  // (PROTOCOL.md, section 1).
  uint64_t sentAt = 0;
  uint64_t counter = 0;
};

constexpr size_t kMaxSignalBytes = 64 * 1024;

// Node ids are what PeerJS servers accept, so one id works on every route:
// 1-64 of these characters.
constexpr const char* kNodeIdCharacters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
bool isValidNodeId(std::string_view id);

std::string encodeSignal(const Signal& s);
std::optional<Signal> decodeSignal(std::string_view text, std::string* error);

}  // namespace pc
