# Helpers the bench scripts source: free_port SOCK_STREAM|SOCK_DGRAM prints a
# port free on loopback now; wait_ready URL PATH polls until it answers 2xx
# (30 s); used_prefix PREFIX records a COURT_REDIS_PREFIX a script's mesh
# writes under in the machine's Redis, and drop_prefixes (at exit) deletes
# the keys under every one recorded, so that runs do not pile keys up for
# later ones (a test's cleanup scan of its own prefix reads the whole
# keyspace).
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
wait_ready() {
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1$2" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$(basename "$0"): $1$2 not ready" >&2; return 1
}
redis_prefixes=()
used_prefix() { redis_prefixes+=("$1"); }
drop_prefixes() {
  local p
  for p in "${redis_prefixes[@]}"; do
    redis-cli -u "$REDIS_URL" --scan --pattern "$p*" | xargs -r -n 1000 redis-cli -u "$REDIS_URL" del >/dev/null
  done
}
