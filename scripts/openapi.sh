#!/usr/bin/env bash
# The server against its own description: schemathesis (PyPI, in .venv-tools)
# generates requests from GET /openapi.json, valid and not, and checks that no
# answer is a 5xx, each status is documented, and each body and header matches
# the schema; invalid input must be refused. Requests a valid schema allows but
# the server refuses for what a schema cannot say (positions in order, say) are
# not failures (positive_data_acceptance is left out). Needs the release server.
set -euo pipefail
cd "$(dirname "$0")/.."
export TRIBUTARY_TOKEN=openapi-token
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
target/release/tributary-server --listen "127.0.0.1:$port" --data "$data" --tenant "acme=$TRIBUTARY_TOKEN" > /dev/null &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/openapi.json" > /dev/null && break; sleep 0.1; done
st=(.venv-tools/bin/st --no-color)
run=(run "http://127.0.0.1:$port/openapi.json" --exclude-checks positive_data_acceptance)
echo "[openapi] the tenant's own application, with its token"
"${st[@]}" --config-file server/schemathesis.toml "${run[@]}" --max-examples 100
echo "[openapi] any tenant and application, any token"
"${st[@]}" "${run[@]}" --max-examples 30 -H "Authorization: Bearer $TRIBUTARY_TOKEN"
