#!/usr/bin/env bash
# The server load benchmark of BENCHMARKS.md: durable PutLogEvents and FilterLogEvents with
# JSON patterns against Lookout, moto_server (PyPI `moto[server]`) and fakecloud
# (`cargo install fakecloud`) on the same generated events, in one run. A peer that is not
# installed is skipped with a note. Extra environment is passed to the bench
# (LOOKOUT_LOAD_EVENTS, LOOKOUT_LOAD_CONNECTIONS).
#
#   bash scripts/bench-server.sh
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    python3 - "$1" <<'PY'
import socket, sys, time
deadline = time.time() + 60
while time.time() < deadline:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit("peer did not start listening on port " + sys.argv[1])
PY
}

logs=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$logs"
}
trap cleanup EXIT

peers=""
if command -v moto_server >/dev/null; then
    port=$(free_port)
    moto_server -H 127.0.0.1 -p "$port" >"$logs/moto.log" 2>&1 &
    pids+=($!)
    wait_port "$port"
    peers="moto=http://127.0.0.1:$port"
else
    echo "note: moto_server not found (pip install 'moto[server]'); skipping that peer" >&2
fi
# FAKECLOUD may name the binary when it is not on PATH (a `cargo install --root DIR`).
fakecloud_bin=${FAKECLOUD:-$(command -v fakecloud || true)}
if [ -n "$fakecloud_bin" ] && [ -x "$fakecloud_bin" ]; then
    port=$(free_port)
    # In-memory mode (its default); it listens where --addr says.
    "$fakecloud_bin" --addr "127.0.0.1:$port" --log-level warn >"$logs/fakecloud.log" 2>&1 &
    pids+=($!)
    wait_port "$port"
    peers="${peers:+$peers,}fakecloud=http://127.0.0.1:$port"
else
    echo "note: fakecloud not found (cargo install fakecloud); skipping that peer" >&2
fi

LOOKOUT_LOAD_PEERS="$peers" cargo bench -p lookout-server --bench put_load
