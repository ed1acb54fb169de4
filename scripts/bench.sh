#!/usr/bin/env bash
# make bench: courtmesh and the peer (../shared/peers/socketio-redis: Socket.IO
# with the Redis adapter and Redis locks), on this machine, in one run,
# measured by the same load generator (`courtctl bench`). Writes JSON and text
# results to $OUT; docs/benchmarks.md is written from them.
#
#   IDLE      idle registered sockets on one edge / one peer instance (10000)
#   COUPLES   whole sessions, partners on different edges / instances (500)
#   CONC      couples in flight (50)
#   FAILOVER  sessions held by the home node that is killed (10000)
#   DRAIN     sockets and sessions of the drain rows (10000; scripts/bench-drain.sh)
#   ASIA_COUPLES couples of each asia row (100; scripts/bench-asia.sh)
#   CLIENTS   client counts of the latency-under-load rows: 200 couples plus idle sockets ("2000 6000")
#   OUT       output folder (bench-out)
#   SATURATION couples in flight in the pinned sessions-per-second row (100)
#   PINNED_CLIENTS client counts of the pinned latency rows ($CLIENTS)
#   THINK     the pinned latency rows' pace: all 200 couples in flight, each
#             acting once every THINK on average (±50 %), so 200/THINK actions
#             a second are offered (2s: 100/s, a third or less of either
#             side's pinned saturation; docs/decisions.md, issue 11)
#
# Cost: the couples runs count the user+system CPU (/proc/<pid>/stat) of every
# server process over the sessions: ours the home and both edges, the
# Postgres backends whose application_name is the bench's schema (set in
# DATABASE_URL) and the machine's Redis (process_id of REDIS_URL: fair when
# nothing else uses it during the bench); the peer its two node processes and
# its own Redis. The pinned rows put the load generator on core 0 and every
# one of those processes on core 1 (taskset), ours and the peer's alike, and
# report that core's busy time and what other processes took of it
# (--server-core): a paced p99 is the servers' own only when that is near 0.
# Latency is measured twice over: the unpinned 2k/6k rows in the closed loop
# (CONC couples acting back to back: queueing at saturation), the pinned ones
# at the fixed offered load THINK sets, beside the pinned saturation row.
set -euo pipefail
cd "$(dirname "$0")/.."
IDLE=${IDLE:-10000}
COUPLES=${COUPLES:-500}
CONC=${CONC:-50}
FAILOVER=${FAILOVER:-10000}
CLIENTS=${CLIENTS:-2000 6000}
OUT=${OUT:-bench-out}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
PEER_REDIS_PORT=${PEER_REDIS_PORT:-6391}
SATURATION=${SATURATION:-100}
PINNED_CLIENTS=${PINNED_CLIENTS:-$CLIENTS}
THINK=${THINK:-2s}
export SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-bench-secret-$RANDOM$RANDOM}
export REDIS_URL

ulimit -n "$(ulimit -Hn)" # 20000 on these machines: enough for 10k sockets per process
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SCHEMA="bench_$RANDOM$RANDOM"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -f "$OUT/peer-redis.pid" ]; then kill "$(cat "$OUT/peer-redis.pid")" 2>/dev/null || true; rm -f "$OUT/peer-redis.pid"; fi
  psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  drop_prefixes 2>/dev/null || true
}
trap 'unpin; cleanup' EXIT
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

. scripts/lib.sh # free_port, wait_ready

# Cost and pinning (the rows of issue 11): LG_CORE runs the load generator,
# SRV_CORE every server process; pin/unpin move running processes (all their
# threads), restoring what they had before.
LG_CORE=0; SRV_CORE=$(( $(nproc) > 1 ? 1 : 0 ))
LG=(taskset -c "$LG_CORE")
declare -A affinity=()
pin() { # pids...
  for p in "$@"; do
    [ -n "${affinity[$p]:-}" ] || affinity[$p]=$(taskset -p "$p" | awk '{print $NF}')
    taskset -a -p -c "$SRV_CORE" "$p" >/dev/null
  done
}
unpin() {
  for p in "${!affinity[@]}"; do taskset -a -p "${affinity[$p]}" "$p" >/dev/null 2>&1 || true; done
  affinity=()
}
pg_backends() { psql "$PG_URL" -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = '$SCHEMA'"; }
REDIS_PID=$(redis-cli -u "$REDIS_URL" info server | awk -F: '/^process_id:/{print $2}' | tr -d '\r')

echo "== build"
go build -o "$OUT/bin/courtd" ./cli/courtd
go build -o "$OUT/bin/courtctl" ./cli/courtctl
CTL="$OUT/bin/courtctl"
COURTD="$OUT/bin/courtd"
rm -rf "$OUT/pki"
"$CTL" ca create --dir "$OUT/pki/ca" >/dev/null
for n in home:us:home-us-1 home:us:home-us-2 edge:us:edge-us-1 edge:asia:edge-asia-1; do
  IFS=: read -r role region id <<<"$n"
  "$CTL" cert create --ca-dir "$OUT/pki/ca" --node "$id" --role "$role" --region "$region" --out "$OUT/pki/$id" >/dev/null
done
psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
sep='?'; case "$PG_URL" in *\?*) sep='&';; esac
export DATABASE_URL="$PG_URL${sep}search_path=$SCHEMA"
DATABASE_URL="$DATABASE_URL&application_name=$SCHEMA" # how the cost rows find the Postgres backends serving the bench
"$COURTD" migrate >/dev/null

# start_mesh HOMES: home nodes home-us-1..HOMES (ops on HOME<i>_OPS), edges us and asia.
start_mesh() {
  export COURT_REDIS_PREFIX="bench:$RANDOM:"
  used_prefix "$COURT_REDIS_PREFIX"
  local homes=() flags=()
  for i in $(seq 1 "$1"); do
    local mp op; mp=$(free_port SOCK_DGRAM); op=$(free_port SOCK_STREAM)
    "$COURTD" home --require-app-schema=false --node-id "home-us-$i" --region us --tls-dir "$OUT/pki/home-us-$i" --mesh-addr "127.0.0.1:$mp" \
      --ops-addr "127.0.0.1:$op" --judge dev --webhook none 2>"$OUT/home-$i.log" & pids+=($!)
    eval "HOME${i}_PID=$!; HOME${i}_OPS=http://127.0.0.1:$op"
    flags+=(--home "us:home-us-$i@127.0.0.1:$mp")
  done
  US_PORT=$(free_port SOCK_STREAM); ASIA_PORT=$(free_port SOCK_STREAM)
  "$COURTD" edge --node-id edge-us-1 --region us --tls-dir "$OUT/pki/edge-us-1" --addr "127.0.0.1:$US_PORT" "${flags[@]}" 2>"$OUT/edge-us.log" & US_PID=$!; pids+=($US_PID)
  "$COURTD" edge --node-id edge-asia-1 --region asia --tls-dir "$OUT/pki/edge-asia-1" --addr "127.0.0.1:$ASIA_PORT" "${flags[@]}" 2>"$OUT/edge-asia.log" & ASIA_PID=$!; pids+=($ASIA_PID)
  US="http://127.0.0.1:$US_PORT"; ASIA="http://127.0.0.1:$ASIA_PORT"
  wait_ready "$US" /readyz; wait_ready "$ASIA" /readyz
}

echo "== courtmesh: one home in us, edges in us and asia (separate processes, real Redis and Postgres)"
start_mesh 1
echo "== courtmesh: $IDLE idle sockets on the us edge"
"$CTL" bench --urls "$US" --idle "$IDLE" --pids "$US_PID" --concurrency 200 --json-out "$OUT/ours-idle.json" | tee "$OUT/ours-idle.txt"
OURS_CPU=(--cpu "home=$HOME1_PID" --cpu "edges=$US_PID,$ASIA_PID" --cpu-pg "postgres=$SCHEMA" --cpu "redis=$REDIS_PID")
echo "== courtmesh: $COUPLES whole sessions, creator and partner on different edges, one home node"
"$CTL" bench --urls "$US,$ASIA" --couples "$COUPLES" --concurrency "$CONC" "${OURS_CPU[@]}" --json-out "$OUT/ours-couples.json" | tee "$OUT/ours-couples.txt"
for clients in $CLIENTS; do
  echo "== courtmesh: $clients clients: 200 couples in sessions, $CONC in flight back to back (closed loop), plus idle sockets"
  "$CTL" bench --urls "$US,$ASIA" --couples 200 --idle "$((clients - 400))" --concurrency "$CONC" --json-out "$OUT/ours-clients-$clients.json" > "$OUT/ours-clients-$clients.txt"
done

echo "== courtmesh pinned: the load generator on core $LG_CORE; home, edges, their Postgres backends and Redis on core $SRV_CORE"
rm -f "$OUT"/ours-pinned-* # a client count PINNED_CLIENTS no longer has must not linger in the report
pin "$HOME1_PID" "$US_PID" "$ASIA_PID" "$REDIS_PID" $(pg_backends)
"${LG[@]}" "$CTL" bench --urls "$US,$ASIA" --couples "$COUPLES" --concurrency "$SATURATION" "${OURS_CPU[@]}" --server-core "$SRV_CORE" --json-out "$OUT/ours-pinned-couples.json" | tee "$OUT/ours-pinned-couples.txt"
for clients in $PINNED_CLIENTS; do
  echo "== courtmesh pinned: $clients clients: 200 couples all in flight, one action per couple every $THINK, plus idle sockets"
  "${LG[@]}" "$CTL" bench --urls "$US,$ASIA" --couples 200 --idle "$((clients - 400))" --concurrency 200 --think "$THINK" "${OURS_CPU[@]}" --server-core "$SRV_CORE" --json-out "$OUT/ours-pinned-clients-$clients.json" > "$OUT/ours-pinned-clients-$clients.txt"
done
unpin
stop_all

echo "== courtmesh failover: two homes, $((FAILOVER * 2)) PENDING sessions, kill -9 the fuller one"
start_mesh 2
"$CTL" bench sessions --urls "$US,$ASIA" --count "$((FAILOVER * 2))" | tee "$OUT/failover-create.txt"
"$CTL" bench wait --url "$HOME1_OPS/metrics" --want 1 --timeout 30s
for _ in $(seq 1 200); do # settle: both homes hold every session between them
  a=$(curl -fsS "$HOME1_OPS/metrics" | awk '/^court_home_sessions /{print $2}'); b=$(curl -fsS "$HOME2_OPS/metrics" | awk '/^court_home_sessions /{print $2}')
  [ "$(printf '%.0f' "$(echo "$a + $b" | bc)")" -ge "$((FAILOVER * 2))" ] && break; sleep 0.1
done
if [ "$(printf '%.0f' "$a")" -ge "$(printf '%.0f' "$b")" ]; then VICTIM=$HOME1_PID; HELD=$a; SURVIVOR=$HOME2_OPS; else VICTIM=$HOME2_PID; HELD=$b; SURVIVOR=$HOME1_OPS; fi
echo "killing the home holding $HELD sessions"
KILLED_MS=$(date +%s%3N); kill -9 "$VICTIM"
"$CTL" bench wait --url "$SURVIVOR/metrics" --want "$((FAILOVER * 2))" --since-ms "$KILLED_MS" --timeout 60s | tee "$OUT/failover.txt"
echo "held=$HELD" >> "$OUT/failover.txt"
psql "$PG_URL" -Atc "SELECT 'sessions='||count(*)||' moved='||count(*) FILTER (WHERE owner_epoch = 2)||' versions_not_1='||count(*) FILTER (WHERE version <> 1) FROM $SCHEMA.court_sessions" | tee -a "$OUT/failover.txt"
psql "$PG_URL" -Atc "SELECT 'transitions='||count(*)||' distinct='||count(DISTINCT (session_id, version)) FROM $SCHEMA.court_transitions" | tee -a "$OUT/failover.txt"
stop_all

echo "== courtmesh drain: an edge holding ${DRAIN:-10000} sockets, a home holding ${DRAIN:-10000} sessions (scripts/bench-drain.sh)"
OUT="$OUT" DATABASE_URL="$PG_URL" scripts/bench-drain.sh # its own schema on the bare database

echo "== courtmesh asia: asia couples with the WAN on every path, before and after the replica, beside us couples (scripts/bench-asia.sh)"
OUT="$OUT" DATABASE_URL="$PG_URL" scripts/bench-asia.sh

echo "== peer: socket.io + redis adapter, two instances, own Redis on :$PEER_REDIS_PORT"
PEER_DIR="$OUT/peer"
if [ ! -d "$PEER_DIR/node_modules" ]; then
  rm -rf "$PEER_DIR"; cp -r ../shared/peers/socketio-redis "$PEER_DIR"; chmod -R u+w "$PEER_DIR"
  (cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
fi
redis-server --port "$PEER_REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --pidfile "$OUT/peer-redis.pid" --logfile "$OUT/peer-redis.log"
start_peer() { # SCALE
  P1=$(free_port SOCK_STREAM); P2=$(free_port SOCK_STREAM)
  for p in $P1 $P2; do
    (cd "$PEER_DIR" && COURT_TIMER_SCALE="$1" REDIS_URL="redis://127.0.0.1:$PEER_REDIS_PORT" PORT=$p exec node server.js) >"$OUT/peer-$p.log" 2>&1 & pids+=($!)
  done
  PEER1_PID=${pids[0]}; PEER2_PID=${pids[1]}
  wait_ready "http://127.0.0.1:$P1" /health; wait_ready "http://127.0.0.1:$P2" /health
}
start_peer 1
echo "== peer: $IDLE idle sockets on one instance"
"$CTL" bench --urls "http://127.0.0.1:$P1" --idle "$IDLE" --pids "$PEER1_PID" --concurrency 200 --json-out "$OUT/peer-idle.json" | tee "$OUT/peer-idle.txt" || true
echo "== peer: $COUPLES whole sessions, creator and partner on different instances"
PEER_CPU=(--cpu "servers=$PEER1_PID,$PEER2_PID" --cpu "redis=$(cat "$OUT/peer-redis.pid")")
"$CTL" bench --urls "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --couples "$COUPLES" --concurrency "$CONC" "${PEER_CPU[@]}" --json-out "$OUT/peer-couples.json" | tee "$OUT/peer-couples.txt"
for clients in $CLIENTS; do
  echo "== peer: $clients clients: 200 couples in sessions, $CONC in flight back to back (closed loop), plus idle sockets"
  "$CTL" bench --urls "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --couples 200 --idle "$((clients - 400))" --concurrency "$CONC" --json-out "$OUT/peer-clients-$clients.json" > "$OUT/peer-clients-$clients.txt"
done

echo "== peer pinned: the load generator on core $LG_CORE; both instances and their Redis on core $SRV_CORE"
rm -f "$OUT"/peer-pinned-*
pin "$PEER1_PID" "$PEER2_PID" "$(cat "$OUT/peer-redis.pid")"
"${LG[@]}" "$CTL" bench --urls "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --couples "$COUPLES" --concurrency "$SATURATION" "${PEER_CPU[@]}" --server-core "$SRV_CORE" --json-out "$OUT/peer-pinned-couples.json" | tee "$OUT/peer-pinned-couples.txt"
for clients in $PINNED_CLIENTS; do
  echo "== peer pinned: $clients clients: 200 couples all in flight, one action per couple every $THINK, plus idle sockets"
  "${LG[@]}" "$CTL" bench --urls "http://127.0.0.1:$P1,http://127.0.0.1:$P2" --couples 200 --idle "$((clients - 400))" --concurrency 200 --think "$THINK" "${PEER_CPU[@]}" --server-core "$SRV_CORE" --json-out "$OUT/peer-pinned-clients-$clients.json" > "$OUT/peer-pinned-clients-$clients.txt"
done
unpin
stop_all

echo "== peer failover: PENDING timers (1.2 s at scale 0.002) of sessions on a killed instance"
redis-cli -p "$PEER_REDIS_PORT" flushall >/dev/null
start_peer 0.002
"$CTL" bench sessions --urls "http://127.0.0.1:$P1" --count 1000 | tee "$OUT/peer-failover.txt"
BEFORE=$(redis-cli -p "$PEER_REDIS_PORT" scard court:sessions)
kill -9 "$PEER1_PID"
sleep 5 # five PENDING timeouts long: every session's timer was due
AFTER=$(redis-cli -p "$PEER_REDIS_PORT" scard court:sessions)
echo "peer sessions before kill: $BEFORE; 5 s after kill -9 (timers due after 1.2 s): $AFTER still live" | tee -a "$OUT/peer-failover.txt"
stop_all

echo "== plots: latency distributions, CPU per session, memory per socket by socket count"
"$CTL" bench plots --dir "$OUT" --out "$OUT/bench.png"
echo "== done: results in $OUT"
