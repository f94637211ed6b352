// PeerServerRoute: signals relayed by an unmodified PeerJS server, over the
// PeerServerLink session (signaling/peer_server_link.h). The route keeps the
// room's directory (node id -> server id) from the server's listings, checks
// that each relayed signal comes from the server id of the node it claims,
// and rations announces to members this node does not know yet.
#pragma once

#include <set>

#include "discovery/signal_route.h"
#include "discovery/token_bucket.h"
#include "signaling/peer_server_link.h"

namespace pc {

class PeerServerRoute final : public SignalRoute {
 public:
  static constexpr const char* kName = "peerjs-server";

  PeerServerRoute(PeerServerConfig config, std::string roomTag, std::string nodeId, uint64_t seed);

  void start(Millis now, std::deque<Output>& out) override;
  void stop(std::deque<Output>& out) override;
  bool canSend() const override { return link_.registered(); }
  bool broadcasts() const override { return false; }
  const std::map<std::string, std::string>& members() const override { return directory_; }
  void learn(const std::string& nodeId, const std::string& address) override { directory_[nodeId] = address; }
  void send(const std::string& address, const std::string& text, SignalKind kind, std::deque<Output>& out) override;
  bool spendAnnounce(Millis now) override { return announces_.spend(now); }
  std::string checkSender(const std::string& address, const std::string& from, bool* shadowed) const override;

  void onOpen(Millis now, std::deque<Output>& out) override;
  void onClosed(Millis now, std::deque<Output>& out) override;
  void onMessage(std::string_view text, Millis now, std::deque<Output>& out, RouteNews& news) override;
  void onListing(bool ok, std::string_view text, Millis now, RouteNews& news) override;
  void onTimeout(Millis now, std::deque<Output>& out) override;
  std::optional<Millis> nextTimeout() const override { return link_.nextTimeout(); }
  nlohmann::json describe() const override;

  const PeerServerLink& link() const { return link_; }

 private:
  void flush(PeerServerLink::Actions& actions, std::deque<Output>& out);

  PeerServerLink link_;
  // Room members registered on the server: node id -> server id.
  std::map<std::string, std::string> directory_;
  // The server ids of the room's last listing: "<tag>.<id>.<n>" is taken for
  // node <id> only where "<tag>.<id>" itself is not registered.
  std::set<std::string> listed_;
  // Announces through the server (each sealed, in a password room): a burst, then per second.
  TokenBucket announces_{32, 8};
};

}  // namespace pc
