#!/usr/bin/env bash
# Load figures, loopback only, bounded in time and count: N simulated devices
# pushing and pulling through real tributary-server processes (scripts/load.mjs),
# next to the Python eventsourcing library writing the same kind of events into
# the same kind of database in the same run (tests/peers/python_load.py).
#   bash scripts/load.sh [--devices 8] [--seconds 10] [--max-events 200000] [--batch 50]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
[ -x target/release/tributary-server ] || cargo build --release -p tributary-server

devices=8 seconds=10 max=200000 batch=50
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --devices) devices=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --max-events) max=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

node scripts/load.mjs "${args[@]}"
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
PERSISTENCE_MODULE=eventsourcing.sqlite SQLITE_DBNAME="$folder/python.sqlite" \
  .venv-peers/bin/python tests/peers/python_load.py "Python eventsourcing, SQLite" "$devices" "$seconds" "$max" "$batch"
