#!/usr/bin/env bash
# make bench: courtmesh (a home in us, edges in us and asia, separate courtd
# processes on the real Redis) and the peer (../shared/peers/socketio-redis:
# two Socket.IO + Redis adapter instances on their own Redis), on this machine,
# in one run, measured by the same load generator (`courtctl bench`).
#
#   IDLE      idle registered sockets on one edge / one peer instance (10000)
#   COUPLES   sessions (serve → accept → dismiss), partners on different edges (500)
#   CONC      couples in flight (50)
#   OUT       output folder (bench-out)
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-10000}
COUPLES=${COUPLES:-500}
CONC=${CONC:-50}
OUT=${OUT:-bench-out}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
PEER_REDIS_PORT=${PEER_REDIS_PORT:-6391}
export SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-bench-secret-$RANDOM$RANDOM}
export REDIS_URL

ulimit -n "$(ulimit -Hn)" # 20000 on these machines: enough for 10k sockets per process
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -f "$OUT/peer-redis.pid" ]; then kill "$(cat "$OUT/peer-redis.pid")" 2>/dev/null || true; rm -f "$OUT/peer-redis.pid"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
wait_ready() { # url path
  for _ in $(seq 1 200); do
    if curl -fsS -o /dev/null "$1$2" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "bench: $1$2 not ready" >&2; return 1
}

echo "== build"
go build -o "$OUT/bin/courtd" ./cli/courtd
go build -o "$OUT/bin/courtctl" ./cli/courtctl
CTL="$OUT/bin/courtctl"

echo "== courtmesh: home us, edge us, edge asia (separate processes, real Redis)"
rm -rf "$OUT/pki"
"$CTL" ca create --dir "$OUT/pki/ca" >/dev/null
for n in home-us-1 edge-us-1 edge-asia-1; do "$CTL" cert create --ca-dir "$OUT/pki/ca" --node "$n" --out "$OUT/pki/$n" >/dev/null; done
export COURT_REDIS_PREFIX="bench:$RANDOM:"
MESH_PORT=$(free_port SOCK_DGRAM); US_PORT=$(free_port SOCK_STREAM); ASIA_PORT=$(free_port SOCK_STREAM)
"$OUT/bin/courtd" home --node-id home-us-1 --region us --tls-dir "$OUT/pki/home-us-1" --mesh-addr "127.0.0.1:$MESH_PORT" 2>"$OUT/home.log" & pids+=($!)
"$OUT/bin/courtd" edge --node-id edge-us-1 --region us --tls-dir "$OUT/pki/edge-us-1" --addr "127.0.0.1:$US_PORT" --home "us:home-us-1@127.0.0.1:$MESH_PORT" 2>"$OUT/edge-us.log" & US_PID=$!; pids+=($US_PID)
"$OUT/bin/courtd" edge --node-id edge-asia-1 --region asia --tls-dir "$OUT/pki/edge-asia-1" --addr "127.0.0.1:$ASIA_PORT" --home "us:home-us-1@127.0.0.1:$MESH_PORT" 2>"$OUT/edge-asia.log" & pids+=($!)
US="http://127.0.0.1:$US_PORT"; ASIA="http://127.0.0.1:$ASIA_PORT"
wait_ready "$US" /readyz; wait_ready "$ASIA" /readyz

echo "== courtmesh: $IDLE idle sockets on the us edge"
"$CTL" bench --urls "$US" --idle "$IDLE" --pids "$US_PID" --concurrency 200 --json-out "$OUT/ours-idle.json" | tee "$OUT/ours-idle.txt"
echo "== courtmesh: $COUPLES couples, creator and partner on different edges"
"$CTL" bench --urls "$US,$ASIA" --couples "$COUPLES" --concurrency "$CONC" --json-out "$OUT/ours-couples.json" | tee "$OUT/ours-couples.txt"
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=()

echo "== peer: socket.io + redis adapter, two instances, own Redis on :$PEER_REDIS_PORT"
PEER_DIR="$OUT/peer"
if [ ! -d "$PEER_DIR/node_modules" ]; then
  rm -rf "$PEER_DIR"; cp -r ../shared/peers/socketio-redis "$PEER_DIR"; chmod -R u+w "$PEER_DIR"
  (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
redis-server --port "$PEER_REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$OUT/peer-redis.pid" --logfile "$OUT/peer-redis.log"
P1=$(free_port SOCK_STREAM); P2=$(free_port SOCK_STREAM)
for p in $P1 $P2; do
  (cd "$PEER_DIR" && REDIS_URL="redis://127.0.0.1:$PEER_REDIS_PORT" PORT=$p exec node server.js) >"$OUT/peer-$p.log" 2>&1 & pids+=($!)
done
PEER1_PID=${pids[0]}
wait_ready "http://127.0.0.1:$P1" /health; wait_ready "http://127.0.0.1:$P2" /health
echo "== peer: $IDLE idle sockets on one instance"
"$CTL" bench --urls "http://127.0.0.1:$P1" --idle "$IDLE" --pids "$PEER1_PID" --concurrency 200 --json-out "$OUT/peer-idle.json" | tee "$OUT/peer-idle.txt" || true
echo "== peer: $COUPLES couples, creator and partner on different instances"
"$CTL" bench --urls "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --couples "$COUPLES" --concurrency "$CONC" --json-out "$OUT/peer-couples.json" | tee "$OUT/peer-couples.txt"
echo "== done: JSON summaries in $OUT"
