#!/usr/bin/env bash
# The main job: set up, build the server and the package, start the sync server
# (SQLite under .data/, a development token) and a BIOMERO server with sample
# workflows, and serve the demo dashboard on 127.0.0.1 connected to both.
# Ctrl-C stops them all.
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

# A BIOMERO server (its WorkflowTracker and views, zlib and AES on) with sample
# workflows, for the dashboard's "Following BIOMERO" section.
BIOMERO_PORT="${BIOMERO_PORT:-8788}"
[ -s .data/biomero.key ] || .venv-peers/bin/python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' > .data/biomero.key
KEY=$(cat .data/biomero.key)
.venv-peers/bin/python tests/peers/biomero_server.py --db .data/biomero.sqlite --port "$BIOMERO_PORT" --workflows 8 --compress --cipher-key "$KEY" > /dev/null &
biomero=$!
trap 'kill "$server" "$biomero" 2>/dev/null' EXIT
printf '{"url": "http://127.0.0.1:%s", "cipherKey": "%s"}\n' "$BIOMERO_PORT" "$KEY" > www/biomero.json
echo "BIOMERO server: http://127.0.0.1:$BIOMERO_PORT (follow it from the dashboard)"
node scripts/serve.mjs "$PORT"
