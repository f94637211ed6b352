// Reassembles a frame that a peer split into Fragment frames. A channel is
// ordered, so the fragments of one frame arrive together and in order;
// anything else is a protocol error and drops the partial frame.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "wire/frame_codec.h"

namespace pc::wire {

class FragmentAssembler {
 public:
  explicit FragmentAssembler(size_t maxFrameBytes) : maxFrameBytes_(maxFrameBytes) {}

  enum class Result { Incomplete, Complete, Rejected };
  // On Complete, `frame` holds the whole encoded frame.
  Result add(const Fragment& f, std::vector<uint8_t>* frame);
  bool inProgress() const { return expected_ != 0; }

 private:
  void reset();

  size_t maxFrameBytes_;
  uint64_t messageId_ = 0;
  uint64_t expected_ = 0;  // index of the next fragment; 0 when idle
  uint64_t count_ = 0;
  std::vector<uint8_t> buffer_;
};

}  // namespace pc::wire
