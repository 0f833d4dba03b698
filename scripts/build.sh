#!/usr/bin/env bash
# Builds the sync server and the npm package as it is published, and installs it into the demo:
#   0. the server binary, target/release/tributary-server,
#   1. the release wasm (opt-level "z": size counts more than speed in a browser, and
#      only here, not in the native server; then the npm binaryen's wasm-opt, as Debian's
#      is too old: its output fails to load) into pkg-config/wasm,
#   2. the TypeScript facade into pkg-config/dist,
#   3. `npm pack` into target/npm/tributary-<version>.tgz,
#   4. that tarball into www/node_modules, as any app would install it,
#   5. the dashboard's service worker (www/sw.js), which keeps its files for offline use.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/pkg-config/node_modules/.bin:$PATH"

cargo build --release -p tributary-server
rm -rf pkg-config/wasm/snippets   # wasm-pack leaves snippets of earlier builds there, and npm would pack them
CARGO_PROFILE_RELEASE_OPT_LEVEL=z wasm-pack build --release --target web --out-dir pkg-config/wasm --out-name tributary --no-pack
rm -f pkg-config/wasm/.gitignore
node scripts/size.mjs
(cd pkg-config && rm -rf dist && tsc -p tsconfig.json)
mkdir -p target/npm
tarball=$(cd pkg-config && npm pack --pack-destination ../target/npm --silent --loglevel=error | tail -n 1)
echo "[build] packed target/npm/$tarball"
rm -rf www/node_modules/tributary
(cd www && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
node scripts/offline.mjs
