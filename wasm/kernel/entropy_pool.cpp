#include "kernel/entropy_pool.h"

namespace pc {

void EntropyPool::add(const uint8_t* data, size_t size) {
  bytes_.append(reinterpret_cast<const char*>(data), size);
  if (bytes_.size() >= kLow) wanted_ = false;
}

std::optional<std::string> EntropyPool::take(size_t n, std::deque<Output>& outputs) {
  if (bytes_.size() < n) {
    ask(outputs);
    return std::nullopt;
  }
  std::string out = bytes_.substr(bytes_.size() - n);
  bytes_.resize(bytes_.size() - n);
  if (bytes_.size() < kLow) ask(outputs);
  return out;
}

void EntropyPool::ask(std::deque<Output>& outputs) {
  if (wanted_) return;
  wanted_ = true;
  outputs.push_back(EntropyWanted{kRefill});
}

}  // namespace pc
