// What the node refused, and why: each engine counts its own kind, and every
// engine's last refusal is kept in one place for the status.
#pragma once

#include <cstdint>
#include <string>

namespace pc {

struct NodeCounters {
  uint64_t rejectedFrames = 0;   // malformed or out-of-protocol bytes from peers
  uint64_t rejectedSignals = 0;  // malformed signaling messages
  // Of those, signals from a "<tag>.<id>.<n>" server id while "<tag>.<id>" was
  // registered: an impostor, or a reloaded page whose old socket lingers.
  uint64_t shadowedSignals = 0;
  uint64_t rejectedWrites = 0;   // app writes refused for bad input
  uint64_t futureWrites = 0;     // peers' writes refused for a stamp too far ahead of our clock
  uint64_t repairedWrites = 0;   // writes anti-entropy brought that delta sync had missed
  uint64_t reconciliations = 0;  // anti-entropy rounds begun
  uint64_t rejectedResults = 0;  // compute results refused: for units not given, malformed, oversized
  std::string lastRejection;

  // Rejections name what was wrong in the kernel's own words, and only ids the
  // kernel has checked: never bytes a peer chose. And they stay short.
  void noteRejection(std::string why) {
    constexpr size_t kMaxRejectionBytes = 256;
    if (why.size() > kMaxRejectionBytes) {
      size_t cut = kMaxRejectionBytes;
      while (cut > 0 && (static_cast<unsigned char>(why[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
      why.resize(cut);
    }
    lastRejection = std::move(why);
  }
};

}  // namespace pc
