package pki_test

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestNewCARefusesOverwrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, pki.NewCA(dir))
	require.ErrorIs(t, pki.NewCA(dir), pki.ErrExists)
}

func TestIssueNodeCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	caDir := filepath.Join(dir, "ca")
	require.NoError(t, pki.NewCA(caDir))
	out := filepath.Join(dir, "n1")
	require.NoError(t, pki.IssueNode(caDir, "home-us-1", out, []string{"10.0.0.7", "home.example"}))

	id, err := pki.Load(out)
	require.NoError(t, err)
	require.Equal(t, "home-us-1", id.NodeID)
	leaf := id.ServerTLS().Certificates[0].Leaf
	require.Equal(t, "home-us-1", leaf.Subject.CommonName)
	require.Equal(t, "courtmesh://node/home-us-1", leaf.URIs[0].String())
	require.Equal(t, []string{"home.example"}, leaf.DNSNames)
	require.True(t, leaf.IPAddresses[0].Equal(net.ParseIP("10.0.0.7")))

	key, err := os.Stat(filepath.Join(out, pki.NodeKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), key.Mode().Perm())
}

func TestIssueNodeRejectsBadID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, pki.NewCA(dir))
	for _, id := range []string{"", "a/b", "-x", "with space"} {
		require.ErrorIs(t, pki.IssueNode(dir, id, t.TempDir(), nil), pki.ErrBadNodeID, id)
	}
}

func TestTLSConfigs(t *testing.T) {
	t.Parallel()
	ids, err := pki.DevCluster(t.TempDir(), "a")
	require.NoError(t, err)
	for _, c := range []*tls.Config{ids["a"].ServerTLS(), ids["a"].ClientTLS()} {
		require.Equal(t, uint16(tls.VersionTLS13), c.MinVersion)
		require.Equal(t, []string{wire.ALPN}, c.NextProtos)
	}
	require.Equal(t, tls.RequireAndVerifyClientCert, ids["a"].ServerTLS().ClientAuth)
}

// handshake runs a real TLS 1.3 handshake over a pipe and returns the
// client's and the server's errors.
func handshake(t *testing.T, client, server *tls.Config) (cliErr, srvErr error) {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	cc, sc := tls.Client(c, client), tls.Server(s, server)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if srvErr = sc.Handshake(); srvErr != nil {
			_ = s.Close() // unblock the client
		}
	}()
	if cliErr = cc.Handshake(); cliErr != nil {
		_ = c.Close() // unblock the server
	} else {
		// TLS 1.3: the server verifies the client's certificate after the
		// client has finished; reading takes the server's alert off the pipe
		// and returns once the server has closed it.
		_, _ = cc.Read(make([]byte, 1))
	}
	<-done
	return cliErr, srvErr
}

func TestHandshakeSameCA(t *testing.T) {
	t.Parallel()
	ids, err := pki.DevCluster(t.TempDir(), "edge-asia-1", "home-us-1")
	require.NoError(t, err)
	c, s := net.Pipe()
	t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
	cc := tls.Client(c, ids["edge-asia-1"].ClientTLS())
	sc := tls.Server(s, ids["home-us-1"].ServerTLS())
	errc := make(chan error, 1)
	go func() { errc <- sc.Handshake() }()
	require.NoError(t, cc.Handshake())
	require.NoError(t, <-errc)
	got, err := pki.PeerNodeID(cc.ConnectionState())
	require.NoError(t, err)
	require.Equal(t, "home-us-1", got)
	got, err = pki.PeerNodeID(sc.ConnectionState())
	require.NoError(t, err)
	require.Equal(t, "edge-asia-1", got)
}

func TestHandshakeOtherCARefused(t *testing.T) {
	t.Parallel()
	ours, err := pki.DevCluster(t.TempDir(), "home-us-1", "edge-us-1")
	require.NoError(t, err)
	theirs, err := pki.DevCluster(t.TempDir(), "intruder")
	require.NoError(t, err)

	t.Run("client from another CA", func(t *testing.T) {
		t.Parallel()
		_, srvErr := handshake(t, theirs["intruder"].ClientTLS(), ours["home-us-1"].ServerTLS())
		require.Error(t, srvErr)
	})
	t.Run("server from another CA", func(t *testing.T) {
		t.Parallel()
		cliErr, _ := handshake(t, ours["edge-us-1"].ClientTLS(), theirs["intruder"].ServerTLS())
		require.Error(t, cliErr)
	})
}
