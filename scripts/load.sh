#!/usr/bin/env bash
# Load figures, loopback only, bounded in time and count: N simulated devices
# pushing and pulling through real tributary-server processes (the generator is
# server/examples/load.rs),
# next to the Python eventsourcing library writing the same kind of events into
# the same kind of database in the same run (tests/peers/python_load.py).
#   bash scripts/load.sh [--devices 8] [--seconds 10] [--max-events 200000] [--batch 50]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
cargo build --release -p tributary-server --bin tributary-server --example load

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

# PostgreSQL: a throwaway cluster (stopped at the end if started here).
started_postgres=no
[ -f .postgres-test ] || started_postgres=yes
source scripts/postgres.sh
folder=$(mktemp -d)
trap 'rm -rf "$folder"; [ "$started_postgres" = no ] || bash scripts/postgres.sh stop' EXIT

# Pushes only (the work the Python figures below measure), then with every
# device also pulling everyone's events; each figure line is kept for the ratios.
figures="$folder/figures.txt"
target/release/examples/load "${args[@]}" --pull no --postgres "$TRIBUTARY_TEST_POSTGRES" | tee "$folder/pushes.txt"
target/release/examples/load "${args[@]}" --pull yes --postgres "$TRIBUTARY_TEST_POSTGRES"
# The first figure line's events/s (stdin).
events_per_second() { grep -oE '[0-9]+ ev/s' | head -n 1 | cut -d' ' -f1; }
python_load() { .venv-peers/bin/python tests/peers/python_load.py "$1" "$2" "$seconds" "$max" "$batch"; }   # label, threads
PERSISTENCE_MODULE=eventsourcing.sqlite SQLITE_DBNAME="$folder/python.sqlite" python_load "Python eventsourcing, SQLite" "$devices" | tee -a "$figures"
pg=${TRIBUTARY_TEST_POSTGRES#postgres://postgres@}   # 127.0.0.1:PORT/tributary
python_postgres() {   # label, threads, run: a fresh schema each time, as each tributary run has fresh tables
  local schema="python_load_$$_$3"
  psql -q "$TRIBUTARY_TEST_POSTGRES" -c "CREATE SCHEMA $schema"
  PERSISTENCE_MODULE=eventsourcing.postgres POSTGRES_HOST=${pg%%:*} POSTGRES_PORT=$(echo "$pg" | cut -d: -f2 | cut -d/ -f1) \
    POSTGRES_DBNAME=${pg##*/} POSTGRES_USER=postgres POSTGRES_PASSWORD="" POSTGRES_SCHEMA="$schema" python_load "$1" "$2"
}
# The Python library at its best: its saves share one interpreter, so more
# threads are not faster (here it peaked at 2). Each run's line goes to stderr,
# the fastest to stdout.
python_best() {   # label, run
  local threads line best=""
  for threads in $(printf '%s\n' 1 2 "$devices" | sort -un); do
    line=$(python_postgres "$1, $threads threads" "$threads" "$2_$threads")
    echo "$line" >&2
    if [ -z "$best" ] || [ "$(events_per_second <<<"$line")" -gt "$(events_per_second <<<"$best")" ]; then best=$line; fi
  done
  echo "$best"
}
echo "Python eventsourcing, PostgreSQL, with 1, 2 and $devices threads (the best is compared):"
python_best "Python eventsourcing, PostgreSQL" 0 >> "$figures"

# The goal, in the same run: ten times the Python library's rate (at its best) on the same database.
rate() { grep -F "$2" "$1" | head -n 1 | events_per_second; }
ratio() {
  local ours python; ours=$(rate "$folder/pushes.txt" "$1"); python=$(rate "$figures" "$2")
  [ -n "$ours" ] && [ -n "$python" ] && awk -v o="$ours" -v p="$python" -v l="$1" 'BEGIN {
    r = o / p; verdict = (r >= 10) ? "met" : "not met"
    printf "%s, pushes only: %.1fx the Python library rate (goal 10x: %s)\n", l, r, verdict
  }'
}
echo
ratio "SQLite, 1 process" "Python eventsourcing, SQLite" || true
ratio "PostgreSQL, 1 process" "Python eventsourcing, PostgreSQL" || true
ratio "PostgreSQL, 2 processes" "Python eventsourcing, PostgreSQL" || true

# The same on PostgreSQL in rounds, each tributary run right before a Python
# one, so that what else the machine does (a host taking CPU) weighs on both alike.
# Each round's line also says how much of the machine's CPU the host and other processes took meanwhile.
echo
# What else the machine did meanwhile: "host%/others%" (steal, other processes).
host_took() { grep -oE 'host took [0-9]+%, other processes [0-9]+%' | sed -E 's/host took ([0-9]+%), other processes ([0-9]+%)/\1\/\2/' || echo "?"; }
for round in 1 2 3; do
  ours=$(target/release/examples/load "${args[@]}" --pull no --targets pg1 --postgres "$TRIBUTARY_TEST_POSTGRES" | grep -F "PostgreSQL, 1 process")
  python=$(python_best "Python eventsourcing, PostgreSQL" "$round" 2>/dev/null)
  echo "$(events_per_second <<<"$ours") $(events_per_second <<<"$python") $(host_took <<<"$ours") $(host_took <<<"$python")" >> "$folder/rounds"
done
awk '{ printf "round %d: %s ev/s against %s ev/s, %.1fx (the host / other processes took %s and %s of the CPU)\n", NR, $1, $2, $1 / $2, $3, $4 }' "$folder/rounds"
awk '{ printf "%.3f\n", $1 / $2 }' "$folder/rounds" | sort -n | awk '{ r[NR] = $1 } END {
  m = r[int((NR + 1) / 2)]; verdict = (m >= 10) ? "met" : "not met"
  printf "PostgreSQL, 1 process, pushes only, in rounds: median %.1fx the Python library rate (goal 10x: %s)\n", m, verdict }'
