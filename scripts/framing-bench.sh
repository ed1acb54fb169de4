#!/usr/bin/env bash
# Framing bench (docs/framing.md): courtmesh's own Engine.IO/Socket.IO framing
# (`courtd dev`, one process: edges us and asia, home us, embedded directory)
# against the Go library github.com/zishang520/socket.io (bench/zishang, one
# process), measured by the same load generator (`courtctl bench`).
#
#   IDLE      idle registered sockets held on one server (10000)
#   COUPLES   sessions serve → accept → dismiss (300)
#   CONC      couples in flight (50)
#   OUT       output folder (bench-out/framing)
#
# Memory: for courtd dev the pid measured is the whole dev process (two edges,
# a home, the in-memory directory, the QUIC links); only the RSS delta from
# before to after the idle sockets counts, and it lands on the us edge.
# Loopback only; every server started here is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-10000}
COUPLES=${COUPLES:-300}
CONC=${CONC:-50}
OUT=${OUT:-bench-out/framing}
export SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-framing-bench-$RANDOM$RANDOM}
unset REDIS_URL

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 1000)) ]; then
  echo "framing-bench: open-file limit $(ulimit -n) is too low for IDLE=$IDLE" >&2; exit 1
fi
mkdir -p "$OUT/bin"
OUT=$(cd "$OUT" && pwd)
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  pids=()
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { # url
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "framing-bench: $1 not ready" >&2; return 1
}
wait_line() { # file text: courtd dev prints its edges once every role is ready
  for _ in $(seq 1 300); do
    if grep -qF "$2" "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "framing-bench: no \"$2\" in $1" >&2; return 1
}
bench() { # name args...
  local name=$1; shift
  echo "== $name"
  timeout 900 "$OUT/bin/courtctl" bench "$@" --json-out "$OUT/$name.json" | tee "$OUT/$name.txt"
}

echo "== build"
go build -o "$OUT/bin/courtd" ./cli/courtd
go build -o "$OUT/bin/courtctl" ./cli/courtctl
(cd bench/zishang && go build -o "$OUT/bin/zishang" .)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "nproc: $(nproc)"
  echo "memory: $(free -h | awk '/^Mem:/ {print $2}')"
  echo "go: $(go version)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "ulimit -n: $(ulimit -n)"
} | tee "$OUT/machine.txt"

echo "== zishang520/socket.io server"
Z_PORT=$(free_port)
"$OUT/bin/zishang" --addr "127.0.0.1:$Z_PORT" 2>"$OUT/zishang.log" & Z_PID=$!; pids+=("$Z_PID")
Z="http://127.0.0.1:$Z_PORT"
wait_ready "$Z/health"
bench zishang-idle --urls "$Z" --idle "$IDLE" --pids "$Z_PID" --concurrency 200
bench zishang-couples --urls "$Z,$Z" --couples "$COUPLES" --concurrency "$CONC"
stop_all

echo "== courtd dev (REDIS_URL unset: embedded directory)"
US_PORT=$(free_port); ASIA_PORT=$(free_port)
"$OUT/bin/courtd" dev --us-addr "127.0.0.1:$US_PORT" --asia-addr "127.0.0.1:$ASIA_PORT" \
  >"$OUT/courtd-dev.out" 2>"$OUT/courtd-dev.log" & D_PID=$!; pids+=("$D_PID")
US="http://127.0.0.1:$US_PORT"; ASIA="http://127.0.0.1:$ASIA_PORT"
wait_line "$OUT/courtd-dev.out" "edge asia $ASIA"
bench ours-idle --urls "$US" --idle "$IDLE" --pids "$D_PID" --concurrency 200
bench ours-couples --urls "$US,$ASIA" --couples "$COUPLES" --concurrency "$CONC"
bench ours-couples-one-edge --urls "$US,$US" --couples "$COUPLES" --concurrency "$CONC"
stop_all

echo "== summary (JSON in $OUT)"
for n in zishang-idle ours-idle zishang-couples ours-couples ours-couples-one-edge; do
  printf '%-22s %s\n' "$n" "$(tail -n 1 "$OUT/$n.json")"
done
