package pki_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	homeUS   = pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"}
	edgeAsia = pki.Claims{ID: "edge-asia-1", Role: wire.RoleEdge, Region: "asia"}
)

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
	home := pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"}
	require.NoError(t, pki.Issue(caDir, home, out, pki.IssueOptions{Hosts: []string{"10.0.0.7", "home.example"}}))

	id, err := pki.Load(out)
	require.NoError(t, err)
	require.Equal(t, home, id.Claims)
	leaf := leafOf(t, out, pki.NodeCertFile)
	require.Equal(t, "home-us-1", leaf.Subject.CommonName)
	var uris []string
	for _, u := range leaf.URIs {
		uris = append(uris, u.String())
	}
	require.Equal(t, []string{"courtmesh://node/home-us-1", "courtmesh://role/home", "courtmesh://region/us"}, uris)
	require.Equal(t, []string{"home.example"}, leaf.DNSNames)
	require.True(t, leaf.IPAddresses[0].Equal(net.ParseIP("10.0.0.7")))
	require.WithinDuration(t, time.Now().Add(pki.DefaultValidity), leaf.NotAfter, time.Minute)

	key, err := os.Stat(filepath.Join(out, pki.NodeKeyFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), key.Mode().Perm())

	// An operator's directory is not a node's, and the other way round.
	_, err = pki.LoadOperator(out)
	require.Error(t, err)
}

func TestIssueRefusesToOverwriteKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, pki.NewCA(dir))
	out := t.TempDir()
	c := pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"}
	require.NoError(t, pki.Issue(dir, c, out, pki.IssueOptions{}))
	before, err := os.ReadFile(filepath.Join(out, pki.NodeKeyFile))
	require.NoError(t, err)
	require.ErrorIs(t, pki.Issue(dir, c, out, pki.IssueOptions{}), pki.ErrExists)
	after, err := os.ReadFile(filepath.Join(out, pki.NodeKeyFile))
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused issue leaves the key alone")
	require.NoError(t, pki.Issue(dir, c, out, pki.IssueOptions{Force: true}))
	after, err = os.ReadFile(filepath.Join(out, pki.NodeKeyFile))
	require.NoError(t, err)
	require.NotEqual(t, before, after)
}

func TestIssueOperatorCertificate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, pki.NewCA(dir))
	out := t.TempDir()
	op := pki.Claims{ID: "alice", Role: pki.RoleOperator}
	require.NoError(t, pki.Issue(dir, op, out, pki.IssueOptions{}))
	id, err := pki.LoadOperator(out)
	require.NoError(t, err)
	require.True(t, id.Operator())
	leaf := leafOf(t, out, pki.OperatorCertFile)
	require.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, leaf.ExtKeyUsage, "operators never serve")
	_, err = pki.Load(out)
	require.Error(t, err, "an operator certificate cannot run a node")
	require.Error(t, pki.Issue(dir, pki.Claims{ID: "bob", Role: pki.RoleOperator, Region: "us"}, t.TempDir(), pki.IssueOptions{}))
}

func TestIssueRejectsBadClaims(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, pki.NewCA(dir))
	for _, id := range []string{"", "a/b", "-x", "with space"} {
		require.ErrorIs(t, pki.Issue(dir, pki.Claims{ID: id, Role: wire.RoleEdge, Region: "us"}, t.TempDir(), pki.IssueOptions{}), pki.ErrBadNodeID, id)
	}
	for _, c := range []pki.Claims{
		{ID: "n", Role: "judge", Region: "us"},
		{ID: "n", Role: wire.RoleHome},
		{ID: "n", Role: wire.RoleHome, Region: "US/1"},
	} {
		require.ErrorIs(t, pki.Issue(dir, c, t.TempDir(), pki.IssueOptions{}), pki.ErrBadClaims, c)
	}
}

func leafOf(t *testing.T, dir, file string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	require.NoError(t, err)
	block, _ := pem.Decode(data)
	require.NotNil(t, block)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return leaf
}

func TestTLSConfigs(t *testing.T) {
	t.Parallel()
	ids, err := pki.DevCluster(t.TempDir(), pki.Claims{ID: "a", Role: wire.RoleHome, Region: "us"})
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
	ids, err := pki.DevCluster(t.TempDir(), edgeAsia, homeUS)
	require.NoError(t, err)
	c, s := net.Pipe()
	t.Cleanup(func() { _ = c.Close(); _ = s.Close() })
	cc := tls.Client(c, ids["edge-asia-1"].ClientTLS())
	sc := tls.Server(s, ids["home-us-1"].ServerTLS())
	errc := make(chan error, 1)
	go func() { errc <- sc.Handshake() }()
	require.NoError(t, cc.Handshake())
	require.NoError(t, <-errc)
	got, err := pki.PeerClaims(cc.ConnectionState())
	require.NoError(t, err)
	require.Equal(t, homeUS, got)
	got, err = pki.PeerClaims(sc.ConnectionState())
	require.NoError(t, err)
	require.Equal(t, edgeAsia, got)
	_, err = pki.RequireOperator(sc.ConnectionState())
	require.ErrorIs(t, err, pki.ErrBadClaims, "a node certificate is not an operator's")
}

func TestHandshakeOtherCARefused(t *testing.T) {
	t.Parallel()
	ours, err := pki.DevCluster(t.TempDir(), homeUS, pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"})
	require.NoError(t, err)
	theirs, err := pki.DevCluster(t.TempDir(), pki.Claims{ID: "intruder", Role: wire.RoleHome, Region: "us"})
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
