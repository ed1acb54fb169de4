package mesh_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
		require.Equal(t, wire.Hello{Version: wire.ProtocolVersion, NodeID: "home", Region: "us", Role: wire.RoleHome}, got)
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
