#!/usr/bin/env bash
# make demo: the tutorial's first example, then two processes exchanging
# messages over loopback (an echo node and a pinging client).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
echo "== examples/first"
$GO run ./examples/first

tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
$GO build -o "$tmp/ping" ./examples/ping
export PERL_ANYEVENT_MP_RC=/dev/null
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

echo "== examples/ping: an echo node in one process..."
"$tmp/ping" -listen 127.0.0.1:0 -secret "$secret" >"$tmp/server.out" &
server=$!
for _ in $(seq 100); do grep -q '^port ' "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
cat "$tmp/server.out"
addr=$(sed -n 's/^listening on \([^ ]*\) .*/\1/p' "$tmp/server.out")
port=$(sed -n 's/^port //p' "$tmp/server.out")

echo "== ...and a client in another: round trips, then throughput"
"$tmp/ping" -connect "$addr" -port "$port" -secret "$secret" -n 20000 -inflight 1
"$tmp/ping" -connect "$addr" -port "$port" -secret "$secret" -n 200000 -inflight 256
echo "== ...the same with AnyEvent::MP's JSON framing (what a Perl node speaks)"
"$tmp/ping" -connect "$addr" -port "$port" -secret "$secret" -n 200000 -inflight 256 -framing json
