#!/usr/bin/env bash
# The sync simulation for longer: `bash scripts/soak.sh [SEEDS] [FIRST]` runs SEEDS
# seeds (10,000 by default) from FIRST (by default, seeds from the clock, which no
# run tried before) in a release build. A failure prints its seed and the command
# that replays it.
set -euo pipefail
cd "$(dirname "$0")/.."
export SIM_SEEDS="${1:-10000}"
export SIM_FIRST="${2:-clock}"
cargo test --release -p tributary-server --test simulation every_acknowledged -- --nocapture
