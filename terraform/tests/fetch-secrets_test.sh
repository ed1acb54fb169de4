#!/usr/bin/env bash
# Boots fetch-secrets (modules/nodes/files/fetch-secrets.sh, what every node
# runs before courtd) against a fake Keystone and Barbican: it must
# authenticate with the application credential, use the key-manager endpoint
# of its own region, write the role's environment and the node's certificate
# readable by the courtd group only (a Redis replica: its settings and no
# certificate), and refuse, naming the secret, when one is missing. Run by `make terraform-check`; needs curl, jq and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
script=$here/../modules/nodes/files/fetch-secrets.sh
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

cat > "$tmp/fake.py" <<'PY'
# A fake Keystone (application credential auth) and Barbican (list by name,
# payload), enough for fetch-secrets.
import json, sys, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRETS = {
    "courtmesh-asia-edge.env": 'REDIS_URL="rediss://:pw@redis:6380"\n',
    "courtmesh-asia-redis.conf": 'replicaof redis 6380\n',
    "courtmesh/edge-asia-1-v1.5.0/ca.pem": "CA\n",
    "courtmesh/edge-asia-1-v1.5.0/node.pem": "CERT\n",
    "courtmesh/edge-asia-1-v1.5.0/node-key.pem": "KEY\n",
}
IDS = {name: str(i) for i, name in enumerate(SECRETS)}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, ctype="application/json", headers=()):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_port
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        cred = body["auth"]["identity"]["application_credential"]
        if self.path != "/v3/auth/tokens" or cred != {"id": "ac-id", "secret": "ac-secret"}:
            return self.send(401, '{"error": "bad credential"}')
        catalog = [{"type": "key-manager", "endpoints": [
            {"interface": "public", "region_id": "us-east-1", "url": self.base() + "/wrong-region"},
            {"interface": "internal", "region_id": "ap-northeast-1", "url": self.base() + "/internal"},
            {"interface": "public", "region_id": "ap-northeast-1", "url": self.base() + "/barbican/v1/"}]}]
        self.send(201, json.dumps({"token": {"catalog": catalog}}), headers=[("X-Subject-Token", "tok")])
    def do_GET(self):
        if self.headers.get("X-Auth-Token") != "tok":
            return self.send(401, '{"error": "no token"}')
        u = urllib.parse.urlparse(self.path)
        if u.path == "/barbican/v1/secrets":
            name = urllib.parse.parse_qs(u.query).get("name", [""])[0]
            refs = [{"secret_ref": self.base() + "/barbican/v1/secrets/" + IDS[name]}] if name in IDS else []
            return self.send(200, json.dumps({"secrets": refs, "total": len(refs)}))
        parts = u.path.split("/")
        if len(parts) == 6 and parts[1:4] == ["barbican", "v1", "secrets"] and parts[5] == "payload":
            if self.headers.get("Accept") != "text/plain":
                return self.send(406, "want Accept: text/plain", "text/plain")
            for name, i in IDS.items():
                if i == parts[4]:
                    return self.send(200, SECRETS[name], "text/plain")
        self.send(404, '{"error": "not found"}')

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1], "w").write(str(srv.server_port))
srv.serve_forever()
PY
python3 "$tmp/fake.py" "$tmp/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
port=$(cat "$tmp/port")

cat > "$tmp/credential" <<EOF2
OS_AUTH_URL=http://127.0.0.1:$port/v3/
OS_REGION_NAME=ap-northeast-1
APP_CRED_ID=ac-id
APP_CRED_SECRET=ac-secret
EOF2
COURTMESH_GROUP=$(id -gn)
export COURTMESH_CREDENTIAL=$tmp/credential COURTMESH_RUN=$tmp/run COURTMESH_GROUP

fail() { echo "fetch-secrets_test: $*" >&2; exit 1; }

bash "$script" edge edge-asia-1-v1.5.0 asia || fail "fetch-secrets failed with every secret present"
[ "$(cat "$tmp/run/env")" = 'REDIS_URL="rediss://:pw@redis:6380"' ] || fail "wrong env: $(cat "$tmp/run/env")"
[ "$(cat "$tmp/run/tls/node-key.pem")" = KEY ] || fail "wrong node key"
[ "$(cat "$tmp/run/tls/node.pem")" = CERT ] && [ "$(cat "$tmp/run/tls/ca.pem")" = CA ] || fail "wrong certificate"
for f in env tls/ca.pem tls/node.pem tls/node-key.pem; do
  [ "$(stat -c %a "$tmp/run/$f")" = 440 ] || fail "$f is mode $(stat -c %a "$tmp/run/$f"), want 440"
done
[ "$(stat -c %a "$tmp/run")" = 750 ] || fail "run dir is mode $(stat -c %a "$tmp/run"), want 750"
[ -z "$(find "$tmp/run" -name '*.new')" ] || fail "left temporary files behind"

# Again (a restart): the files are replaced, not refused.
bash "$script" edge edge-asia-1-v1.5.0 asia || fail "a second run failed"

# A Redis replica: its settings, readable by its group only, and no mesh
# certificate asked for.
bash "$script" redis courtmesh-asia-redis asia || fail "fetch-secrets failed for the Redis replica"
[ "$(cat "$tmp/run/redis.conf")" = 'replicaof redis 6380' ] || fail "wrong replica settings: $(cat "$tmp/run/redis.conf")"
[ "$(stat -c %a "$tmp/run/redis.conf")" = 440 ] || fail "redis.conf is mode $(stat -c %a "$tmp/run/redis.conf"), want 440"
[ -z "$(find "$tmp/run" -name '*.new')" ] || fail "left temporary files behind"

# A node whose certificate the operator has not stored yet.
if out=$(bash "$script" edge edge-asia-3-v1.5.0 asia 2>&1); then
  fail "fetch-secrets succeeded without the node's certificate"
fi
case $out in
*"courtmesh/edge-asia-3-v1.5.0/ca.pem"*) ;;
*) fail "the error must name the missing secret: $out" ;;
esac

# A wrong credential.
sed -i 's/^APP_CRED_SECRET=.*/APP_CRED_SECRET=nope/' "$tmp/credential"
if bash "$script" edge edge-asia-1-v1.5.0 asia 2>/dev/null; then
  fail "fetch-secrets succeeded with a wrong credential"
fi
echo "fetch-secrets_test: ok"
