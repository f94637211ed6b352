#!/usr/bin/env bash
# Builds the kernel with Emscripten and assembles dist/: the embind module,
# its .wasm, and the JavaScript glue with its type declarations.
set -euo pipefail
cd "$(dirname "$0")/.."

# Emscripten's optimizer needs acorn, which Debian installs here.
export NODE_PATH="/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}"

pkg_version=$(node -p "require('./package.json').version")
glue_version=$(sed -n "s/^export const VERSION = '\(.*\)';/\1/p" js-glue/version.js)
if [ "$pkg_version" != "$glue_version" ]; then
  echo "build: js-glue/version.js says $glue_version but package.json says $pkg_version" >&2
  exit 1
fi

# --profiling keeps the kernel's function names in the .wasm (same code,
# optimized alike), for CPU profiles such as the benches' --profile.
wasm_dir=build/wasm
profiling=OFF
if [ "${1:-}" = "--profiling" ]; then
  wasm_dir=build/wasm-profiling
  profiling=ON
fi

emcmake cmake -S . -B "$wasm_dir" -DCMAKE_BUILD_TYPE=Release -DPEERCOMPUTE_PROFILING=$profiling >/dev/null
cmake --build "$wasm_dir" -j"$(nproc)"

rm -rf dist
mkdir -p dist
cp -r js-glue/. dist/
# The host interface's JS end (output decoder, batch writers), generated from
# wasm/host/host_interface.json into dist/host/, where js-glue imports it.
node scripts/generate-host-interface.mjs --js dist
cp "$wasm_dir/peercompute-core.js" "$wasm_dir/peercompute-core.wasm" dist/
# The kernel's rules and its status before init, read from the module just
# built, into dist/rules/ (see scripts/generate-kernel-rules.mjs).
node scripts/generate-kernel-rules.mjs dist
# What the package ships for apps: minified, with source maps (dist/bundle/).
node scripts/bundle-package.mjs
echo "build: dist/ ready ($(du -sh dist | cut -f1))"
