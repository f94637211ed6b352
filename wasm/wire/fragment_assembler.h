// Reassembles a frame that a peer split into Fragment frames. A channel is
// ordered, so the fragments of one frame arrive together and in order;
// anything else is a protocol error and drops the partial frame.
//
// The first piece must begin with the inner frame's header, so the frame's
// type and length are checked against that type's limit before any more of
// it is held, and the pieces must add up to exactly the declared length.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "wire/frame_codec.h"

namespace pc::wire {

class FragmentAssembler {
 public:
  explicit FragmentAssembler(Limits limits = {}) : limits_(limits) {}

  // Discarded: a later piece of a frame already rejected, which is not a
  // fault of its own (one bad frame counts once).
  enum class Result { Incomplete, Complete, Rejected, Discarded };
  // On Complete, `frame` holds the whole encoded frame.
  Result add(const Fragment& f, std::vector<uint8_t>* frame);
  bool inProgress() const { return expected_ != 0; }
  // Why the last add() was rejected.
  const char* lastError() const { return lastError_; }

 private:
  Result reject(const char* why);
  void reset();

  Limits limits_;
  uint64_t messageId_ = 0;
  std::optional<uint64_t> rejectedId_;  // the frame whose remaining pieces are discarded
  uint64_t expected_ = 0;  // index of the next fragment; 0 when idle
  uint64_t count_ = 0;
  size_t total_ = 0;  // the whole frame's size, from its header
  std::vector<uint8_t> buffer_;
  const char* lastError_ = "";
};

}  // namespace pc::wire
