#!/bin/bash
# fetch-secrets ROLE NODE_ID REGION: reads this node's secrets from its cloud
# region's Barbican into /run/courtmesh (tmpfs, gone at power-off) for
# courtd.service:
#   courtmesh-REGION-ROLE.env            -> /run/courtmesh/env (Terraform stores it)
#   courtmesh/NODE_ID/{ca,node,node-key}.pem -> /run/courtmesh/tls (the operator stores them)
# or, for ROLE redis (a region's Redis replica, which speaks no mesh), for
# courtmesh-redis-replica.service, readable by the redis group:
#   courtmesh-REGION-redis.conf          -> /run/courtmesh/redis.conf (Terraform stores it)
# It authenticates with the application credential in /etc/courtmesh/credential,
# whose access rules let it only read Barbican secrets. (COURTMESH_CREDENTIAL,
# COURTMESH_RUN and COURTMESH_GROUP move those paths, for its test.)
set -euo pipefail
role=$1 node=$2 region=$3
credential=${COURTMESH_CREDENTIAL:-/etc/courtmesh/credential}
run=${COURTMESH_RUN:-/run/courtmesh}
if [ "$role" = redis ]; then
  group=${COURTMESH_GROUP:-redis}
else
  group=${COURTMESH_GROUP:-courtd}
fi
# shellcheck source=/dev/null
. "$credential"

resp=$(mktemp)
trap 'rm -f "$resp"' EXIT
body=$(jq -n --arg id "$APP_CRED_ID" --arg secret "$APP_CRED_SECRET" \
  '{auth: {identity: {methods: ["application_credential"], application_credential: {id: $id, secret: $secret}}}}')
token=$(curl -fsS --retry 10 --retry-connrefused -D - -o "$resp" \
  -H 'Content-Type: application/json' -d "$body" "${OS_AUTH_URL%/}/auth/tokens" |
  awk 'tolower($1) == "x-subject-token:" {print $2}' | tr -d '\r')
barbican=$(jq -r --arg r "$OS_REGION_NAME" \
  '[.token.catalog[] | select(.type == "key-manager") | .endpoints[] | select(.interface == "public" and .region_id == $r) | .url][0] // empty' "$resp")
if [ -z "$token" ] || [ -z "$barbican" ]; then
  echo "fetch-secrets: no token, or no key-manager endpoint in $OS_REGION_NAME" >&2
  exit 1
fi
barbican=${barbican%/}
barbican=${barbican%/v1}

# fetch NAME DEST: the payload of the one secret called NAME.
fetch() {
  local ref
  ref=$(curl -fsS --retry 10 -H "X-Auth-Token: $token" -G --data-urlencode "name=$1" "$barbican/v1/secrets" |
    jq -r '.secrets | if length == 1 then .[0].secret_ref else empty end')
  if [ -z "$ref" ]; then
    echo "fetch-secrets: want exactly one Barbican secret named $1 in $OS_REGION_NAME (see terraform/README.md)" >&2
    exit 1
  fi
  curl -fsS --retry 10 -H "X-Auth-Token: $token" -H 'Accept: text/plain' -o "$2" "$ref/payload"
}

umask 077
if [ "$role" = redis ]; then
  install -d -m 0750 -g "$group" "$run"
  fetch "courtmesh-$region-redis.conf" "$run/redis.conf.new"
  files="redis.conf"
else
  install -d -m 0750 -g "$group" "$run" "$run/tls"
  fetch "courtmesh-$region-$role.env" "$run/env.new"
  for f in ca.pem node.pem node-key.pem; do
    fetch "courtmesh/$node/$f" "$run/tls/$f.new"
  done
  files="env tls/ca.pem tls/node.pem tls/node-key.pem"
fi
for f in $files; do
  chgrp "$group" "$run/$f.new"
  chmod 0440 "$run/$f.new"
  mv -f "$run/$f.new" "$run/$f"
done
