// SignalRoute: one way signals travel between nodes, seen from the kernel.
//
// The host's transport for a route moves text and knows nothing of it
// (RouteOpen, RouteSend, RouteClose and RouteList in host/host_outputs.h);
// the route decides what goes on it and what what comes off it means. The
// discovery engine speaks to every route through this interface, so a new
// route (a Node.js host's, signals relayed by peers) is a new class and a new
// transport, not an edit of the engine.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/host_outputs.h"
#include "time/millis.h"

namespace pc {

// What a signal is, as far as a route's framing may need to say: a PeerJS
// server relays every kind alike but labels each. In a room with a password
// a route learns nothing of it (Sealed).
enum class SignalKind { Announce, Leave, Offer, Answer, Candidate, Sealed };

// What a route heard, for the discovery engine.
struct RouteNews {
  struct Envelope {
    std::string from;  // the sender's address on the route ("" where the route cannot tell)
    std::string text;
  };
  struct Gone {
    std::string nodeId;
    std::string address;
  };
  std::vector<Envelope> envelopes;  // signals to open (in a password room) and process
  std::vector<Gone> gone;           // members the route says are no longer at that address
  bool listed = false;              // a fresh listing of the route's members came
  std::vector<std::string> errors;  // what was wrong with what came: rejected signals
};

class SignalRoute {
 public:
  explicit SignalRoute(std::string name) : name_(std::move(name)) {}
  virtual ~SignalRoute() = default;
  SignalRoute(const SignalRoute&) = delete;
  SignalRoute& operator=(const SignalRoute&) = delete;

  // The route's name, which the host's transport for it answers to.
  const std::string& name() const { return name_; }

  virtual void start(Millis now, std::deque<Output>& out) = 0;
  virtual void stop(std::deque<Output>& out) = 0;
  // Whether a send now would go out.
  virtual bool canSend() const = 0;
  // A broadcast medium: one send with no address reaches every node the
  // route reaches. Otherwise a route sends to its members' addresses.
  virtual bool broadcasts() const = 0;
  // The members the route knows by address: node id -> address.
  virtual const std::map<std::string, std::string>& members() const { return kNoMembers; }
  // Learns that node `nodeId` is at `address` (from a signal that came from it).
  virtual void learn(const std::string& /*nodeId*/, const std::string& /*address*/) {}
  // Sends `text` to `address` ("" for everyone, on a broadcast medium).
  virtual void send(const std::string& address, const std::string& text, SignalKind kind, std::deque<Output>& out) = 0;
  // Announces to members this node does not know yet are rationed: false
  // when the route's budget for them is spent.
  virtual bool spendAnnounce(Millis /*now*/) { return true; }
  // Whether a signal that came from `address` may speak for node `from`:
  // empty when it may, else why not. *shadowed: the address poses as one the
  // node itself holds.
  virtual std::string checkSender(const std::string& /*address*/, const std::string& /*from*/,
                                  bool* /*shadowed*/) const {
    return {};
  }

  // The host's transport for the route.
  virtual void onOpen(Millis now, std::deque<Output>& out) = 0;
  virtual void onClosed(Millis now, std::deque<Output>& out) = 0;
  virtual void onMessage(std::string_view text, Millis now, std::deque<Output>& out, RouteNews& news) = 0;
  virtual void onListing(bool /*ok*/, std::string_view /*text*/, Millis /*now*/, RouteNews& news) {
    news.errors.push_back("a listing from a route that has none");
  }
  virtual void onTimeout(Millis /*now*/, std::deque<Output>& /*out*/) {}
  virtual std::optional<Millis> nextTimeout() const { return std::nullopt; }

  // For the status; null when there is nothing to say.
  virtual nlohmann::json describe() const { return nullptr; }

 private:
  static inline const std::map<std::string, std::string> kNoMembers{};
  std::string name_;
};

}  // namespace pc
