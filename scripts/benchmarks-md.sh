#!/usr/bin/env bash
# Writes docs/benchmarks.md from the results scripts/bench.sh left in $1.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-bench-out}
CTL=$DIR/bin/courtctl
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
  echo "- everything on loopback, the load generator sharing the cores with the servers; file descriptors capped at $(ulimit -Hn) per process"
  echo
  echo "## Commands"
  echo
  echo '```sh'
  echo "make bench            # IDLE=${IDLE:-10000} COUPLES=${COUPLES:-500} CONC=${CONC:-50} FAILOVER=${FAILOVER:-10000} scripts/bench.sh"
  echo '```'
  echo
  echo "- courtmesh: \`courtd home\` (one node; two for the failover row), \`courtd edge\` in us and in asia, separate"
  echo "  processes, the real Redis and Postgres, the dev judge. The peer: two \`node server.js\` instances on their own Redis."
  echo "- memory: idle registered sockets on one edge (one peer instance); RSS delta of that process over the sockets."
  echo "- latency: whole sessions (serve → … → CLOSED, 12 actions), creator and partner on different edges (instances);"
  echo "  each action is timed from the actor's emit to the partner's court:state showing it."
  echo "- failover: two homes share the sessions; the fuller one gets kill -9; timed until the survivor's"
  echo "  \`court_home_sessions\` counts every session (each installed with its timers armed)."
  echo
  echo "## Results"
  echo
  "$CTL" bench report --dir "$DIR"
} > docs/benchmarks.md
echo "wrote docs/benchmarks.md"
