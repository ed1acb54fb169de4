#!/usr/bin/env bash
# The asia rows of make bench (issue 13): `courtd dev --wan`, a home and an
# edge in us and an edge in asia in one process, with the catalog's 150 ms
# us–asia RTT on every path: the mesh links and the asia edge's traffic to the
# Redis primary (in us). Whole sessions of couples whose partners are both on
# one edge, ASIA_CONC in flight:
#   wan-asia-before  asia couples; the asia edge reads the primary across the ocean
#   wan-asia-after   asia couples; the asia edge reads a replica in asia
#                    (REDIS_REPLICA_URL) that replicates across the ocean
#   wan-us           us couples on the same mesh, for comparison
# then BenchmarkFencedCommitFloorPaced: the floor's fenced commit back to back
# and at the runs' pace, beside the home's commit times over the asia couples
# (asia-commit-floor.txt, asia-commits.txt): the local work the rows carry.
# Each run starts with ASIA_WARMUP couples that are not recorded: a fresh
# mesh link starts QUIC's congestion window at 32 packets, and the first
# sessions' large states (the judge's analysis) wait one or two extra round
# trips for it to grow (docs/decisions.md, issue 13); the rows are the
# steady state. The warm-up's own figures are kept (ours-warm-*.json).
# Writes ours-wan-*.json to $OUT; benchmarks-md.sh puts them side by side.
#
#   ASIA_COUPLES  couples of each run (100: each action's p99 is then one of
#                 100-200 samples; of 30 it was their second largest)
#   ASIA_WARMUP   unrecorded couples before each run (10)
#   ASIA_CONC     couples in flight (5)
#   ASIA_QUIET    the runs wait (at most 120 s) for the 1-minute load average
#                 to fall below this (1.5), so that what the sections before
#                 them left running (the drain's 10k sessions ending, Postgres
#                 vacuuming them) is not measured as the crossing's cost
#   OUT           output folder (bench-out)
set -euo pipefail
cd "$(dirname "$0")/.."
ASIA_COUPLES=${ASIA_COUPLES:-100}
ASIA_QUIET=${ASIA_QUIET:-1.5}
ASIA_WARMUP=${ASIA_WARMUP:-10}
ASIA_CONC=${ASIA_CONC:-5}
OUT=${OUT:-bench-out}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-bench-secret-$RANDOM$RANDOM}
export REDIS_URL

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SCHEMA="bench_asia_$RANDOM$RANDOM"
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }
cleanup() {
  stop_all
  psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  drop_prefixes 2>/dev/null || true
}
trap cleanup EXIT
. scripts/lib.sh

echo "== asia: build"
mkdir -p "$OUT/bin"
go build -o "$OUT/bin/courtd" ./cli/courtd
go build -o "$OUT/bin/courtctl" ./cli/courtctl
CTL="$OUT/bin/courtctl"
COURTD="$OUT/bin/courtd"
psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
sep='?'; case "$PG_URL" in *\?*) sep='&';; esac
export DATABASE_URL="$PG_URL${sep}search_path=$SCHEMA"

# start_dev [REPLICA_URL]: courtd dev --wan; the asia edge's path to the
# primary listens on WAN_REDIS (a replica in asia replicates through it).
start_dev() {
  export COURT_REDIS_PREFIX="bench-asia:$RANDOM:"
  used_prefix "$COURT_REDIS_PREFIX"
  US_PORT=$(free_port SOCK_STREAM); ASIA_PORT=$(free_port SOCK_STREAM); JWKS_PORT=$(free_port SOCK_STREAM)
  OPS_PORT=$(free_port SOCK_STREAM)
  REDIS_REPLICA_URL=${1:-} "$COURTD" dev --wan --wan-redis-addr "127.0.0.1:$WAN_REDIS" \
    --us-addr "127.0.0.1:$US_PORT" --asia-addr "127.0.0.1:$ASIA_PORT" --jwks-addr "127.0.0.1:$JWKS_PORT" \
    --ops-addr "127.0.0.1:$OPS_PORT" \
    >"$OUT/asia-dev.log" 2>&1 & pids+=($!)
  US="http://127.0.0.1:$US_PORT"; ASIA="http://127.0.0.1:$ASIA_PORT"
  wait_ready "$US" /readyz; wait_ready "$ASIA" /readyz
}
couples() { # name urls
  "$CTL" bench --urls "$2" --couples "$ASIA_WARMUP" --concurrency "$ASIA_CONC" --json-out "$OUT/ours-warm-$1.json" >"$OUT/ours-warm-$1.txt"
  "$CTL" bench --urls "$2" --couples "$ASIA_COUPLES" --concurrency "$ASIA_CONC" --json-out "$OUT/ours-$1.json" | tee "$OUT/ours-$1.txt"
}

quiet() { awk -v max="$ASIA_QUIET" '{ exit !($1 < max) }' /proc/loadavg; }
for _ in $(seq 1 120); do quiet && break; sleep 1; done
cut -d' ' -f1 /proc/loadavg > "$OUT/asia-load.txt" # the report shows how busy the machine was
WAN_REDIS=$(free_port SOCK_STREAM)
echo "== asia: before: $ASIA_COUPLES asia couples, the asia edge reads the Redis primary across the ocean"
start_dev
couples wan-asia-before "$ASIA,$ASIA"
stop_all

echo "== asia: after: the asia edge reads a replica in asia, replicating across the ocean"
REPLICA_PORT=$(free_port SOCK_STREAM)
redis-server --port "$REPLICA_PORT" --bind 127.0.0.1 --replicaof 127.0.0.1 "$WAN_REDIS" --save "" --appendonly no \
  --dir "$OUT" --logfile "$OUT/asia-replica.log" & pids+=($!)
sleep 0.2
start_dev "redis://127.0.0.1:$REPLICA_PORT"
for _ in $(seq 1 600); do # the primary's diskless sync waits 5 s for more replicas
  redis-cli -p "$REPLICA_PORT" info replication | grep -q '^master_link_status:up' && break; sleep 0.1
done
redis-cli -p "$REPLICA_PORT" info replication | grep '^master_link_status'
couples wan-asia-after "$ASIA,$ASIA"
# the home's commit times over the asia couples (warm-up included)
curl -fsS "http://127.0.0.1:$OPS_PORT/metrics" | grep '^court_home_commit_seconds' > "$OUT/asia-commits.txt"
echo "== asia: $ASIA_COUPLES us couples on the same mesh"
couples wan-us "$US,$US"
stop_all
cut -d' ' -f1 /proc/loadavg >> "$OUT/asia-load.txt"
echo "== asia: this machine's fenced commit alone, back to back and at the runs' pace"
DATABASE_URL="$PG_URL" go test ./home/store -run '^$' -bench 'BenchmarkFencedCommitFloorPaced' -benchtime 300x \
  | grep '^BenchmarkFencedCommitFloorPaced' | tee "$OUT/asia-commit-floor.txt"
