package mesh_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

// rawHello dials addr as ident over QUIC, sends hello on the control stream
// and returns what the acceptor answered.
func rawHello(t *testing.T, ident *pki.Identity, addr string, hello wire.Hello) (wire.Hello, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, addr, ident.ClientTLS(), &quic.Config{})
	require.NoError(t, err)
	defer conn.CloseWithError(0, "")
	ctrl, err := conn.OpenStreamSync(ctx)
	require.NoError(t, err)
	require.NoError(t, wire.WriteFrame(ctrl, wire.FrameHello, &hello))
	var got wire.Hello
	err = wire.ReadFrameAs(ctrl, wire.FrameHello, &got)
	return got, err
}

func TestHelloChecks(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge", "mallory")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	addr := home.Addr().String()
	ok := wire.Hello{Version: wire.ProtocolVersion, NodeID: "edge", Region: "asia", Role: wire.RoleEdge}

	cases := []struct {
		name  string
		ident string
		edit  func(h *wire.Hello)
		code  string
	}{
		{"identity mismatch", "mallory", func(h *wire.Hello) {}, wire.CodeIdentity},
		{"version mismatch", "edge", func(h *wire.Hello) { h.Version = wire.ProtocolVersion + 1 }, wire.CodeVersion},
		{"unknown role", "edge", func(h *wire.Hello) { h.Role = "judge" }, wire.CodeBadFrame},
		{"edge certificate claims home", "edge", func(h *wire.Hello) { h.Role = wire.RoleHome }, wire.CodeIdentity},
		{"region not the certificate's", "edge", func(h *wire.Hello) { h.Region = "us" }, wire.CodeIdentity},
		{"id of another node", "edge", func(h *wire.Hello) { h.NodeID = "mallory" }, wire.CodeIdentity},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := ok
			c.edit(&h)
			_, err := rawHello(t, ids[c.ident], addr, h)
			var werr *wire.Error
			require.True(t, errors.As(err, &werr), "got %v", err)
			require.Equal(t, c.code, werr.Code)
		})
	}
	t.Run("valid hello is answered", func(t *testing.T) {
		t.Parallel()
		got, err := rawHello(t, ids["edge"], addr, ok)
		require.NoError(t, err)
		require.Equal(t, wire.Hello{Version: wire.ProtocolVersion, NodeID: "home", Region: "us", Role: wire.RoleHome,
			Features: []string{wire.FeatureStateDocs, wire.FeatureReusedStreams, wire.FeatureZstd, wire.FeatureDocAcks}}, got)
	})
}

func TestOtherClusterRefused(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home")
	strangers := identities(t, "edge")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	_, err := quic.DialAddr(ctx, home.Addr().String(), strangers["edge"].ClientTLS(), &quic.Config{})
	require.Error(t, err, "the dialer refuses the home's certificate")

	// A client that trusts anything is refused by the home.
	trusting := strangers["edge"].ClientTLS()
	trusting.VerifyConnection = nil
	conn, err := quic.DialAddr(ctx, home.Addr().String(), trusting, &quic.Config{})
	if err == nil { // TLS 1.3: the client may finish before the server checks it
		select {
		case <-conn.Context().Done():
		case <-ctx.Done():
			t.Fatal("home kept a connection from another cluster")
		}
	}

	// And a node of the other cluster dialing it never gets a link.
	edge := startEdge(t, strangers["edge"], home, &recorder{})
	require.NoError(t, linkIs(edge, "home", false)())
}

func TestDialerChecksPeerIdentity(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	cfg := nodeConfig(t, ids["edge"], "asia", wire.RoleEdge, &recorder{})
	cfg.Peers = []mesh.Peer{{NodeID: "home-2", Region: "us", Addr: home.Addr().String()}}
	edge := startNode(t, cfg)
	require.NoError(t, linkIs(edge, "home-2", false)())
	_, known := peerStatus(edge, "home")
	require.False(t, known)
}

// An edge's certificate cannot run a home: the node refuses to start, so it
// never answers actions; and a node holding an edge certificate that says
// "home" in its hello is refused (TestHelloChecks).
func TestNodeRefusesCertificateOfAnotherRole(t *testing.T) {
	t.Parallel()
	ids := identities(t, "edge")
	_, err := mesh.New(nodeConfig(t, ids["edge"], "asia", wire.RoleHome, &recorder{}))
	require.ErrorIs(t, err, mesh.ErrConfig)
	require.ErrorContains(t, err, "certificate is for edge edge in asia")
}

func TestEdgesDoNotLinkToEdges(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge", "edge-2")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	// An edge node that listens, dialed by another edge.
	cfg := nodeConfig(t, ids["edge"], "asia", wire.RoleEdge, &recorder{})
	cfg.ListenAddr = "127.0.0.1:0"
	cfg.Peers = []mesh.Peer{{NodeID: "home", Region: "us", Addr: home.Addr().String()}}
	edge := startNode(t, cfg)
	_, err := rawHello(t, ids["edge-2"], edge.Addr().String(),
		wire.Hello{Version: wire.ProtocolVersion, NodeID: "edge-2", Region: "asia", Role: wire.RoleEdge})
	var werr *wire.Error
	require.True(t, errors.As(err, &werr), "got %v", err)
	require.Equal(t, wire.CodeIdentity, werr.Code)
}

func TestOperatorCannotJoinMesh(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ids, err := pki.DevCluster(dir, pki.Claims{ID: "home", Role: wire.RoleHome, Region: "us"}, pki.Claims{ID: "alice", Role: pki.RoleOperator})
	require.NoError(t, err)
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, home.Addr().String(), ids["alice"].ClientTLS(), &quic.Config{})
	require.NoError(t, err)
	defer conn.CloseWithError(0, "")
	select {
	case <-conn.Context().Done():
		var app *quic.ApplicationError
		require.ErrorAs(t, context.Cause(conn.Context()), &app)
		require.Contains(t, app.ErrorMessage, "operator alice cannot join the mesh")
	case <-ctx.Done():
		t.Fatal("home kept a connection from an operator certificate")
	}
}

// revocationList is a mutable Revocations.
type revocationList struct {
	mu  sync.Mutex
	ids []string
	err error
}

func (r *revocationList) RevokedNodes(context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids), r.err
}

func (r *revocationList) set(err error, ids ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids, r.err = ids, err
}

func TestRevokedNodeIsCutAndRefused(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	list := &revocationList{}
	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	hc.ListenAddr, hc.Revocations, hc.RevocationPoll = "127.0.0.1:0", list, 100*time.Millisecond
	home := startNode(t, hc)
	edge := startEdge(t, ids["edge"], home, &recorder{})
	eventually(t, 3*time.Second, 20*time.Millisecond, linkIs(edge, "home", true))
	// The home may see the link a moment after the edge, which dialed it.
	eventually(t, 3*time.Second, 20*time.Millisecond, linkIs(home, "edge", true))

	// A failing list keeps the last one read: the link stays.
	list.set(errors.New("redis down"))
	require.Never(t, func() bool { return linkIs(home, "edge", true)() != nil }, 5*hc.RevocationPoll, hc.RevocationPoll)

	list.set(nil, "edge")
	start := time.Now()
	eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", false))
	require.Less(t, time.Since(start), 3*hc.RevocationPoll, "cut within the poll")
	// The edge keeps redialing and is refused at every hello.
	require.Never(t, func() bool { return linkIs(home, "edge", true)() == nil }, 10*hc.RevocationPoll, hc.RevocationPoll/2)
	_, err := rawHello(t, ids["edge"], home.Addr().String(),
		wire.Hello{Version: wire.ProtocolVersion, NodeID: "edge", Region: "asia", Role: wire.RoleEdge})
	var werr *wire.Error
	require.True(t, errors.As(err, &werr), "got %v", err)
	require.Contains(t, werr.Reason, "revoked")

	// Unrevoked, it links again.
	list.set(nil)
	eventually(t, 3*time.Second, 20*time.Millisecond, linkIs(home, "edge", true))
}

// TestRenewedCertificateUsedWithoutRestart: a running home picks up its
// renewed certificate from disk (on its RevocationPoll timer) and presents it
// to the next peer that dials.
func TestRenewedCertificateUsedWithoutRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ids, err := pki.DevCluster(dir, pki.Claims{ID: "home", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "edge", Role: wire.RoleEdge, Region: "asia"})
	require.NoError(t, err)
	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	reg := prometheus.NewRegistry()
	hc.ListenAddr, hc.RevocationPoll, hc.Registerer = "127.0.0.1:0", 50*time.Millisecond, reg
	home := startNode(t, hc)
	expiry := func() int64 {
		families, err := reg.Gather()
		require.NoError(t, err)
		for _, f := range families {
			if f.GetName() == "court_mesh_cert_expiry_timestamp_seconds" {
				return int64(f.GetMetric()[0].GetGauge().GetValue())
			}
		}
		t.Fatal("no court_mesh_cert_expiry_timestamp_seconds")
		return 0
	}
	peerNotAfter := func() time.Time {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		conn, err := quic.DialAddr(ctx, home.Addr().String(), ids["edge"].ClientTLS(), &quic.Config{})
		require.NoError(t, err)
		defer conn.CloseWithError(0, "")
		return conn.ConnectionState().TLS.PeerCertificates[0].NotAfter
	}
	before := peerNotAfter()
	require.Equal(t, before.Unix(), expiry())

	_, err = pki.Renew(filepath.Join(dir, "ca"), filepath.Join(dir, "home"), 2*pki.DefaultValidity)
	require.NoError(t, err)
	eventually(t, 3*time.Second, 50*time.Millisecond, func() error {
		if got := peerNotAfter(); !got.After(before.Add(24 * time.Hour)) {
			return fmt.Errorf("still presents a certificate valid until %v", got)
		}
		return nil
	})
	require.Equal(t, peerNotAfter().Unix(), expiry(), "the metric follows the renewal")
}
