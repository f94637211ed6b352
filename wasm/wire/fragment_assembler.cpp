#include "wire/fragment_assembler.h"

namespace pc::wire {

void FragmentAssembler::reset() {
  expected_ = 0;
  count_ = 0;
  total_ = 0;
  buffer_.clear();
  buffer_.shrink_to_fit();
}

FragmentAssembler::Result FragmentAssembler::reject(const char* why) {
  rejectedId_ = expected_ != 0 ? messageId_ : rejectedId_;
  reset();
  lastError_ = why;
  return Result::Rejected;
}

FragmentAssembler::Result FragmentAssembler::add(const Fragment& f, std::vector<uint8_t>* frame) {
  bool starts = f.index == 0;
  bool continues = expected_ != 0 && f.messageId == messageId_ && f.index == expected_ && f.count == count_;
  if (!starts && !continues) {
    if (expected_ == 0 && rejectedId_ == f.messageId) return Result::Discarded;
    return reject("fragment out of sequence");
  }
  if (starts) {
    rejectedId_ = f.messageId;  // until it is accepted below
    if (expected_ != 0) return reject("a new fragmented frame began before the last one ended");
    DecodeError error = DecodeError::None;
    const auto* piece = reinterpret_cast<const uint8_t*>(f.bytes.data());
    std::optional<Header> h = peekHeader(piece, f.bytes.size(), limits_, &error);
    if (!h) return reject(error == DecodeError::TooLarge ? "fragmented frame over its type's limit"
                                                         : "first fragment does not start with a frame header");
    if (h->type == FrameType::Fragment) return reject("nested fragment");
    total_ = h->headerBytes + h->bodyBytes;
    if (total_ <= f.bytes.size()) return reject("a frame that fits one piece was fragmented");
    messageId_ = f.messageId;
    count_ = f.count;
    rejectedId_.reset();
  }
  // Grown as pieces arrive, never reserved from the declared length: a
  // forged header would otherwise make us hold memory nobody sends.
  if (f.bytes.size() > total_ - buffer_.size()) return reject("fragments longer than the frame they carry");
  buffer_.insert(buffer_.end(), f.bytes.begin(), f.bytes.end());
  expected_ = f.index + 1;
  if (expected_ < count_) return Result::Incomplete;
  if (buffer_.size() != total_) return reject("fragments shorter than the frame they carry");
  *frame = std::move(buffer_);
  reset();
  return Result::Complete;
}

}  // namespace pc::wire
