#!/usr/bin/env bash
# The drain rows of make bench: two homes in us and edges in us and asia as
# separate processes on the real Redis and Postgres; `courtctl bench drain`
# drains, through the nodes' admin listeners with an operator certificate,
#   1. the us edge holding DRAIN registered sockets, over DRAIN_WINDOW: when
#      each socket was told to reconnect, and the time until the edge is empty;
#   2. the home holding the more of 2*DRAIN PENDING sessions: for a sample of
#      its sessions the time until the other home acquired each (the pause),
#      and the time until the drained home is empty.
# Writes drain-edge.json and drain-home.json to $OUT.
#
#   DRAIN         sockets on the edge, sessions on the home (10000)
#   DRAIN_WINDOW  the edge's drain window (30s)
#   OUT           output folder (bench-out)
set -euo pipefail
cd "$(dirname "$0")/.."
DRAIN=${DRAIN:-10000}
DRAIN_WINDOW=${DRAIN_WINDOW:-30s}
OUT=${OUT:-bench-out}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
PG_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export SUPABASE_JWT_SECRET=${SUPABASE_JWT_SECRET:-bench-secret-$RANDOM$RANDOM}
export REDIS_URL
export COURT_REDIS_PREFIX="bench-drain:$RANDOM:"

ulimit -n "$(ulimit -Hn)"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
SCHEMA="bench_drain_$RANDOM$RANDOM"
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
metric() { curl -fsS "$1/metrics" | awk -v m="$2" '$1==m{print $2}'; }

echo "== drain: build"
mkdir -p "$OUT/bin"
go build -o "$OUT/bin/courtd" ./cli/courtd
go build -o "$OUT/bin/courtctl" ./cli/courtctl
CTL="$OUT/bin/courtctl"
COURTD="$OUT/bin/courtd"
PKI="$OUT/pki-drain"
rm -rf "$PKI"
"$CTL" ca create --dir "$PKI/ca" >/dev/null
for n in home:us:home-us-1 home:us:home-us-2 edge:us:edge-us-1 edge:asia:edge-asia-1; do
  IFS=: read -r role region id <<<"$n"
  "$CTL" cert create --ca-dir "$PKI/ca" --node "$id" --role "$role" --region "$region" --out "$PKI/$id" >/dev/null
done
"$CTL" cert create --ca-dir "$PKI/ca" --operator --name bench --out "$PKI/operator" >/dev/null
export COURTCTL_TLS_DIR="$PKI/operator"
psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
sep='?'; case "$PG_URL" in *\?*) sep='&';; esac
export DATABASE_URL="$PG_URL${sep}search_path=$SCHEMA"
"$COURTD" migrate >/dev/null

for i in 1 2; do # the edges find the homes in the membership: no --home
  op=$(free_port SOCK_STREAM)
  "$COURTD" home --require-app-schema=false --node-id "home-us-$i" --region us --tls-dir "$PKI/home-us-$i" --mesh-addr "127.0.0.1:$(free_port SOCK_DGRAM)" \
    --ops-addr "127.0.0.1:$op" --judge dev --webhook none 2>"$OUT/drain-home-$i.log" & pids+=($!)
  eval "HOME${i}_OPS=http://127.0.0.1:$op"
done
US_PORT=$(free_port SOCK_STREAM); ASIA_PORT=$(free_port SOCK_STREAM)
"$COURTD" edge --node-id edge-us-1 --region us --tls-dir "$PKI/edge-us-1" --addr "127.0.0.1:$US_PORT" 2>"$OUT/drain-edge-us.log" & pids+=($!)
"$COURTD" edge --node-id edge-asia-1 --region asia --tls-dir "$PKI/edge-asia-1" --addr "127.0.0.1:$ASIA_PORT" 2>"$OUT/drain-edge-asia.log" & pids+=($!)
US="http://127.0.0.1:$US_PORT"; ASIA="http://127.0.0.1:$ASIA_PORT"
wait_ready "$US" /readyz; wait_ready "$ASIA" /readyz
"$CTL" status

echo "== drain: the us edge holding $DRAIN sockets, window $DRAIN_WINDOW"
"$CTL" bench drain edge-us-1 --url "$US" --sockets "$DRAIN" --window "$DRAIN_WINDOW" | tee "$OUT/drain-edge.json"

echo "== drain: a home holding about $DRAIN of $((DRAIN * 2)) PENDING sessions"
"$CTL" bench sessions --urls "$ASIA" --count "$((DRAIN * 2))" >/dev/null
for _ in $(seq 1 300); do # settle: the two homes hold every session between them
  a=$(metric "$HOME1_OPS" court_home_sessions); b=$(metric "$HOME2_OPS" court_home_sessions)
  [ "$(printf '%.0f' "$(echo "$a + $b" | bc)")" -ge "$((DRAIN * 2))" ] && break; sleep 0.1
done
if [ "$(printf '%.0f' "$a")" -ge "$(printf '%.0f' "$b")" ]; then VICTIM=home-us-1; else VICTIM=home-us-2; fi
"$CTL" bench drain "$VICTIM" --sample 500 | tee "$OUT/drain-home.json"
"$CTL" status
psql "$PG_URL" -Atc "SELECT 'transitions='||count(*)||' distinct='||count(DISTINCT (session_id, version)) FROM $SCHEMA.court_transitions" | tee "$OUT/drain-transitions.txt"
echo "== drain: done"
