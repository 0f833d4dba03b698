#!/usr/bin/env bash
# Installs what building and testing tributary needs, skipping whatever is
# already there: the wasm target, rustfmt/clippy, Chromium, Firefox ESR and
# WebKitGTK with their drivers and Xvfb, wasm-pack, wasm-bindgen-cli (the version
# in Cargo.lock), the npm packages (with the bundlers the package is tried in),
# and the Python peers (the eventsourcing library, BIOMERO) in .venv-peers.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

rustup target list --installed | grep -qx wasm32-unknown-unknown || { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
for component in rustfmt clippy; do
  rustup component list --installed | grep -q "^$component" || { say "adding $component"; rustup component add "$component"; }
done

# The three browser engines the page tests run in, and what drives them: Chromium
# (chromedriver too, for the wasm-bindgen tests), Firefox ESR, and WebKitGTK's
# MiniBrowser with its WebDriver, under Xvfb.
packages=()
have chromium || packages+=(chromium)
have chromedriver || packages+=(chromium-driver)
have firefox-esr || packages+=(firefox-esr)
have WebKitWebDriver || packages+=(webkit2gtk-driver)
have Xvfb || packages+=(xvfb)
if [ ${#packages[@]} -gt 0 ]; then
  say "installing ${packages[*]} (Debian packages)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi
if ! geckodriver --version 2>/dev/null | grep -q '^geckodriver 0\.37\.1'; then
  say "installing geckodriver 0.37.1 (drives Firefox for the wasm-bindgen tests)"
  cargo install --locked geckodriver --version 0.37.1
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

for folder in pkg-config pkg-config/test/bundlers; do
  if [ ! -d $folder/node_modules ] || [ $folder/package-lock.json -nt $folder/node_modules ]; then
    say "installing npm packages in $folder"
    (cd $folder && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
done

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

# The HTTP API tester, in an environment of its own (its dependencies are not the peers').
if ! [ -x .venv-tools/bin/st ] || ! .venv-tools/bin/st --version 2>/dev/null | grep -q 4.32.5; then
  say "installing schemathesis (.venv-tools)"
  [ -x .venv-tools/bin/python ] || python3 -m venv .venv-tools
  .venv-tools/bin/pip install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
