#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the PostgreSQL adapter's tests.
#
#   source scripts/postgres.sh        # starts it (once) and exports TRIBUTARY_TEST_POSTGRES
#   scripts/postgres.sh start         # the same, printing `export TRIBUTARY_TEST_POSTGRES=...`
#   scripts/postgres.sh stop          # stops it at once and removes its folder
#
# The cluster lives in a folder of its own (trust auth, socket in the folder,
# listening on 127.0.0.1 only), so it touches no system cluster. Starting again
# while it runs reuses it: the folder and port are kept in .postgres-test.
# Installs Debian's `postgresql` package first when no initdb is found.

tributary_postgres() (
  set -euo pipefail
  local root state
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  state="$root/.postgres-test"

  # Runs a PostgreSQL program as the `postgres` user (initdb refuses root).
  as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
  }

  bin_dir() {
    local initdb
    initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
    if [ -z "$initdb" ]; then
      echo "postgres.sh: no initdb under /usr/lib/postgresql: installing Debian's postgresql" >&2
      if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      else
        sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      fi
      initdb="$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
    fi
    dirname "$initdb"
  }

  url_of() { echo "postgres://postgres@127.0.0.1:$1/tributary"; }

  start() {
    local bin dir port
    bin="$(bin_dir)"
    if [ -f "$state" ]; then
      read -r dir port < "$state"
      if [ -d "$dir" ] && as_postgres "$bin/pg_ctl" -D "$dir" status > /dev/null 2>&1; then
        url_of "$port"
        return
      fi
      rm -rf "$dir" "$state"
    fi
    dir="$(mktemp -d /tmp/tributary-postgres.XXXXXX)"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    as_postgres "$bin/initdb" -D "$dir" -A trust -U postgres --no-sync -E UTF8 > "$dir.initdb.log" 2>&1 \
      || { cat "$dir.initdb.log" >&2; exit 1; }
    rm -f "$dir.initdb.log"
    # fsync off: a test cluster need not survive a power cut, and it is quicker.
    as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -w start > /dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres tributary
    echo "$dir $port" > "$state"
    url_of "$port"
  }

  stop() {
    local bin dir port
    [ -f "$state" ] || return 0
    bin="$(bin_dir)"
    read -r dir port < "$state"
    if [ -d "$dir" ]; then as_postgres "$bin/pg_ctl" -D "$dir" -m immediate stop > /dev/null 2>&1 || true; fi
    rm -rf "$dir" "$state"
  }

  case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: scripts/postgres.sh [start|stop]" >&2; exit 2 ;;
  esac
)

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run: print the export line (for `eval "$(scripts/postgres.sh)"`), or stop.
  case "${1:-start}" in
    start) url="$(tributary_postgres start)" && echo "export TRIBUTARY_TEST_POSTGRES=$url" ;;
    *) tributary_postgres "$@" ;;
  esac
else
  # Sourced: start it and export the URL into the caller's shell.
  if TRIBUTARY_TEST_POSTGRES="$(tributary_postgres start)"; then
    export TRIBUTARY_TEST_POSTGRES
    echo "TRIBUTARY_TEST_POSTGRES=$TRIBUTARY_TEST_POSTGRES" >&2
  else
    echo "postgres.sh: the test cluster did not start" >&2
    return 1 2>/dev/null || exit 1
  fi
fi
