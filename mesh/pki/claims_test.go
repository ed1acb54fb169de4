package pki_test

import (
	"crypto/tls"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

func parseURIs(t testing.TB, raw string) []*url.URL {
	var out []*url.URL
	for _, s := range strings.Split(raw, "\n") {
		if u, err := url.Parse(s); err == nil {
			out = append(out, u)
		}
	}
	return out
}

func TestParseClaims(t *testing.T) {
	t.Parallel()
	ok := map[string]struct {
		cn, uris string
		want     pki.Claims
	}{
		"edge":     {"e1", "courtmesh://node/e1\ncourtmesh://role/edge\ncourtmesh://region/asia", pki.Claims{ID: "e1", Role: wire.RoleEdge, Region: "asia"}},
		"operator": {"alice", "courtmesh://role/operator\ncourtmesh://operator/alice", pki.Claims{ID: "alice", Role: pki.RoleOperator}},
		"other schemes ignored": {"h", "https://x.example/\ncourtmesh://node/h\ncourtmesh://role/home\ncourtmesh://region/us",
			pki.Claims{ID: "h", Role: wire.RoleHome, Region: "us"}},
	}
	for name, c := range ok {
		got, err := pki.ParseClaims(c.cn, parseURIs(t, c.uris))
		require.NoError(t, err, name)
		require.Equal(t, c.want, got, name)
	}
	bad := map[string]struct{ cn, uris string }{
		"no role (old certificate)": {"e1", "courtmesh://node/e1"},
		"no name":                   {"e1", "courtmesh://role/edge\ncourtmesh://region/us"},
		"cn differs":                {"e2", "courtmesh://node/e1\ncourtmesh://role/edge\ncourtmesh://region/us"},
		"two roles":                 {"e1", "courtmesh://node/e1\ncourtmesh://role/edge\ncourtmesh://role/home\ncourtmesh://region/us"},
		"two names":                 {"e1", "courtmesh://node/e1\ncourtmesh://node/e1\ncourtmesh://role/edge\ncourtmesh://region/us"},
		"unknown role":              {"e1", "courtmesh://node/e1\ncourtmesh://role/judge\ncourtmesh://region/us"},
		"node claims operator role": {"e1", "courtmesh://node/e1\ncourtmesh://role/operator"},
		"operator claims node role": {"a", "courtmesh://operator/a\ncourtmesh://role/home\ncourtmesh://region/us"},
		"node and operator":         {"a", "courtmesh://operator/a\ncourtmesh://node/a\ncourtmesh://role/operator"},
		"operator with region":      {"a", "courtmesh://operator/a\ncourtmesh://role/operator\ncourtmesh://region/us"},
		"node without region":       {"e1", "courtmesh://node/e1\ncourtmesh://role/edge"},
		"unknown claim":             {"e1", "courtmesh://node/e1\ncourtmesh://role/edge\ncourtmesh://region/us\ncourtmesh://admin/yes"},
		"query smuggled":            {"e1", "courtmesh://node/e1\ncourtmesh://role/edge?home\ncourtmesh://region/us"},
		"nested path":               {"e1", "courtmesh://node/e1\ncourtmesh://role/edge/home\ncourtmesh://region/us"},
		"port on host":              {"e1", "courtmesh://node:1/e1\ncourtmesh://role/edge\ncourtmesh://region/us"},
	}
	for name, c := range bad {
		_, err := pki.ParseClaims(c.cn, parseURIs(t, c.uris))
		require.Error(t, err, name)
	}
}

// FuzzClaims feeds the claims parser arbitrary URI SANs. Whatever it
// accepts must be whole claims that a certificate could be issued for: a
// valid id equal to the CN, a known role, and a region exactly for nodes.
func FuzzClaims(f *testing.F) {
	f.Add("e1", "courtmesh://node/e1\ncourtmesh://role/edge\ncourtmesh://region/asia")
	f.Add("alice", "courtmesh://operator/alice\ncourtmesh://role/operator")
	f.Add("x", "courtmesh://node/x\ncourtmesh://role/home?x=1\ncourtmesh://region/us#f")
	f.Add("x", "courtmesh://node/x/../y\ncourtmesh://role/%68ome\ncourtmesh://region/us")
	f.Fuzz(func(t *testing.T, cn, raw string) {
		c, err := pki.ParseClaims(cn, parseURIs(t, raw))
		if err != nil {
			return
		}
		require.Equal(t, cn, c.ID)
		require.True(t, pki.ValidNodeID(c.ID), "id %q", c.ID)
		switch c.Role {
		case pki.RoleOperator:
			require.Empty(t, c.Region)
		case wire.RoleEdge, wire.RoleHome:
			require.True(t, pki.ValidRegion(c.Region), "region %q", c.Region)
		default:
			t.Fatalf("accepted role %q", c.Role)
		}
	})
}

func TestRenewedCertificateIsPickedUp(t *testing.T) {
	old := *pki.ReloadCheck
	*pki.ReloadCheck = 0 // every handshake looks at the files
	t.Cleanup(func() { *pki.ReloadCheck = old })
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	require.NoError(t, pki.NewCA(caDir))
	home := pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"}
	nodeDir := filepath.Join(dir, "home")
	require.NoError(t, pki.Issue(caDir, home, nodeDir, pki.IssueOptions{Validity: time.Hour}))
	edgeDir := filepath.Join(dir, "edge")
	require.NoError(t, pki.Issue(caDir, edgeAsia, edgeDir, pki.IssueOptions{}))
	id, err := pki.Load(nodeDir)
	require.NoError(t, err)
	edge, err := pki.Load(edgeDir)
	require.NoError(t, err)
	before := id.NotAfter()
	resetKey, err := id.StatelessResetKey()
	require.NoError(t, err)

	claims, err := pki.Renew(caDir, nodeDir, 0)
	require.NoError(t, err)
	require.Equal(t, home, claims)
	c, srv := net.Pipe()
	t.Cleanup(func() { _ = c.Close(); _ = srv.Close() })
	cc, sc := tls.Client(c, edge.ClientTLS()), tls.Server(srv, id.ServerTLS())
	errc := make(chan error, 1)
	go func() { errc <- sc.Handshake() }()
	require.NoError(t, cc.Handshake())
	require.NoError(t, <-errc)
	require.Equal(t, id.NotAfter(), cc.ConnectionState().PeerCertificates[0].NotAfter, "the peer is shown the renewed certificate")
	require.WithinDuration(t, time.Now().Add(pki.DefaultValidity), id.NotAfter(), time.Minute)
	require.True(t, id.NotAfter().After(before.Add(24*time.Hour)), "the renewed certificate is in use without a restart")
	again, err := id.StatelessResetKey()
	require.NoError(t, err)
	require.Equal(t, resetKey, again, "renewing keeps the key")

	// A certificate for another identity put in its place is not taken.
	require.NoError(t, pki.Issue(caDir, pki.Claims{ID: "home-us-1", Role: wire.RoleEdge, Region: "us"}, nodeDir, pki.IssueOptions{Force: true}))
	changed, err := id.Refresh()
	require.ErrorIs(t, err, pki.ErrBadClaims)
	require.False(t, changed)
	require.Equal(t, home, id.Claims)
}
