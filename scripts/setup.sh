#!/usr/bin/env bash
# Installs what building and testing tributary needs, skipping whatever is
# already there: the wasm target, rustfmt/clippy, Chromium and chromedriver,
# wasm-pack, wasm-bindgen-cli (the version in Cargo.lock), the npm packages, and
# the Python peers (the eventsourcing library) in .venv-peers.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

rustup target list --installed | grep -qx wasm32-unknown-unknown || { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
for component in rustfmt clippy; do
  rustup component list --installed | grep -q "^$component" || { say "adding $component"; rustup component add "$component"; }
done

if ! have chromium || ! have chromedriver; then
  say "installing Chromium and chromedriver (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver
fi

if ! wasm-pack --version 2>/dev/null | grep -q ' 0\.15\.1$'; then
  say "installing wasm-pack 0.15.1"
  cargo install --locked wasm-pack --version 0.15.1
fi

bindgen=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen$"; then
  say "installing wasm-bindgen-cli $bindgen (matching Cargo.lock)"
  # --locked fails here: one of its locked dependencies is newer than the registry copy.
  cargo install wasm-bindgen-cli --version "$bindgen"
fi

if [ ! -d pkg-config/node_modules ] || [ pkg-config/package-lock.json -nt pkg-config/node_modules ]; then
  say "installing npm packages"
  (cd pkg-config && npm ci --no-audit --no-fund --loglevel=error)
fi

# The Python peers: the eventsourcing library (with psycopg, for eventsourcing.postgres),
# and BIOMERO's workflow tracker with its views (installed without its OMERO/Slurm
# dependencies, which the tracker does not use).
if ! .venv-peers/bin/python -c 'import eventsourcing, cryptography, biomero.views, eventsourcing_sqlalchemy, psycopg, psycopg_pool' 2>/dev/null; then
  say "making the Python peers' virtual environment (.venv-peers)"
  [ -x .venv-peers/bin/python ] || python3 -m venv .venv-peers
  pip=(.venv-peers/bin/pip install --quiet --disable-pip-version-check)
  "${pip[@]}" "eventsourcing[cryptography]==9.5.6" sqlalchemy==2.0.50 eventsourcing_sqlalchemy==1.0.1 fabric==3.2.3 \
    biomero-schema==0.1 psycopg2-binary "psycopg[binary,pool]==3.3.9" requests requests-cache pyyaml importlib_resources
  "${pip[@]}" --no-deps biomero==2.8.3
fi
