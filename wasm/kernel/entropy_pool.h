// EntropyPool: the host's CSPRNG bytes, for the kernel's secrets and nonces
// (the key of the tables that hold peers' keys, the password challenges).
// The kernel draws no randomness of its own; when the pool runs low it asks
// the host for more with an EntropyWanted output.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "host/host_outputs.h"

namespace pc {

class EntropyPool {
 public:
  static constexpr size_t kLow = 256;        // below this the pool asks for more
  static constexpr uint32_t kRefill = 1024;  // and this much

  void add(const uint8_t* data, size_t size);
  // n bytes, or nullopt if the pool holds fewer (it has then asked for more).
  std::optional<std::string> take(size_t n, std::deque<Output>& outputs);

 private:
  void ask(std::deque<Output>& outputs);

  std::string bytes_;
  bool wanted_ = false;  // an EntropyWanted is out and not yet answered
};

}  // namespace pc
