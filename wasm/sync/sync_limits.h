// How much sync work one peer may cause, and how it is sliced (PROTOCOL.md,
// section 4, "Budgets").
#pragma once

#include <cstddef>

#include "time/millis.h"

namespace pc {

constexpr Millis kSyncAnswerIntervalMs = 1000;  // a peer gets at most one sync answer a second
constexpr Millis kSyncAckTimeoutMs = 10'000;    // an answer it never acknowledged stops blocking the next
// Anti-entropy frames a peer may send at once, and then per second: a walk
// from the root to every leaf of two wholly different states takes about a
// hundred frames each way.
constexpr double kReconcileBurst = 256;
constexpr double kReconcilePerSecond = 64;
constexpr size_t kChunkWrites = 16'384;          // writes per sync frame
constexpr size_t kChunkBytes = size_t{1} << 20;  // about this many bytes of keys and values per frame
constexpr size_t kFingerprintSlice = 8192;       // keys hashed per slice (a few ms in wasm)
constexpr Millis kFingerprintSliceGapMs = 4;

}  // namespace pc
