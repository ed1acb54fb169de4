# Helpers the bench scripts source: free_port SOCK_STREAM|SOCK_DGRAM prints a
# port free on loopback now; wait_ready URL PATH polls until it answers 2xx
# (30 s).
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }
wait_ready() {
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$1$2" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$(basename "$0"): $1$2 not ready" >&2; return 1
}
