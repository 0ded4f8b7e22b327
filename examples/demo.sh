#!/usr/bin/env bash
# make demo: the tutorial's first example, then two processes exchanging
# messages over loopback (an echo node and a pinging client), then the
# tutorial's chat as four processes that find each other through a seed
# node and the global database.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
echo "== examples/first"
$GO run ./examples/first

tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
$GO build -o "$tmp/ping" ./examples/ping
export PERL_ANYEVENT_MP_RC=/dev/null
secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

echo "== examples/ping: an echo node in one process..."
"$tmp/ping" -listen 127.0.0.1:0 -secret "$secret" >"$tmp/server.out" &
pids+=($!)
for _ in $(seq 100); do grep -q '^port ' "$tmp/server.out" 2>/dev/null && break; sleep 0.1; done
cat "$tmp/server.out"
addr=$(sed -n 's/^listening on \([^ ]*\) .*/\1/p' "$tmp/server.out")
port=$(sed -n 's/^port //p' "$tmp/server.out")

echo "== ...and a client in another: round trips, then throughput"
"$tmp/ping" -connect "$addr" -port "$port" -secret "$secret" -n 20000 -inflight 1
"$tmp/ping" -connect "$addr" -port "$port" -secret "$secret" -n 200000 -inflight 256
echo "== ...the same with AnyEvent::MP's JSON framing (what a Perl node speaks)"
"$tmp/ping" -connect "$addr" -port "$port" -secret "$secret" -n 200000 -inflight 256 -framing json

# wait_for FILE TEXT: poll until FILE contains TEXT (at most 10 s).
wait_for() {
	for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
	echo "demo: timed out waiting for '$2' in $1" >&2
	cat "$1" >&2
	return 1
}

echo "== examples/receiver and examples/sender: the tutorial's pair, through the global database"
$GO build -o "$tmp/receiver" ./examples/receiver
$GO build -o "$tmp/sender" ./examples/sender
raddr=127.0.0.1:$((20000 + RANDOM % 20000))
"$tmp/receiver" -listen "$raddr" -secret "$secret" >"$tmp/receiver.out" &
pids+=($!)
wait_for "$tmp/receiver.out" 'listening on'
"$tmp/sender" -seed "$raddr" -secret "$secret" -data 123
wait_for "$tmp/receiver.out" 'Received data: 123'
cat "$tmp/receiver.out"

echo "== examples/chat: a seed node, the chat server, and two clients, each a process"
$GO build -o "$tmp/chat" ./examples/chat
"$tmp/chat" -seed 127.0.0.1:0 -secret "$secret" >"$tmp/seed.out" &
pids+=($!)
wait_for "$tmp/seed.out" 'seed listening on'
seed=$(sed -n 's/^seed listening on //p' "$tmp/seed.out")
"$tmp/chat" -server -seeds "$seed" -secret "$secret" >"$tmp/chat-server.out" &
pids+=($!)
wait_for "$tmp/chat-server.out" 'registered under'
echo "hello from bob" | "$tmp/chat" -seeds "$seed" -secret "$secret" -name bob -linger 1s >"$tmp/bob.out" &
bob=$!
wait_for "$tmp/chat-server.out" 'bob joined'
printf 'hi everyone\nbye\n' | "$tmp/chat" -seeds "$seed" -secret "$secret" -name alice >"$tmp/alice.out"
wait "$bob"
wait_for "$tmp/chat-server.out" 'alice left'
echo "-- the server's log"; cat "$tmp/chat-server.out"
echo "-- what bob saw"; cat "$tmp/bob.out"
echo "-- what alice saw"; cat "$tmp/alice.out"
