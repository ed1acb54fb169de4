package cli

import (
	"strings"

	"courtmesh/mesh"
)

// parsePeer parses "<region>:<node-id>@<host:port>", the form of --home.
func parsePeer(s string) (mesh.Peer, error) {
	region, rest, ok := strings.Cut(s, ":")
	if !ok {
		return mesh.Peer{}, usagef("peer %q: want <region>:<node-id>@<host:port>", s)
	}
	id, addr, ok := strings.Cut(rest, "@")
	if !ok || region == "" || id == "" || addr == "" {
		return mesh.Peer{}, usagef("peer %q: want <region>:<node-id>@<host:port>", s)
	}
	return mesh.Peer{NodeID: id, Region: region, Addr: addr}, nil
}
