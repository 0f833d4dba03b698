#!/usr/bin/env bash
# Every check, in order of speed: format, lints, native tests (the core, and the
# server over real HTTP with the Python peers; then on PostgreSQL), the wasm32 build, the core's
# contract suites in headless Chromium, then the release package in pages (with
# the server binary: sync, and convergence under faults).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
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
step "browser tests (headless Chromium)"
# wasm-bindgen-test-runner serves the test page with tiny_http, which has left a
# page at "Loading scripts..." by never answering one of its module requests (no
# test had started). Only when the last suite's page never started is the run
# tried again; a suite that started and failed or hung fails the step.
browser_tests() { timeout --kill-after=10 900 wasm-pack test --headless --chrome 2>&1 | tee .tmp/browser-tests.log; }
if ! browser_tests; then
  awk '/Running /{started=0} /^running [0-9]+ tests?/{started=1} END{exit started}' .tmp/browser-tests.log || exit 1
  echo "browser tests: the last suite's page never started (the runner's server, not a test): once more"
  browser_tests
fi
step "release package in a page (headless Chromium)"
bash scripts/build.sh
(cd pkg-config && npm test)
