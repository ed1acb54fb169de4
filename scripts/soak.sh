#!/usr/bin/env bash
# make soak (and part of make bench): memory under sustained load. Two homes
# and two edges (us, asia) as separate processes on the real Redis and
# Postgres run whole sessions back to back (`courtctl bench soak`) while every
# node's RSS, heap in use and goroutines are sampled from its /metrics every
# 10 s, with sessions/s. Writes soak.json, soak.csv and soak.png to $OUT;
# scripts/benchmarks-md.sh writes the section of docs/benchmarks.md from them.
#
#   SOAK_MINUTES  minutes of continuous sessions (10)
#   SOAK_CONC     couples in flight (20)
#   OUT           output folder (bench-out/soak)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${SOAK_MINUTES:-10}
CONC=${SOAK_CONC:-20}
OUT=${OUT:-bench-out/soak}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-soak-secret-$RANDOM$RANDOM}
export REDIS_URL
export COURT_REDIS_PREFIX="soak:$RANDOM$RANDOM:"
unset COURT_TIMER_SCALE # real phase timers: each session's CLOSED hold is 30 s

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SCHEMA="soak_$RANDOM$RANDOM"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  drop_prefixes 2>/dev/null || true
}
trap cleanup EXIT

. scripts/lib.sh # free_port, wait_ready, used_prefix
used_prefix "$COURT_REDIS_PREFIX"

echo "== build"
go build -o "$OUT/bin/courtd" ./cli/courtd
go build -o "$OUT/bin/courtctl" ./cli/courtctl
CTL="$OUT/bin/courtctl"
COURTD="$OUT/bin/courtd"
rm -rf "$OUT/pki"
"$CTL" ca create --dir "$OUT/pki/ca" >/dev/null
# A node's role and region are the first two parts of its name (home-us-1).
for n in home-us-1 home-us-2 edge-us-1 edge-asia-1; do
  IFS=- read -r role region _ <<<"$n"
  "$CTL" cert create --ca-dir "$OUT/pki/ca" --node "$n" --role "$role" --region "$region" --out "$OUT/pki/$n" >/dev/null
done
psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
sep='?'; case "$PG_URL" in *\?*) sep='&';; esac
export DATABASE_URL="$PG_URL${sep}search_path=$SCHEMA"
"$COURTD" migrate >/dev/null

echo "== two homes in us, edges in us and asia (separate processes, real Redis and Postgres)"
flags=() nodes=()
for i in 1 2; do
  mp=$(free_port SOCK_DGRAM); op=$(free_port SOCK_STREAM)
  "$COURTD" home --require-app-schema=false --node-id "home-us-$i" --region us --tls-dir "$OUT/pki/home-us-$i" --mesh-addr "127.0.0.1:$mp" \
    --ops-addr "127.0.0.1:$op" --judge dev --webhook none 2>"$OUT/home-$i.log" & pids+=($!)
  flags+=(--home "us:home-us-$i@127.0.0.1:$mp")
  nodes+=(--node "home-us-$i=http://127.0.0.1:$op")
done
urls=()
for e in us:edge-us-1 asia:edge-asia-1; do
  region=${e%%:*} id=${e#*:}
  port=$(free_port SOCK_STREAM); op=$(free_port SOCK_STREAM)
  "$COURTD" edge --node-id "$id" --region "$region" --tls-dir "$OUT/pki/$id" --addr "127.0.0.1:$port" \
    --ops-addr "127.0.0.1:$op" "${flags[@]}" 2>"$OUT/$id.log" & pids+=($!)
  nodes+=(--node "$id=http://127.0.0.1:$op")
  urls+=("http://127.0.0.1:$port")
  wait_ready "http://127.0.0.1:$port" /readyz
done

echo "== soak: $CONC couples running whole sessions back to back for $MINUTES min"
"$CTL" bench soak --urls "$(IFS=,; echo "${urls[*]}")" "${nodes[@]}" --concurrency "$CONC" \
  --duration "${MINUTES}m" --interval 10s --out "$OUT"
"$CTL" bench plot --in "$OUT/soak.json" --out "$OUT/soak.png"
"$CTL" bench soak-report --in "$OUT/soak.json" | tee "$OUT/soak.md"
echo "== done: results in $OUT"
