// Handshake: what happens on a new data channel before anything else flows
// (PROTOCOL.md, sections 2 and 3). The dialer sends its Hello; the answerer
// answers with its own. Without a room password the peer is then connected.
// With one, each side's Hello carries a challenge from the host's CSPRNG, the
// host computes the two proofs (the password never enters the kernel), the
// dialer proves first, and the answerer proves only once it has checked the
// dialer's proof, so it never hands a proof (which could be attacked offline)
// to a peer that has not shown it knows the password.
//
// A pure state machine: inputs are the events below, and each returns what
// the session must do (Actions) or why the peer is refused (Outcome).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wire/frame_codec.h"

namespace pc {

class Handshake {
 public:
  enum class Step {
    Listening,       // nothing sent: the dialer's channel is not open, or the answerer waits for the dialer's Hello
    HelloBlocked,    // our Hello waits for the host's randomness (its challenge)
    AwaitingHello,   // ours is out; theirs has not come
    AwaitingProofs,  // both Hellos are out; the host computes the proofs
    AwaitingAuth,    // we hold the proofs; the peer's has not come (or not been checked)
    Done,
  };

  // What this node says in its Hello.
  struct Self {
    std::string nodeId;
    uint64_t replica = 0;
    std::string room;
    bool sealed = false;  // a room password is in use
  };

  // What the session does next, in this order.
  struct Actions {
    std::optional<wire::Frame> send;      // our Hello
    bool wantsChallenge = false;          // no randomness yet: call onChallenge() when there is
    bool requestProofs = false;           // ask the host for the proofs (AuthenticatePeer)
    std::optional<wire::Frame> sendAuth;  // our proof
    bool established = false;             // the peer is connected
  };
  // What becomes of the connection after an event.
  enum class Then {
    GoOn,
    Drop,  // the peer is not who or what it must be: forget it
    Fail,  // it does not know the password: the connection failed (the dialer backs off)
  };
  struct Outcome {
    std::string rejected;  // not empty: the peer's frame is counted as refused, for this reason
    Then then = Then::GoOn;
    std::string reason;  // why the connection ends
  };

  Handshake() = default;
  Handshake(Self self, std::string peerId, bool initiator)
      : self_(std::move(self)), peerId_(std::move(peerId)), initiator_(initiator),
        step_(Step::Listening) {}

  Step step() const { return step_; }
  bool done() const { return step_ == Step::Done; }
  // The peer proved the room password.
  bool authenticated() const { return authenticated_; }
  // The frame the peer may send now: Hello, then Auth.
  wire::FrameType expects() const { return theirChallenge_ ? wire::FrameType::Auth : wire::FrameType::Hello; }
  // The challenges, for the host's proof computation.
  const std::string& ourChallenge() const { return challenge_; }
  const std::string& theirChallenge() const { return *theirChallenge_; }

  // The channel opened. The dialer speaks first: Chromium may lose an
  // answerer's message sent as soon as its channel opens.
  void onChannelOpen(Actions& out);
  // Randomness for our challenge (16 bytes), when wantsChallenge was set.
  void onChallenge(std::string challenge, Actions& out);
  Outcome onHello(const wire::Hello& hello, Actions& out);
  // The host's proofs: ours, and the one expected of the peer. Empty: the
  // host could not compute them.
  Outcome onProofs(std::string proof, std::string expected, Actions& out);
  Outcome onAuth(std::string proof, Actions& out);

 private:
  void sendHello(Actions& out);
  void afterHellos(Actions& out);
  Outcome verify(Actions& out);

  Self self_;
  std::string peerId_;
  bool initiator_ = false;
  Step step_ = Step::Listening;
  std::string challenge_;                     // ours
  std::optional<std::string> theirChallenge_;  // set once their Hello came
  std::optional<std::string> expectedProof_, ourProof_, receivedProof_;
  bool authenticated_ = false;
};

const char* toString(Handshake::Step step);

}  // namespace pc
