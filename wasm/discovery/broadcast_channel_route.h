// BroadcastChannelRoute: the tabs of one browser (or the nodes of one Node.js
// process), through a BroadcastChannel named after the room. A broadcast
// medium: every node on the channel hears every signal, and the kernel keeps
// what is addressed to it. It needs no server at all.
#pragma once

#include "discovery/signal_route.h"

namespace pc {

class BroadcastChannelRoute final : public SignalRoute {
 public:
  static constexpr const char* kName = "broadcast-channel";

  // `roomTag` names the channel, so rooms do not hear one another.
  explicit BroadcastChannelRoute(std::string roomTag);

  void start(Millis now, std::deque<Output>& out) override;
  void stop(std::deque<Output>& out) override;
  bool canSend() const override { return open_; }
  bool broadcasts() const override { return true; }
  void send(const std::string& address, const std::string& text, SignalKind kind, std::deque<Output>& out) override;
  void onOpen(Millis, std::deque<Output>&) override {}
  // A host without BroadcastChannel reports the route closed at once.
  void onClosed(Millis, std::deque<Output>&) override { open_ = false; }
  void onMessage(std::string_view text, Millis now, std::deque<Output>& out, RouteNews& news) override;

 private:
  std::string channel_;
  bool open_ = false;
};

}  // namespace pc
