#!/usr/bin/env bash
# Benchmarks (figures, not tests): builds the package, then prints how fast a
# view catches up with 10,000 and 100,000 events next to raw IndexedDB.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
node pkg-config/bench/all.mjs
