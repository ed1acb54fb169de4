package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

// run executes a command tree with args and returns its output and the exit
// code Execute would give.
func run(t *testing.T, root *cobra.Command, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	code := Execute(t.Context(), root)
	return out.String(), code
}

// TestHelpRenders checks every flag of both binaries: pflag takes a
// backquoted word in a usage string as the flag's value name and drops it
// from the text, so no usage may contain one.
func TestHelpRenders(t *testing.T) {
	t.Parallel()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			require.NotContains(t, f.Usage, "`", "%s --%s", c.CommandPath(), f.Name)
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewCourtdCmd())
	walk(NewCourtctlCmd())
	usage := newHomeCmd().Flags().FlagUsages()
	require.Contains(t, usage, `node-key.pem from "courtctl cert create"`)
}

func TestCertCreateRefusesToOverwriteKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caDir, out := filepath.Join(dir, "ca"), filepath.Join(dir, "edge")
	_, code := run(t, NewCourtctlCmd(), "ca", "create", "--dir", caDir)
	require.Equal(t, exitOK, code)
	args := []string{"cert", "create", "--ca-dir", caDir, "--out", out, "--node", "edge-us-1", "--role", "edge", "--region", "us"}
	msg, code := run(t, NewCourtctlCmd(), args...)
	require.Equal(t, exitOK, code, msg)
	id, err := pki.Load(out)
	require.NoError(t, err)
	require.Equal(t, pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"}, id.Claims)

	_, code = run(t, NewCourtctlCmd(), args...)
	require.Equal(t, exitError, code, "an existing key is kept")
	_, code = run(t, NewCourtctlCmd(), append(args, "--force")...)
	require.Equal(t, exitOK, code)

	for _, bad := range [][]string{
		{"--node", "n", "--role", "judge", "--region", "us"},
		{"--node", "n", "--role", "edge", "--region", "mars"},
		{"--node", "n", "--role", "edge"},
		{"--operator", "--name", "alice", "--region", "us"},
		{"--operator"},
	} {
		_, code := run(t, NewCourtctlCmd(), append([]string{"cert", "create", "--ca-dir", caDir, "--out", t.TempDir()}, bad...)...)
		require.Equal(t, exitUsage, code, "%v", bad)
	}

	opDir := filepath.Join(dir, "alice")
	msg, code = run(t, NewCourtctlCmd(), "cert", "create", "--ca-dir", caDir, "--out", opDir, "--operator", "--name", "alice")
	require.Equal(t, exitOK, code, msg)
	op, err := pki.LoadOperator(opDir)
	require.NoError(t, err)
	require.True(t, op.Operator())

	msg, code = run(t, NewCourtctlCmd(), "cert", "renew", "--ca-dir", caDir, "--dir", out)
	require.Equal(t, exitOK, code, msg)
	require.Contains(t, msg, "renewed (valid 90 days)")
}

func TestNodeRefusesCertificateNotItsOwn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := pki.DevCluster(dir, pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"})
	require.NoError(t, err)
	tls := filepath.Join(dir, "edge-us-1")
	for name, f := range map[string]roleFlags{
		"other id":     {nodeID: "edge-us-2", region: "us", tlsDir: tls},
		"other region": {nodeID: "edge-us-1", region: "eu", tlsDir: tls},
	} {
		_, _, err := f.load(wire.RoleEdge)
		var ue usageError
		require.ErrorAs(t, err, &ue, name)
	}
	f := roleFlags{nodeID: "edge-us-1", region: "us", tlsDir: tls}
	_, _, err = f.load(wire.RoleHome)
	require.ErrorContains(t, err, "is for edge edge-us-1 in us, but this is home edge-us-1 in us")
	_, _, err = f.load(wire.RoleEdge)
	require.NoError(t, err)
}

func TestHomeAnswersEdgesOnly(t *testing.T) {
	t.Parallel()
	h := &homeMeshHandler{} // never reaches the home for a refused sender
	for _, role := range []wire.Role{wire.RoleHome, pki.RoleOperator, ""} {
		_, err := h.HandleRequest(context.Background(), mesh.PeerInfo{NodeID: "n", Role: role}, &wire.Request{Event: "court:serve", UserID: "u"})
		var werr *wire.Error
		require.ErrorAs(t, err, &werr, "%q", role)
		require.Equal(t, wire.CodeIdentity, werr.Code)
		require.True(t, strings.Contains(werr.Reason, "edges only"))
	}
}

// nopHandler serves nothing.
type nopHandler struct{ events chan *wire.Event }

func (nopHandler) HandleRequest(context.Context, mesh.PeerInfo, *wire.Request) (*wire.Response, error) {
	return &wire.Response{}, nil
}
func (h nopHandler) HandleEvent(_ mesh.PeerInfo, ev *wire.Event) { h.events <- ev }

// TestHomeSendsClientEventsToEdgesOnly: a home linked to another home (as
// issue 8's hand-offs will) refuses to send it a client event, whatever
// presence says; an edge gets it.
func TestHomeSendsClientEventsToEdgesOnly(t *testing.T) {
	t.Parallel()
	ids, err := pki.DevCluster(t.TempDir(),
		pki.Claims{ID: "home-a", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "home-b", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "edge-1", Role: wire.RoleEdge, Region: "us"})
	require.NoError(t, err)
	start := func(id string, role wire.Role, listen string, peers []mesh.Peer) (*mesh.Node, chan *wire.Event) {
		events := make(chan *wire.Event, 1)
		n, err := mesh.New(mesh.Config{Region: "us", Role: role, Identity: ids[id], Handler: nopHandler{events}, ListenAddr: listen, Peers: peers})
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- n.Run(context.Background()) }()
		t.Cleanup(func() { require.NoError(t, n.Close()); require.NoError(t, <-done) })
		<-n.Ready()
		return n, events
	}
	a, _ := start("home-a", wire.RoleHome, "127.0.0.1:0", nil)
	_, bEvents := start("home-b", wire.RoleHome, "", []mesh.Peer{{NodeID: "home-a", Region: "us", Addr: a.Addr().String()}})
	_, eEvents := start("edge-1", wire.RoleEdge, "", []mesh.Peer{{NodeID: "home-a", Region: "us", Addr: a.Addr().String()}})
	require.Eventually(t, func() bool {
		_, b := a.PeerRole("home-b")
		_, e := a.PeerRole("edge-1")
		return b && e
	}, 5*time.Second, 10*time.Millisecond)

	m := meshForHome{a}
	ev := &wire.Event{Name: "court:state", UserID: "u", SessionID: "s"}
	var werr *wire.Error
	require.ErrorAs(t, m.SendEvent("home-b", ev), &werr)
	require.Equal(t, wire.CodeIdentity, werr.Code)
	require.NoError(t, m.SendEvent("edge-1", ev))
	select {
	case got := <-eEvents:
		require.Equal(t, "court:state", got.Name)
	case <-time.After(5 * time.Second):
		t.Fatal("the edge got no event")
	}
	select {
	case <-bEvents:
		t.Fatal("a home got a client event")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestCertRevokeWritesTheClusterList: courtctl cert revoke writes the list
// in Redis, under COURT_REDIS_PREFIX, that every node reads.
func TestCertRevokeWritesTheClusterList(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	t.Setenv(envRedisURL, redistest.URL())
	t.Setenv(envRedisPrefix, prefix)
	out, code := run(t, NewCourtctlCmd(), "cert", "revoke", "edge-us-9")
	require.Equal(t, exitOK, code, out)
	dir, err := directory.NewRedis(directory.RedisConfig{Client: c, Prefix: prefix})
	require.NoError(t, err)
	ids, err := dir.RevokedNodes(t.Context())
	require.NoError(t, err)
	require.Equal(t, []string{"edge-us-9"}, ids)
	out, code = run(t, NewCourtctlCmd(), "cert", "revoked", "-o", "json")
	require.Equal(t, exitOK, code, out)
	require.JSONEq(t, `{"revoked":["edge-us-9"]}`, out)
	_, code = run(t, NewCourtctlCmd(), "cert", "unrevoke", "edge-us-9")
	require.Equal(t, exitOK, code)
	ids, err = dir.RevokedNodes(t.Context())
	require.NoError(t, err)
	require.Empty(t, ids)
}
