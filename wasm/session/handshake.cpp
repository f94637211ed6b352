#include "session/handshake.h"

#include <algorithm>

namespace pc {

const char* toString(Handshake::Step step) {
  switch (step) {
    case Handshake::Step::Listening: return "listening";
    case Handshake::Step::HelloBlocked: return "hello-blocked";
    case Handshake::Step::AwaitingHello: return "awaiting-hello";
    case Handshake::Step::AwaitingProofs: return "awaiting-proofs";
    case Handshake::Step::AwaitingAuth: return "awaiting-auth";
    case Handshake::Step::Done: return "done";
  }
  return "unknown";
}

void Handshake::onChannelOpen(Actions& out) {
  if (initiator_ && step_ == Step::Listening) sendHello(out);
}

// In a room with a password our Hello carries a challenge, which must come
// from the host's randomness (one seen challenge predicts nothing of the
// next); without it the Hello waits.
void Handshake::sendHello(Actions& out) {
  step_ = Step::HelloBlocked;
  if (self_.sealed && challenge_.empty()) {
    out.wantsChallenge = true;
    return;
  }
  out.send = wire::Hello{self_.nodeId, self_.replica, self_.room, challenge_};
  if (theirChallenge_) return afterHellos(out);
  step_ = Step::AwaitingHello;
}

void Handshake::onChallenge(std::string challenge, Actions& out) {
  if (step_ != Step::HelloBlocked || !challenge_.empty()) return;
  challenge_ = std::move(challenge);
  sendHello(out);
}

Handshake::Outcome Handshake::onHello(const wire::Hello& hello, Actions& out) {
  if (theirChallenge_) return {"duplicate Hello", Then::GoOn, {}};
  if (hello.nodeId != peerId_ || hello.room != self_.room)
    return {"Hello does not match the peer's id or room", Then::Drop, "handshake mismatch"};
  if (self_.sealed != !hello.challenge.empty() || (self_.sealed && hello.challenge.size() != 16))
    return {self_.sealed ? "the peer does not use the room password" : "the peer expects a room password", Then::Drop,
            "password mismatch"};
  theirChallenge_ = hello.challenge;
  // The answerer's Hello answers this one; then the handshake goes on.
  if (step_ == Step::Listening) sendHello(out);
  else if (step_ == Step::AwaitingHello) afterHellos(out);
  return {};
}

// Both Hellos are out: without a password the peer is connected; with one,
// the proofs come next, which the host computes.
void Handshake::afterHellos(Actions& out) {
  if (!self_.sealed) {
    step_ = Step::Done;
    out.established = true;
    return;
  }
  step_ = Step::AwaitingProofs;
  out.requestProofs = true;
}

Handshake::Outcome Handshake::onProofs(std::string proof, std::string expected, Actions& out) {
  if (step_ != Step::AwaitingProofs) return {};
  if (proof.empty() || expected.empty()) return {"", Then::Drop, "password proof could not be computed"};
  expectedProof_ = std::move(expected);
  ourProof_ = std::move(proof);
  step_ = Step::AwaitingAuth;
  if (initiator_) out.sendAuth = wire::Auth{*ourProof_};
  if (receivedProof_) return verify(out);
  return {};
}

Handshake::Outcome Handshake::onAuth(std::string proof, Actions& out) {
  if (receivedProof_) return {"duplicate Auth", Then::GoOn, {}};
  receivedProof_ = std::move(proof);
  if (step_ == Step::AwaitingAuth) return verify(out);
  return {};
}

Handshake::Outcome Handshake::verify(Actions& out) {
  // Constant time: every byte is compared whatever the first difference.
  const std::string& a = *expectedProof_;
  const std::string& b = *receivedProof_;
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  // As any failed connection: the dialer backs off before it tries again.
  if (diff != 0) return {"wrong password proof", Then::Fail, "wrong room password"};
  authenticated_ = true;
  if (!initiator_) out.sendAuth = wire::Auth{*ourProof_};
  step_ = Step::Done;
  out.established = true;
  return {};
}

}  // namespace pc
