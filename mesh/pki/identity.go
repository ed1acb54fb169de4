package pki

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"courtmesh/mesh/wire"
)

// Identity is a node's certificate, key and cluster CA, loaded by Load.
type Identity struct {
	// NodeID is the node id named by the certificate.
	NodeID string

	cert tls.Certificate
	ca   *x509.CertPool
}

// Load reads node.pem, node-key.pem and ca.pem from dir.
func Load(dir string) (*Identity, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, NodeCertFile), filepath.Join(dir, NodeKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load node key pair from %s: %w", dir, err)
	}
	id, err := NodeIDOf(cert.Leaf)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	caCert, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, fmt.Errorf("node certificate in %s is not signed by its ca.pem: %w", dir, err)
	}
	return &Identity{NodeID: id, cert: cert, ca: pool}, nil
}

// ServerTLS returns the TLS config of the accepting side: TLS 1.3, ALPN
// wire.ALPN, and a client certificate from the cluster CA that names a node
// id is required.
func (i *Identity) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		Certificates:     []tls.Certificate{i.cert},
		NextProtos:       []string{wire.ALPN},
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        i.ca,
		VerifyConnection: requireNodeID,
	}
}

// ClientTLS returns the TLS config of the dialing side: TLS 1.3, ALPN
// wire.ALPN, and the server must present a certificate from the cluster CA
// that names a node id. Host names are not checked: a mesh peer is identified
// by its node id, which the dialer compares with the id it expects (nodes are
// often reached through addresses their certificates cannot know).
func (i *Identity) ClientTLS() *tls.Config {
	pool := i.ca
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{i.cert},
		NextProtos:   []string{wire.ALPN},
		// Verification is not skipped: VerifyConnection does it, without
		// the host name check.
		InsecureSkipVerify: true, //nolint:gosec // chain verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyServer(cs, pool)
		},
	}
}

func verifyServer(cs tls.ConnectionState, pool *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return ErrNoPeerCert
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         pool,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return fmt.Errorf("verify peer certificate: %w", err)
	}
	return requireNodeID(cs)
}

func requireNodeID(cs tls.ConnectionState) error {
	_, err := PeerNodeID(cs)
	return err
}

// PeerNodeID returns the node id named by the peer's certificate in a
// completed handshake.
func PeerNodeID(cs tls.ConnectionState) (string, error) {
	if len(cs.PeerCertificates) == 0 {
		return "", ErrNoPeerCert
	}
	return NodeIDOf(cs.PeerCertificates[0])
}

// NodeIDOf returns the node id of a node certificate: its courtmesh://node/
// URI SAN, which must agree with the CommonName.
func NodeIDOf(cert *x509.Certificate) (string, error) {
	for _, u := range cert.URIs {
		if u.Scheme != URIScheme || u.Host != uriHost {
			continue
		}
		id := strings.TrimPrefix(u.Path, "/")
		if !ValidNodeID(id) || id != cert.Subject.CommonName {
			return "", fmt.Errorf("%w: URI %s, CN %q", ErrNoNodeID, u, cert.Subject.CommonName)
		}
		return id, nil
	}
	return "", ErrNoNodeID
}

// DevCluster creates a CA in dir/ca and one node identity per id in dir/<id>,
// and loads them. It is for `courtd dev` and tests; dir is usually temporary.
func DevCluster(dir string, nodeIDs ...string) (map[string]*Identity, error) {
	caDir := filepath.Join(dir, "ca")
	if err := NewCA(caDir); err != nil {
		return nil, err
	}
	ids := make(map[string]*Identity, len(nodeIDs))
	for _, id := range nodeIDs {
		if id == "ca" {
			return nil, fmt.Errorf("dev cluster: node id %q clashes with the CA dir: %w", id, ErrBadNodeID)
		}
		nodeDir := filepath.Join(dir, id)
		if err := IssueNode(caDir, id, nodeDir, nil); err != nil {
			return nil, err
		}
		ident, err := Load(nodeDir)
		if err != nil {
			return nil, err
		}
		ids[id] = ident
	}
	return ids, nil
}

// StatelessResetKey derives the node's QUIC stateless reset key from its
// private key: stable across restarts of the node, so that a restarted node
// can reset the connections its previous process had, and their peers
// reconnect at once instead of after the link timeout.
func (id *Identity) StatelessResetKey() ([32]byte, error) {
	var key [32]byte
	der, err := x509.MarshalPKCS8PrivateKey(id.cert.PrivateKey)
	if err != nil {
		return key, fmt.Errorf("pki: stateless reset key: %w", err)
	}
	k, err := hkdf.Key(sha256.New, der, nil, "courtmesh quic stateless reset key", len(key))
	if err != nil {
		return key, fmt.Errorf("pki: stateless reset key: %w", err)
	}
	copy(key[:], k)
	return key, nil
}
