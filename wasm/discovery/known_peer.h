// KnownPeer: a node of the room this node has heard of, with or without a
// connection: who it is (its incarnation), where signals reach it, and when
// to dial it again after a connection failed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "time/millis.h"

namespace pc {

struct KnownPeer {
  std::string id;
  uint64_t incarnation = 0;  // of the peer, from its signals
  Millis discoveredAt = 0;
  Millis lastAnnouncedAt = 0;  // last signal from the peer itself
  uint32_t failedDials = 0;    // since the last connection that worked
  Millis nextDialAt = 0;       // while without a connection after a failure
  Millis failedAt = 0;         // when the last connection failed
  // When the peer dialed us: the counter of its signal that opened our half
  // of the connection (0 when we dialed, or no connection is pending).
  uint64_t openedBySignal = 0;
  // Its address on each route it was heard on, by the route's index in the
  // discovery engine; the most preferred route it was heard on is the one
  // signals to it take, and the only one that speaks for its connection.
  std::vector<std::optional<std::string>> addresses;

  std::optional<size_t> route() const {
    for (size_t i = 0; i < addresses.size(); ++i)
      if (addresses[i]) return i;
    return std::nullopt;
  }
  const std::optional<std::string>& addressOn(size_t route) const {
    static const std::optional<std::string> none;
    return route < addresses.size() ? addresses[route] : none;
  }
  void heardOn(size_t route, std::string address) {
    if (addresses.size() <= route) addresses.resize(route + 1);
    addresses[route] = std::move(address);
  }
};

}  // namespace pc
