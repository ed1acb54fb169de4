// Package pki issues, renews and loads the cluster's certificates: one
// cluster CA, one certificate per node and one per operator (ECDSA P-256,
// TLS 1.3 only). A certificate carries its holder's claims (see Claims) as
// URI SANs: a node's courtmesh://node/<id>, courtmesh://role/<edge|home> and
// courtmesh://region/<region>; an operator's courtmesh://operator/<name> and
// courtmesh://role/operator. The id or name is also the CommonName. Node
// certificates serve both server and client auth, since every mesh link is
// mutually authenticated; operator certificates only client auth.
//
// Files in a CA directory: ca.pem, ca-key.pem. Files in a node directory:
// node.pem, node-key.pem and a copy of ca.pem; in an operator directory:
// operator.pem, operator-key.pem and a copy of ca.pem.
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
	"os"
	"path/filepath"
	"regexp"
	"time"

	"courtmesh/mesh/wire"
)

// File names.
const (
	CACertFile       = "ca.pem"
	CAKeyFile        = "ca-key.pem"
	NodeCertFile     = "node.pem"
	NodeKeyFile      = "node-key.pem"
	OperatorCertFile = "operator.pem"
	OperatorKeyFile  = "operator-key.pem"
)

// URIScheme is the scheme of the URI SANs that carry claims.
const URIScheme = "courtmesh"

// DefaultValidity is how long a node or operator certificate is valid unless
// its issuer says otherwise: short, so that a leaked key expires, with
// `courtctl cert renew` to extend it.
const DefaultValidity = 90 * 24 * time.Hour

// Validity periods.
const (
	caValidity = 10 * 365 * 24 * time.Hour
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

// IssueOptions are the knobs of Issue.
type IssueOptions struct {
	// Hosts become DNS or IP SANs of a node certificate. Nil means
	// 127.0.0.1 and localhost. Operators get none.
	Hosts []string
	// Validity is how long the certificate is valid. Zero means
	// DefaultValidity (90 days).
	Validity time.Duration
	// Force replaces an existing key in outDir. Without it Issue refuses to
	// overwrite a key: a node's key is its identity (and seeds its QUIC
	// stateless reset key); renew a certificate with Renew instead.
	Force bool
}

// Issue signs a certificate for c with the CA in caDir and writes it, its
// new key and a copy of ca.pem into outDir (created if needed): node.pem and
// node-key.pem for a node, operator.pem and operator-key.pem for an
// operator.
func Issue(caDir string, c Claims, outDir string, opt IssueOptions) error {
	if !ValidNodeID(c.ID) {
		return fmt.Errorf("issue %q: %w", c.ID, ErrBadNodeID)
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("issue %q: %w", c.ID, err)
	}
	certFile, keyFile := filesOf(c.Role)
	keyPath := filepath.Join(outDir, keyFile)
	if _, err := os.Stat(keyPath); err == nil && !opt.Force {
		return fmt.Errorf("issue %q: %s: %w (pass --force to replace the key, or renew the certificate)", c.ID, keyPath, ErrExists)
	}
	ca, err := loadCA(caDir)
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	tmpl, err := claimsTemplate(c, opt.Hosts, opt.Validity)
	if err != nil {
		return err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return fmt.Errorf("sign certificate: %w", err)
	}
	if err := os.MkdirAll(outDir, 0o700); err != nil {
		return fmt.Errorf("create certificate dir: %w", err)
	}
	if err := writeKey(keyPath, key, false); err != nil {
		return err
	}
	if err := writePEMAtomic(filepath.Join(outDir, certFile), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(outDir, CACertFile), ca.pem, 0o644); err != nil {
		return fmt.Errorf("copy CA certificate: %w", err)
	}
	return nil
}

// Renew signs the certificate in dir (a node's or an operator's) again with
// the CA in caDir: same key, claims and host names, a new serial, valid for
// validity from now (zero means DefaultValidity). The new certificate
// replaces the old one atomically, so a running node picks it up without a
// restart (Identity.Refresh). It returns the renewed claims.
func Renew(caDir, dir string, validity time.Duration) (Claims, error) {
	certPath := filepath.Join(dir, NodeCertFile)
	if _, err := os.Stat(certPath); errors.Is(err, os.ErrNotExist) {
		certPath = filepath.Join(dir, OperatorCertFile)
	}
	data, err := os.ReadFile(certPath)
	if err != nil {
		return Claims{}, fmt.Errorf("renew: read certificate: %w", err)
	}
	old, err := parseCertPEM(data)
	if err != nil {
		return Claims{}, fmt.Errorf("renew %s: %w", certPath, err)
	}
	c, err := ClaimsOf(old)
	if err != nil {
		return Claims{}, fmt.Errorf("renew %s: %w", certPath, err)
	}
	ca, err := loadCA(caDir)
	if err != nil {
		return Claims{}, err
	}
	if err := old.CheckSignatureFrom(ca.cert); err != nil {
		return Claims{}, fmt.Errorf("renew %s: not issued by the CA in %s: %w", certPath, caDir, err)
	}
	tmpl, err := claimsTemplate(c, nil, validity)
	if err != nil {
		return Claims{}, err
	}
	tmpl.DNSNames, tmpl.IPAddresses = old.DNSNames, old.IPAddresses
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, old.PublicKey, ca.key)
	if err != nil {
		return Claims{}, fmt.Errorf("sign certificate: %w", err)
	}
	return c, writePEMAtomic(certPath, "CERTIFICATE", der, 0o644)
}

// filesOf returns the certificate and key file names of a role.
func filesOf(r wire.Role) (certFile, keyFile string) {
	if r == RoleOperator {
		return OperatorCertFile, OperatorKeyFile
	}
	return NodeCertFile, NodeKeyFile
}

func claimsTemplate(c Claims, hosts []string, validity time.Duration) (*x509.Certificate, error) {
	if validity <= 0 {
		validity = DefaultValidity
	}
	tmpl, err := certTemplate(c.ID, validity)
	if err != nil {
		return nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.URIs = c.uris()
	if c.Operator() {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		return tmpl, nil
	}
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
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

// clusterCA is a loaded CA: its certificate, key and PEM.
type clusterCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
}

func loadCA(dir string) (*clusterCA, error) {
	caPEM, err := os.ReadFile(filepath.Join(dir, CACertFile))
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	cert, err := parseCertPEM(caPEM)
	if err != nil {
		return nil, err
	}
	if !cert.IsCA {
		return nil, ErrNotCA
	}
	key, err := readKey(filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, err
	}
	return &clusterCA{cert: cert, key: key, pem: caPEM}, nil
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

// writePEMAtomic writes a PEM file through a temporary file and a rename, so
// that a reader never sees half of it.
func writePEMAtomic(path, typ string, der []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := writePEM(tmp, typ, der, perm, true); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
