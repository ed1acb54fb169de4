// Package pki issues and loads the mesh's certificates: one cluster CA and one
// certificate per node (ECDSA P-256, TLS 1.3 only). A node certificate names
// its node id twice, as the CommonName and as the URI SAN
// courtmesh://node/<id>, and is valid for both server and client auth, since
// every mesh link is mutually authenticated.
//
// Files in a CA directory: ca.pem, ca-key.pem. Files in a node directory:
// node.pem, node-key.pem and a copy of ca.pem.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// File names.
const (
	CACertFile   = "ca.pem"
	CAKeyFile    = "ca-key.pem"
	NodeCertFile = "node.pem"
	NodeKeyFile  = "node-key.pem"
)

// URIScheme and uriHost form a node's URI SAN: courtmesh://node/<id>.
const (
	URIScheme = "courtmesh"
	uriHost   = "node"
)

// Validity periods.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	nodeValidity = 2 * 365 * 24 * time.Hour
	// backdate tolerates clock skew between nodes.
	backdate = time.Hour
)

// Errors.
var (
	ErrExists        = errors.New("pki: file already exists")
	ErrBadNodeID     = errors.New("pki: invalid node id")
	ErrNoPeerCert    = errors.New("pki: peer sent no certificate")
	ErrNoNodeID      = errors.New("pki: certificate names no node id")
	ErrNotCA         = errors.New("pki: ca.pem is not a CA certificate")
	ErrUnknownKeyPEM = errors.New("pki: no private key in PEM file")
)

var nodeIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidNodeID reports whether id can name a node: 1 to 128 letters, digits,
// '.', '_' or '-', starting with a letter or digit.
func ValidNodeID(id string) bool { return nodeIDPattern.MatchString(id) }

// NodeURI returns the URI SAN of node id.
func NodeURI(id string) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: uriHost, Path: "/" + id}
}

// NewCA creates a cluster CA in dir (created if needed) and writes ca.pem and
// ca-key.pem. It refuses to overwrite either file.
func NewCA(dir string) error {
	for _, f := range []string{CACertFile, CAKeyFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return fmt.Errorf("new CA in %s: %s: %w", dir, f, ErrExists)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate CA key: %w", err)
	}
	tmpl, err := certTemplate("courtmesh cluster CA", caValidity)
	if err != nil {
		return err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.MaxPathLenZero = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("sign CA certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create CA dir: %w", err)
	}
	if err := writeKey(filepath.Join(dir, CAKeyFile), key, true); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, CACertFile), "CERTIFICATE", der, 0o644, true)
}

// IssueNode signs a certificate for nodeID with the CA in caDir and writes
// node.pem, node-key.pem and a copy of ca.pem into outDir (created if needed),
// replacing earlier files there. hosts become DNS or IP SANs; nil means
// 127.0.0.1 and localhost.
func IssueNode(caDir, nodeID, outDir string, hosts []string) error {
	if !ValidNodeID(nodeID) {
		return fmt.Errorf("issue %q: %w", nodeID, ErrBadNodeID)
	}
	caCert, caKey, caPEM, err := loadCA(caDir)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate node key: %w", err)
	}
	tmpl, err := nodeTemplate(nodeID, hosts)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, key.Public(), caKey)
	if err != nil {
		return fmt.Errorf("sign node certificate: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return fmt.Errorf("create node dir: %w", err)
	}
	if err := writeKey(filepath.Join(outDir, NodeKeyFile), key, false); err != nil {
		return err
	}
	if err := writePEM(filepath.Join(outDir, NodeCertFile), "CERTIFICATE", der, 0o644, false); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, CACertFile), caPEM, 0o644); err != nil {
		return fmt.Errorf("copy CA certificate: %w", err)
	}
	return nil
}

func nodeTemplate(nodeID string, hosts []string) (*x509.Certificate, error) {
	tmpl, err := certTemplate(nodeID, nodeValidity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	tmpl.URIs = []*url.URL{NodeURI(nodeID)}
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost"}
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	return tmpl, nil
}

func certTemplate(cn string, validity time.Duration) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("generate serial: %w", err)
	}
	now := time.Now()
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"courtmesh"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     now.Add(validity),
	}, nil
}

func loadCA(dir string) (*x509.Certificate, crypto.Signer, []byte, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read CA certificate: %w", err)
	}
	cert, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, nil, nil, err
	}
	if !cert.IsCA {
		return nil, nil, nil, ErrNotCA
	}
	key, err := readKey(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, nil, nil, err
	}
	return cert, key, caPEM, nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("pki: no certificate in PEM data")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("%s: %w", path, ErrUnknownKeyPEM)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse key %s: %w", path, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %w", path, ErrUnknownKeyPEM)
	}
	return signer, nil
}

func writeKey(path string, key *ecdsa.PrivateKey, exclusive bool) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode key: %w", err)
	}
	return writePEM(path, "PRIVATE KEY", der, 0o600, exclusive)
}

func writePEM(path, typ string, der []byte, perm os.FileMode, exclusive bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if exclusive {
		flags = os.O_WRONLY | os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flags, perm)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("write %s: %w", path, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: der}); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
