package pki

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"courtmesh/mesh/wire"
)

// Identity is a node's (or an operator's) certificate, key and cluster CA,
// loaded by Load or LoadOperator. Its certificate is reloaded from disk when
// the files change (Refresh), so a renewed certificate is used without a
// restart; the claims never change.
type Identity struct {
	Claims

	certPath, keyPath string
	ca                *x509.CertPool

	mu      sync.Mutex
	cert    *tls.Certificate // guarded by mu
	stamp   fileStamp        // guarded by mu; of the files cert came from
	checked time.Time        // guarded by mu; last look at the files
}

// reloadCheck is how often a handshake may look at the certificate files.
// Tests shorten it through export_test.go.
var reloadCheck = 2 * time.Second

// Load reads node.pem, node-key.pem and ca.pem from dir: a node's identity.
func Load(dir string) (*Identity, error) {
	id, err := load(dir, NodeCertFile, NodeKeyFile)
	if err != nil {
		return nil, err
	}
	if id.Operator() {
		return nil, fmt.Errorf("load %s: %w: an operator certificate cannot run a node", dir, ErrBadClaims)
	}
	return id, nil
}

// LoadOperator reads operator.pem, operator-key.pem and ca.pem from dir: an
// operator's identity, for the admin calls.
func LoadOperator(dir string) (*Identity, error) {
	id, err := load(dir, OperatorCertFile, OperatorKeyFile)
	if err != nil {
		return nil, err
	}
	if !id.Operator() {
		return nil, fmt.Errorf("load %s: %w: %s is not an operator", dir, ErrBadClaims, id.Claims)
	}
	return id, nil
}

func load(dir, certFile, keyFile string) (*Identity, error) {
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
	id := &Identity{certPath: filepath.Join(dir, certFile), keyPath: filepath.Join(dir, keyFile), ca: pool}
	cert, claims, stamp, err := id.read()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	id.Claims, id.cert, id.stamp, id.checked = claims, cert, stamp, time.Now()
	return id, nil
}

// fileStamp tells whether the certificate or key files changed.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

func (id *Identity) statFiles() (fileStamp, error) {
	c, err := os.Stat(id.certPath)
	if err != nil {
		return fileStamp{}, fmt.Errorf("stat certificate: %w", err)
	}
	k, err := os.Stat(id.keyPath)
	if err != nil {
		return fileStamp{}, fmt.Errorf("stat key: %w", err)
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}

// read loads and checks the key pair on disk: signed by the CA, valid now,
// with whole claims.
func (id *Identity) read() (*tls.Certificate, Claims, fileStamp, error) {
	stamp, err := id.statFiles()
	if err != nil {
		return nil, Claims{}, fileStamp{}, err
	}
	cert, err := tls.LoadX509KeyPair(id.certPath, id.keyPath)
	if err != nil {
		return nil, Claims{}, fileStamp{}, fmt.Errorf("load key pair: %w", err)
	}
	claims, err := ClaimsOf(cert.Leaf)
	if err != nil {
		return nil, Claims{}, fileStamp{}, err
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: id.ca, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		return nil, Claims{}, fileStamp{}, fmt.Errorf("%s is not valid under its ca.pem: %w", id.certPath, err)
	}
	return &cert, claims, stamp, nil
}

// Refresh reloads the certificate and key if their files changed. A new
// certificate must carry the same claims; otherwise, or if the files cannot
// be read, the current one stays and the error says why. It reports whether
// a new certificate was loaded.
func (id *Identity) Refresh() (bool, error) {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.refreshLocked()
}

func (id *Identity) refreshLocked() (bool, error) {
	id.checked = time.Now()
	stamp, err := id.statFiles()
	if err != nil {
		return false, err
	}
	if stamp == id.stamp {
		return false, nil
	}
	cert, claims, stamp, err := id.read()
	if err != nil {
		return false, err
	}
	if claims != id.Claims {
		return false, fmt.Errorf("%w: the new certificate is for %s, not %s", ErrBadClaims, claims, id.Claims)
	}
	id.cert, id.stamp = cert, stamp
	return true, nil
}

// current returns the certificate to present, looking at the files at most
// every reloadCheck.
func (id *Identity) current() *tls.Certificate {
	id.mu.Lock()
	defer id.mu.Unlock()
	if time.Since(id.checked) >= reloadCheck {
		_, _ = id.refreshLocked() // errors surface through Refresh's callers
	}
	return id.cert
}

// NotAfter returns when the certificate in use expires.
func (id *Identity) NotAfter() time.Time {
	id.mu.Lock()
	defer id.mu.Unlock()
	return id.cert.Leaf.NotAfter
}

// ServerTLS returns the TLS config of the accepting side: TLS 1.3, ALPN
// wire.ALPN, and a client certificate from the cluster CA with whole claims
// is required. The certificate presented is the latest one loaded.
func (id *Identity) ServerTLS() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return id.current(), nil
		},
		NextProtos:       []string{wire.ALPN},
		ClientAuth:       tls.RequireAndVerifyClientCert,
		ClientCAs:        id.ca,
		VerifyConnection: requireClaims,
	}
}

// ClientTLS returns the TLS config of the dialing side: TLS 1.3, ALPN
// wire.ALPN, and the server must present a certificate from the cluster CA
// with whole claims. Host names are not checked: a mesh peer is identified
// by its node id, which the dialer compares with the id it expects (nodes are
// often reached through addresses their certificates cannot know).
func (id *Identity) ClientTLS() *tls.Config {
	pool := id.ca
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return id.current(), nil
		},
		NextProtos: []string{wire.ALPN},
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
	return requireClaims(cs)
}

func requireClaims(cs tls.ConnectionState) error {
	_, err := PeerClaims(cs)
	return err
}

// PeerClaims returns the claims of the peer's certificate in a completed
// handshake.
func PeerClaims(cs tls.ConnectionState) (Claims, error) {
	if len(cs.PeerCertificates) == 0 {
		return Claims{}, ErrNoPeerCert
	}
	return ClaimsOf(cs.PeerCertificates[0])
}

// RequireOperator checks that the peer of a completed handshake presented an
// operator certificate: what an admin surface calls before anything else.
// Node certificates are refused.
func RequireOperator(cs tls.ConnectionState) (Claims, error) {
	c, err := PeerClaims(cs)
	if err != nil {
		return Claims{}, err
	}
	if !c.Operator() {
		return Claims{}, fmt.Errorf("%w: %s is not an operator", ErrBadClaims, c)
	}
	return c, nil
}

// DevCluster creates a CA in dir/ca and one identity per claims in
// dir/<id>, valid for DefaultValidity, and loads them. It is for `courtd dev`
// and tests; dir is usually temporary.
func DevCluster(dir string, nodes ...Claims) (map[string]*Identity, error) {
	caDir := filepath.Join(dir, "ca")
	if err := NewCA(caDir); err != nil {
		return nil, err
	}
	ids := make(map[string]*Identity, len(nodes))
	for _, c := range nodes {
		if c.ID == "ca" {
			return nil, fmt.Errorf("dev cluster: node id %q clashes with the CA dir: %w", c.ID, ErrBadNodeID)
		}
		certDir := filepath.Join(dir, c.ID)
		if err := Issue(caDir, c, certDir, IssueOptions{}); err != nil {
			return nil, err
		}
		load := Load
		if c.Operator() {
			load = LoadOperator
		}
		ident, err := load(certDir)
		if err != nil {
			return nil, err
		}
		ids[c.ID] = ident
	}
	return ids, nil
}

// StatelessResetKey derives the node's QUIC stateless reset key from its
// private key: stable across restarts of the node, so that a restarted node
// can reset the connections its previous process had, and their peers
// reconnect at once instead of after the link timeout.
func (id *Identity) StatelessResetKey() ([32]byte, error) {
	var key [32]byte
	id.mu.Lock()
	priv := id.cert.PrivateKey
	id.mu.Unlock()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
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
