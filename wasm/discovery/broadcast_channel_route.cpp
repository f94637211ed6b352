#include "discovery/broadcast_channel_route.h"

namespace pc {

BroadcastChannelRoute::BroadcastChannelRoute(std::string roomTag)
    : SignalRoute(kName), channel_("peercompute:" + std::move(roomTag)) {}

// The channel opens as the host creates it, so signals may follow at once.
void BroadcastChannelRoute::start(Millis, std::deque<Output>& out) {
  if (open_) return;
  open_ = true;
  out.push_back(RouteOpen{name(), channel_});
}

void BroadcastChannelRoute::stop(std::deque<Output>& out) {
  if (!open_) return;
  open_ = false;
  out.push_back(RouteClose{name()});
}

void BroadcastChannelRoute::send(const std::string& address, const std::string& text, SignalKind,
                                 std::deque<Output>& out) {
  if (open_) out.push_back(RouteSend{name(), address, text});
}

void BroadcastChannelRoute::onMessage(std::string_view text, Millis, std::deque<Output>&, RouteNews& news) {
  if (open_) news.envelopes.push_back({std::string(), std::string(text)});
}

}  // namespace pc
