#!/usr/bin/env bash
# Writes docs/benchmarks.md from the results scripts/bench.sh left in $1, with
# the asia section from those scripts/bench-asia.sh left there, and the soak
# section from those scripts/soak.sh left in $1/soak, when present (else the
# soak section the document already has is kept, with its own date).
#   benchmarks-md.sh --soak DIR   only (re)writes the soak section, from DIR
#   benchmarks-md.sh --asia DIR   only (re)writes the asia section, from DIR
#   benchmarks-md.sh --drain DIR  only (re)writes the drain section, from DIR
set -euo pipefail
cd "$(dirname "$0")/.."
DOC=docs/benchmarks.md
PNG=benchmarks-soak.png # beside $DOC

# soak_section DIR: the soak section, between markers so that it can be
# rewritten alone; the plot is copied beside the document.
soak_section() {
  local dir=$1
  cp "$dir/soak.png" "docs/$PNG"
  local minutes started
  minutes=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["duration_seconds"]/60, 1))' "$dir/soak.json")
  started=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["started"][:16].replace("T", " "))' "$dir/soak.json")
  echo "<!-- soak:begin (scripts/benchmarks-md.sh --soak) -->"
  echo "## Soak: memory under sustained load"
  echo
  echo "Written by \`make soak\` (scripts/soak.sh, here SOAK_MINUTES=$minutes; \`make bench\` runs it for 10 minutes), started $started UTC,"
  echo "$(nproc) cores: two \`courtd home\` and two \`courtd edge\` (us, asia) as separate processes on the real Redis and Postgres,"
  echo "the dev judge, real phase timers (each session holds 30 s in CLOSED before it leaves memory). \`courtctl bench soak\`"
  echo "runs whole sessions back to back, creator and partner on different edges, and samples every node's /metrics every"
  echo "10 s: \`process_resident_memory_bytes\`, \`go_memstats_heap_inuse_bytes\`, \`go_goroutines\` and \`court_home_sessions\`."
  echo "Raw samples: soak.json and soak.csv in the output folder. How to read these metrics: [performance.md](performance.md#memory-what-is-exported-and-how-to-read-it)."
  echo
  "$dir/bin/courtctl" bench soak-report --in "$dir/soak.json" --image "$PNG"
  echo
  echo "Retention (\`courtd home --retention\`, default 30 days, [decisions.md](decisions.md#retention-of-history-and-outbox-rows-issue-14))"
  echo "bounds \`court_transitions\` and the delivered \`court_outbox\` rows; \`court_sessions\` (the rows of sessions that closed with a case),"
  echo "\`cases\` and \`verdicts\` are the app's history and are kept."
  echo "<!-- soak:end -->"
}

# asia_section DIR: the asia rows (issue 13), between markers so that they can
# be rewritten alone.
asia_section() {
  local dir=$1
  echo "<!-- asia:begin (scripts/benchmarks-md.sh --asia) -->"
  echo "## Asia: an asia couple with the WAN on every path, beside a us couple"
  echo
  echo "Written by \`make bench-asia\` (scripts/bench-asia.sh; part of \`make bench\`), $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores:"
  echo "\`courtd dev --wan\`, one process with a home and an edge in us and an edge in asia on the real Redis and Postgres,"
  echo "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["couples"], "couples a run,", r["concurrency"], "in flight")' "$dir/ours-wan-asia-after.json"),"
  echo "both partners of a couple on one edge. The catalog's 150 ms us–asia RTT is on every path that crosses: the mesh links"
  echo "and the asia edge's traffic to the Redis primary (in us, beside the home; \`meshtest.Network.ProxyTCP\`)."
  echo "**Before**: the asia edge reads the directory from the primary across the ocean (no \`REDIS_REPLICA_URL\`)."
  echo "**After**: it reads a replica in asia that replicates from the primary across the same simulated ocean."
  echo "Rate limits (counted in the edge) and presence (written after the ack) are off the path in both; the issue's table"
  echo "measured main before any of it: register 304 ms, serve 154 ms, submit_evidence 457 ms, analysis 307 ms."
  echo "Each action is timed from the actor's emit to the partner's court:state showing it, so one mesh RTT is its floor;"
  echo "connect + register is each partner's first connect, a user in no session."
  if [ -f "$dir/ours-warm-wan-asia-after.json" ]; then
    echo "Each run follows $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["couples"])' "$dir/ours-warm-wan-asia-after.json") unrecorded warm-up couples on the same mesh: a fresh link starts QUIC's congestion window"
    echo "at 32 packets, so the first sessions' large states wait for it to grow (the warm-up of the asia \"after\" run: analysis"
    echo "$(python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["actions"]["analysis"]; print("p50 %.1f / p90 %.1f ms" % (a["p50_ms"], a["p90_ms"]))' "$dir/ours-warm-wan-asia-after.json"); decisions.md, issue 13). The rows are the steady state."
  fi
  if [ -f "$dir/asia-load.txt" ]; then
    echo "The machine's 1-minute load average was $(head -1 "$dir/asia-load.txt") at the start (the runs wait, at most 2 minutes, for it to fall below 1.5"
    echo "after the sections before them) and $(tail -1 "$dir/asia-load.txt") at the end"
    echo "(on $(nproc) cores): the us column shows what the local work cost under that load, and the asia columns carry it too."
  fi
  echo
  "$dir/bin/courtctl" bench report --wan --dir "$dir"
  echo
  echo "Reading it: what an asia action costs above the us couple's is the crossing; what is left above one RTT + 10 ms"
  echo "is this machine's local work, which the us column shows: analysis is two fenced commits around a judge call,"
  echo "priming_complete's and resolution_pick's second actions commit the judge's and the verdict's 17–41 KB values, and"
  echo "their states are encoded for each socket; one couple at a time every action's p99 was 155–160 ms (40 couples;"
  echo "decisions.md, issue 13)."
  if [ -f "$dir/asia-commit-floor.txt" ] && [ -f "$dir/asia-commits.txt" ]; then
    echo
    python3 - "$dir/asia-commit-floor.txt" "$dir/asia-commits.txt" <<'PY'
import re, sys
floor = {}
for line in open(sys.argv[1]):
    m = re.match(r"BenchmarkFencedCommitFloorPaced/gap=(\S+?)-\d+\s", line)
    if m:
        metrics = dict((k, float(v)) for v, k in re.findall(r"([\d.]+) (\S+)", line.split(None, 2)[2]))
        floor[m.group(1)] = metrics
buckets, count = [], 0
for line in open(sys.argv[2]):
    m = re.match(r'court_home_commit_seconds_bucket\{.*le="([^"]+)"\} (\d+)', line)
    if m and m.group(1) != "+Inf":
        buckets.append((float(m.group(1)), int(m.group(2))))
    m = re.match(r"court_home_commit_seconds_count\S* (\d+)", line)
    if m:
        count = int(m.group(1))
over = lambda bound: 100.0 * (count - dict(buckets)[bound]) / count if count else 0
b2b, paced = floor.get("0s"), floor.get("30ms")
if b2b and paced:
    print("Local work at the asia runs' pace. A fenced commit alone (`BenchmarkFencedCommitFloorPaced`, the floor's one-row")
    print("commit, 300 each) takes p50 %.0f / p99 %.0f µs back to back and p50 %.0f / p99 %.0f µs at one every 30 ms, about the" % (
        b2b["p50-us"], b2b["p99-us"], paced["p50-us"], paced["p99-us"]))
    print("pace of these runs, with %.1f× the backend CPU (%.0f against %.0f µs): between steps this machine's cores sleep, and" % (
        paced["pg-cpu-us/op"] / b2b["pg-cpu-us/op"], paced["pg-cpu-us/op"], b2b["pg-cpu-us/op"]))
    print("every step of an action's local work pays to wake them. The home's %d commits over the asia \"after\" couples" % count)
    print("(`court_home_commit_seconds`, warm-up included): %.0f %% took over 1.6 ms, %.1f %% over 3.2 ms, %.1f %% over 6.4 ms;" % (
        over(0.0016), over(0.0032), over(0.0064)))
    print("analysis has two of them on its path and the judge's step between, so its p99 carries two such tails.")
PY
  fi
  echo "<!-- asia:end -->"
}

# drain_section DIR: the drain rows (issue 8) from what scripts/bench-drain.sh
# left in DIR, between markers so that they can be rewritten alone.
drain_section() {
  local dir=$1
  echo "<!-- drain:begin (scripts/benchmarks-md.sh --drain) -->"
  echo "## Drain: an edge holding its sockets, a home holding its sessions"
  echo
  echo "Written by scripts/bench-drain.sh (part of \`make bench\`), $(date -u -r "$dir/drain-home.json" '+%Y-%m-%d %H:%M UTC'), $(nproc) cores:"
  echo "two \`courtd home\` in us and edges in us and asia as separate processes on the real Redis and Postgres, drained"
  echo "through their admin listeners by \`courtctl bench drain\` with an operator certificate. An edge's pause is when each"
  echo "socket was told to reconnect; a home's is, for a sample of its sessions, the time from the drain call until the"
  echo "other home acquired the session (an upper bound of the time nobody could act for it)."
  echo
  python3 - "$dir" <<'PY2'
import json, sys
d = sys.argv[1]
edge = json.load(open(d + "/drain-edge.json"))
home = json.load(open(d + "/drain-home.json"))
tr = dict(kv.split("=") for kv in open(d + "/drain-transitions.txt").read().split())
def row(r, what, target, met):
    p = r["pause"]
    print("| %s `%s` holding %d %s | %.1f s | %.0f / %.0f / %.0f ms | %d | %s | %s |" % (
        r["role"], r["node"], r["held"], what, r["empty_seconds"], p["p50_ms"], p["p99_ms"], p["max_ms"],
        r["client_errors"] + p["errors"], target, met))
print("| drained | empty after | pause p50 / p99 / max | client errors | target | met? |")
print("|---|---|---|---|---|---|")
row(edge, "sockets (window %s)" % edge.get("window", ""), "empty within the window", "met" if edge["empty_seconds"] <= 30.5 else "**missed**")
ok = home["empty_seconds"] <= 30 and home["pause"]["p99_ms"] <= 1000 and home["client_errors"] + home["pause"]["errors"] == 0
row(home, "sessions", "empty ≤ 30 s, p99 pause ≤ 1 s, no error", "met" if ok else "**missed**")
print()
print("Transitions in the store after both drains: %s, %s distinct (no update lost or applied twice)." % (tr["transitions"], tr["distinct"]))
PY2
  echo "<!-- drain:end -->"
}

# replace_section NAME CONTENT: puts CONTENT in place of the NAME section of
# $DOC, or at its end.
replace_section() {
  if grep -q "^<!-- $1:begin" "$DOC"; then
    NAME="$1" SECTION="$2" python3 - "$DOC" <<'PY'
import os, re, sys
path, name = sys.argv[1], os.environ["NAME"]
doc = open(path).read()
doc = re.sub(r"<!-- %s:begin.*?<!-- %s:end -->" % (name, name), lambda _: os.environ["SECTION"], doc, flags=re.S)
open(path, "w").write(doc)
PY
  else
    printf '\n%s\n' "$2" >> "$DOC"
  fi
  echo "wrote the $1 section of $DOC"
}

case "${1:-}" in
--soak) replace_section soak "$(soak_section "${2:-bench-out/soak}")"; exit 0 ;;
--asia) replace_section asia "$(asia_section "${2:-bench-out}")"; exit 0 ;;
--drain) replace_section drain "$(drain_section "${2:-bench-out}")"; exit 0 ;;
esac

DIR=${1:-bench-out}
CTL=$DIR/bin/courtctl
KEPT_SOAK=$(sed -n '/^<!-- soak:begin/,/^<!-- soak:end -->/p' "$DOC" 2>/dev/null || true)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`make bench\` (scripts/bench.sh, then scripts/benchmarks-md.sh) from one run on one machine:"
  echo "courtmesh and the peer (\`../shared/peers/socketio-redis\`: Socket.IO + Redis adapter + Redis locks) measured"
  echo "side by side by the same load generator (\`courtctl bench\`). Where we are behind, see [performance.md](performance.md)."
  echo
  echo "## Machine and date"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- CPU: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1); memory: $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- $(go version | cut -d' ' -f3-4); node $(node --version); redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'); $(psql --version | cut -d' ' -f2-3)"
  echo "- everything on loopback; file descriptors capped at $(ulimit -Hn) per process. Unpinned rows: the load generator shares the cores"
  echo "  with the servers. Pinned rows: the load generator on core 0, every server process (ours: home, edges, their Postgres"
  echo "  backends and Redis; the peer: both instances and its Redis) on core 1, with \`taskset\`"
  echo "- cost: user+system CPU (/proc/<pid>/stat) over the sessions of every server process, summed and divided by the completed"
  echo "  sessions; ours counts the home and both edges, the Postgres backends whose application_name is the bench's schema"
  echo "  (pg_stat_activity.pid) and the machine's Redis (its process_id; the bench is its only user), the peer its two node"
  echo "  processes and its own redis-server. The load generator reports its own CPU the same way"
  echo
  echo "## Commands"
  echo
  echo '```sh'
  echo "make bench            # IDLE=${IDLE:-10000} COUPLES=${COUPLES:-500} CONC=${CONC:-50} FAILOVER=${FAILOVER:-10000} SATURATION=${SATURATION:-100} THINK=${THINK:-2s} scripts/bench.sh"
  echo '```'
  echo
  echo "- courtmesh: \`courtd home\` (one node; two for the failover row), \`courtd edge\` in us and in asia, separate"
  echo "  processes, the real Redis and Postgres, the dev judge. The peer: two \`node server.js\` instances on their own Redis."
  echo "- memory: idle registered sockets on one edge (one peer instance); RSS delta of that process over the sockets."
  echo "- latency: whole sessions (serve → … → CLOSED, 12 actions), creator and partner on different edges (instances);"
  echo "  each action is timed from the actor's emit to the partner's court:state showing it. Two loads, each row says which:"
  echo "  the **closed loop** (the couples rows and the unpinned 2k/6k rows: CONC couples in flight acting back to back, as"
  echo "  much as the servers take, so p99 is queueing at saturation) and **paced** (the pinned 2k/6k rows: all 200 couples in"
  echo "  flight, each acting once every THINK ±50 %, a fixed offered load well below either side's pinned saturation, so p99"
  echo "  is the latency a person acting at a human pace sees; its row gives the offered and each side's achieved rate)."
  echo "  Saturation itself is its own row: pinned sessions per second at SATURATION in flight."
  echo "- failover: two homes share the sessions; the fuller one gets kill -9; timed until the survivor's"
  echo "  \`court_home_sessions\` counts every session (each installed with its timers armed)."
  echo
  echo "## Results"
  echo
  "$CTL" bench report --dir "$DIR"
  cp "$DIR/bench.png" docs/benchmarks.png
  echo
  echo "![Latency distributions (CDF) of ours and the peer, server CPU per whole session by process, memory per idle socket by socket count](benchmarks.png)"
  if [ -f "$DIR/drain-home.json" ]; then
    echo
    drain_section "$DIR"
  fi
  if [ -f "$DIR/ours-wan-asia-after.json" ]; then
    echo
    asia_section "$DIR"
  fi
  if [ -f "$DIR/soak/soak.json" ]; then
    echo
    soak_section "$DIR/soak"
  elif [ -n "$KEPT_SOAK" ]; then
    echo
    echo "$KEPT_SOAK"
  fi
} > "$DOC"
echo "wrote docs/benchmarks.md"
