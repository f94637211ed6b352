#include "wire/fragment_assembler.h"

namespace pc::wire {

void FragmentAssembler::reset() {
  expected_ = 0;
  count_ = 0;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

FragmentAssembler::Result FragmentAssembler::add(const Fragment& f, std::vector<uint8_t>* frame) {
  bool starts = f.index == 0;
  bool continues = expected_ != 0 && f.messageId == messageId_ && f.index == expected_ && f.count == count_;
  if (!starts && !continues) {
    reset();
    return Result::Rejected;
  }
  if (starts) {
    bool interrupted = expected_ != 0;
    reset();
    if (interrupted) return Result::Rejected;
    messageId_ = f.messageId;
    count_ = f.count;
  }
  if (buffer_.size() + f.bytes.size() > maxFrameBytes_) {
    reset();
    return Result::Rejected;
  }
  buffer_.insert(buffer_.end(), f.bytes.begin(), f.bytes.end());
  expected_ = f.index + 1;
  if (expected_ < count_) return Result::Incomplete;
  *frame = std::move(buffer_);
  reset();
  return Result::Complete;
}

}  // namespace pc::wire
