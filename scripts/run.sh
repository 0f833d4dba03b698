#!/usr/bin/env bash
# The main job: set up, build the server and the package, start the sync server
# (SQLite under .data/, a development token), and serve the demo dashboard on
# 127.0.0.1 connected to it. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh

PORT="${PORT:-8080}"
SERVER_PORT="${SERVER_PORT:-8787}"
TOKEN="${TRIBUTARY_TOKEN:-dev-token-change-me}"
mkdir -p .data
target/release/tributary-server --listen "127.0.0.1:$SERVER_PORT" --data .data --tenant "demo=$TOKEN" \
  --allow-origin "http://127.0.0.1:$PORT" --allow-origin "http://localhost:$PORT" &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
printf '{"url": "http://127.0.0.1:%s/demo/dogschool", "token": "%s"}\n' "$SERVER_PORT" "$TOKEN" > www/sync.json
echo "sync server: http://127.0.0.1:$SERVER_PORT/demo/dogschool (token $TOKEN)"
node scripts/serve.mjs "$PORT"
