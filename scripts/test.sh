#!/usr/bin/env bash
# Every check, in order of speed: format, lints, native tests (the core, and the
# server over real HTTP with the Python peers; then on PostgreSQL), the wasm32 build, the core's
# contract suites in headless Chromium and Firefox, then the release package in Node
# and in pages (with the server binary: sync, and convergence under faults; bundled
# apps; workers) in Chromium, Firefox and WebKit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# Each step says how long the one before it took.
step() {
  [ -n "${step_name:-}" ] && printf '\033[2m(%s: %d s)\033[0m\n' "$step_name" $((SECONDS - step_started))
  step_name="$*" step_started=$SECONDS
  printf '\n\033[1m== %s\033[0m\n' "$*"
}
# A check run in the background, its output kept in .tmp/NAME.log; `joined` waits
# for each one named, shows the end of its log (all of it if it failed) and its time,
# and fails if any of them failed.
declare -A pids started
background() { local name=$1; shift; ("$@") > ".tmp/$name.log" 2>&1 & pids[$name]=$!; started[$name]=$SECONDS; }
joined() {
  local failed=0 name
  for name in "$@"; do
    if wait "${pids[$name]}"; then tail -n 12 ".tmp/$name.log"; else cat ".tmp/$name.log"; echo "$name FAILED"; failed=1; fi
    printf '\033[2m(%s: %d s, alongside the others)\033[0m\n' "$name" $((SECONDS - started[$name]))
  done
  return $failed
}
mkdir -p .tmp
export TMPDIR="$PWD/.tmp"            # chromedriver leaves a profile per run: keep them here
trap 'rm -rf "$PWD/.tmp"' EXIT
export WASM_BINDGEN_TEST_TIMEOUT=300

step "cargo fmt --check";        cargo fmt --check
step "cargo clippy (native)";    cargo clippy --workspace --all-targets --features tributary-server/postgres-tests -- -D warnings
step "cargo clippy (wasm32)";    cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings
step "native tests";             cargo test --workspace
step "PostgreSQL tests (a throwaway cluster, scripts/postgres.sh)"
[ -f .postgres-test ] || trap 'rm -rf "$PWD/.tmp"; bash scripts/postgres.sh stop' EXIT   # stop it only if started here
source scripts/postgres.sh
cargo test -p tributary-server --features postgres-tests --lib --test postgres_contract --test postgres_server --test postgres_kill \
  --test postgres_sync --test postgres_tenants --test push_groups --test postgres_connections
step "wasm32 build";             cargo check --target wasm32-unknown-unknown
step "cargo doc, without a warning (native and wasm32)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p tributary -p tributary-server
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p tributary --target wasm32-unknown-unknown
step "browser tests: the core's suites in headless Chromium and Firefox, at once"
# wasm-bindgen-test-runner serves the test page with tiny_http, which has left a
# page at "Loading scripts..." by never answering one of its module requests (no
# test had started). Only when the last suite's page never started is the run
# tried again; a suite that started and failed or hung fails the step.
browser_tests() {
  local log=".tmp/core-$1.log"
  timeout --kill-after=10 900 wasm-pack test --headless "--$1" > "$log" 2>&1 && return 0
  awk '/Running /{started=0} /^running [0-9]+ tests?/{started=1} END{exit started}' "$log" || return 1
  echo "browser tests: the last suite's page never started (the runner's server, not a test): once more" | tee -a "$log"
  timeout --kill-after=10 900 wasm-pack test --headless "--$1" >> "$log" 2>&1
}
background core-chrome browser_tests chrome
background core-firefox browser_tests firefox
joined core-chrome core-firefox
step "release package: build";   bash scripts/build.sh
step "release wasm: within its size budget"; node scripts/size.mjs --check
step "HTTP API against its OpenAPI description (schemathesis)"; bash scripts/openapi.sh
step "release package: its types and the README's examples"; (cd pkg-config && npm run test:types)
step "release package in Node";  (cd pkg-config && npm run test:node)
# The page tests, in each engine the package is for (test/browser.mjs): Chromium
# and Firefox at once, then WebKit.
pages() { cd pkg-config && BROWSER=$1 npm run test:pages; }
step "release package in pages: Chromium and Firefox at once"
background pages-chromium pages chromium
background pages-firefox pages firefox
joined pages-chromium pages-firefox
# Beside WebKit, which keeps one core busy, the sync simulation tries seeds no run
# tried before (niced: the pages go first).
step "release package in pages: WebKit, and 1,500 new seeds of the sync simulation"
background pages-webkit pages webkit
background simulation nice -n 19 env SIM_SEEDS=1500 SIM_FIRST=clock \
  cargo test -q -p tributary-server --test simulation every_acknowledged -- --nocapture
joined pages-webkit simulation
step "done"
