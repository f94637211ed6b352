#!/usr/bin/env bash
# Builds the kernel natively and runs the GoogleTest suite through ctest:
# once optimized, and once under AddressSanitizer and UBSan, which turn a
# use-after-free or an overflow into a failing test instead of luck.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native -j"$(nproc)"
ctest --test-dir build/native --output-on-failure -j"$(nproc)"

cmake -S . -B build/native-sanitized -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPEERCOMPUTE_SANITIZE=ON >/dev/null
cmake --build build/native-sanitized -j"$(nproc)"
# max_free_fill_size makes freed memory read as garbage, so a dangling read fails loudly.
ASAN_OPTIONS=max_free_fill_size=65536:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/native-sanitized --output-on-failure -j"$(nproc)"
