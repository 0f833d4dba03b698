#!/usr/bin/env bash
# Builds the release wasm package into pkg-config/wasm, optimised by the npm
# binaryen's wasm-opt (Debian's is too old: its output fails to load).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/pkg-config/node_modules/.bin:$PATH"
wasm-pack build --release --target web --out-dir pkg-config/wasm --out-name tributary --no-pack
