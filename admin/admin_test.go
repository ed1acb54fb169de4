package admin_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/admin"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeNode records the admin calls it obeyed.
type fakeNode struct {
	mu     sync.Mutex
	state  string
	window time.Duration
	to     []admin.Target
}

func (n *fakeNode) Status() admin.Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return admin.Status{ID: "h1", Role: "home", Region: "us", State: n.state}
}

func (n *fakeNode) Drain(window time.Duration, to []admin.Target) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(to) > 0 && to[0].Node == "h1" {
		return errors.New("h1 cannot take its own sessions")
	}
	n.state, n.window, n.to = "draining", window, to
	return nil
}

func (n *fakeNode) Migrate(context.Context, string, string, string) error { return nil }

func (n *fakeNode) Undrain() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.state = "active"
}

// serve runs the admin server of a node with identity id until the test
// ends, and returns its address.
func serve(t *testing.T, node admin.Node, id *pki.Identity) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := admin.NewServer(node, id.ServerTLS(), func(cs tls.ConnectionState) error {
		_, err := pki.RequireOperator(cs)
		return err
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return ln.Addr().String()
}

// TestAdminAuth: drain with no certificate, with a node certificate, and
// with an operator certificate from another CA are all refused, each with
// what to do, and the node stays active; the cluster's operator drains and
// undrains it.
func TestAdminAuth(t *testing.T) {
	t.Parallel()
	ids, err := pki.DevCluster(t.TempDir(),
		pki.Claims{ID: "h1", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "e1", Role: wire.RoleEdge, Region: "us"},
		pki.Claims{ID: "alice", Role: pki.RoleOperator})
	require.NoError(t, err)
	other, err := pki.DevCluster(t.TempDir(), pki.Claims{ID: "mallory", Role: pki.RoleOperator})
	require.NoError(t, err)
	node := &fakeNode{state: "active"}
	addr := serve(t, node, ids["h1"])
	ctx := t.Context()

	noCert := ids["alice"].ClientTLS()
	noCert.GetClientCertificate = nil
	for name, tc := range map[string]struct {
		conf *tls.Config
		want string
	}{
		"no certificate":   {noCert, "an operator certificate is required"},
		"node certificate": {ids["e1"].ClientTLS(), "not an operator"},
		"other CA":         {other["mallory"].ClientTLS(), "admin call to"},
	} {
		_, err := admin.NewClient(tc.conf).Drain(ctx, addr, admin.DrainRequest{Window: admin.Duration(time.Second)})
		require.ErrorContains(t, err, tc.want, name)
		require.Equal(t, "active", node.Status().State, "%s: the node stays active", name)
	}

	op := admin.NewClient(ids["alice"].ClientTLS())
	_, err = op.Drain(ctx, addr, admin.DrainRequest{To: []admin.Target{{Node: "h2"}}})
	require.ErrorContains(t, err, "want a node and its region", "a target without a region")
	_, err = op.Drain(ctx, addr, admin.DrainRequest{To: []admin.Target{{Node: "h1", Region: "us"}}})
	require.ErrorContains(t, err, "cannot take its own sessions", "the node's refusal is shown")
	require.Equal(t, "active", node.Status().State, "a refused drain leaves the node active")
	to := []admin.Target{{Node: "h2", Region: "us"}, {Node: "h3", Region: "eu"}}
	st, err := op.Drain(ctx, addr, admin.DrainRequest{To: to})
	require.NoError(t, err)
	require.Equal(t, "draining", st.State)
	require.Equal(t, admin.DefaultWindow, node.window, "no window: the default")
	require.Equal(t, to, node.to)
	st, err = op.Undrain(ctx, addr)
	require.NoError(t, err)
	require.Equal(t, "active", st.State)
	st, err = op.Status(ctx, addr)
	require.NoError(t, err)
	require.Equal(t, admin.Status{ID: "h1", Role: "home", Region: "us", State: "active"}, st)
}
