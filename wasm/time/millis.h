// Time as the kernel takes it: every input carries "now", milliseconds since
// the epoch from the host's clock, possibly fractional. The kernel reads no
// clock of its own.
#pragma once

namespace pc {

using Millis = double;

}  // namespace pc
