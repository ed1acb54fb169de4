package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"courtmesh/mesh/wire"
)

// RoleOperator is the role of an operator's certificate: it may call the
// admin surface and may not join the mesh. The mesh roles are wire.RoleEdge
// and wire.RoleHome.
const RoleOperator wire.Role = "operator"

// Hosts of the courtmesh:// URI SANs that carry a certificate's claims.
const (
	uriHost     = "node"     // courtmesh://node/<id>
	uriOperator = "operator" // courtmesh://operator/<name>
	uriRole     = "role"     // courtmesh://role/<edge|home|operator>
	uriRegion   = "region"   // courtmesh://region/<region>
)

// ErrBadClaims is wrapped by every error about a certificate's claims.
var ErrBadClaims = errors.New("pki: certificate claims")

var regionPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// ValidRegion reports whether r can name a region in a certificate: 1 to 32
// lowercase letters, digits or '-', starting with a letter or digit.
func ValidRegion(r string) bool { return regionPattern.MatchString(r) }

// Claims is what a certificate says about its holder.
type Claims struct {
	// ID is the node id, or the operator's name.
	ID string
	// Role is wire.RoleEdge, wire.RoleHome or RoleOperator.
	Role wire.Role
	// Region is the node's region; empty for an operator.
	Region string
}

// Operator reports whether the claims are an operator's.
func (c Claims) Operator() bool { return c.Role == RoleOperator }

// String names the holder for messages: "edge edge-us-1 in us".
func (c Claims) String() string {
	if c.Operator() {
		return "operator " + c.ID
	}
	return fmt.Sprintf("%s %s in %s", c.Role, c.ID, c.Region)
}

// validate checks the claims are whole: a valid id, a known role, and a
// region exactly for the mesh roles.
func (c Claims) validate() error {
	switch {
	case !ValidNodeID(c.ID):
		return fmt.Errorf("%w: bad id %q", ErrBadClaims, c.ID)
	case c.Role == RoleOperator:
		if c.Region != "" {
			return fmt.Errorf("%w: an operator has no region", ErrBadClaims)
		}
	case c.Role == wire.RoleEdge || c.Role == wire.RoleHome:
		if !ValidRegion(c.Region) {
			return fmt.Errorf("%w: bad region %q", ErrBadClaims, c.Region)
		}
	default:
		return fmt.Errorf("%w: unknown role %q", ErrBadClaims, c.Role)
	}
	return nil
}

// uris returns the URI SANs that carry c: the node's (or operator's) name,
// its role and, for a node, its region.
func (c Claims) uris() []*url.URL {
	host := uriHost
	if c.Operator() {
		host = uriOperator
	}
	out := []*url.URL{claimURI(host, c.ID), claimURI(uriRole, string(c.Role))}
	if c.Region != "" {
		out = append(out, claimURI(uriRegion, c.Region))
	}
	return out
}

func claimURI(host, value string) *url.URL {
	return &url.URL{Scheme: URIScheme, Host: host, Path: "/" + value}
}

// ClaimsOf returns the claims of a certificate of this cluster: its
// courtmesh:// URI SANs, exactly one name (node or operator), one role and,
// for a node, one region. The name must equal the CommonName. A certificate
// without a role (issued before roles existed) is refused: reissue it with
// `courtctl cert create --role`.
func ClaimsOf(cert *x509.Certificate) (Claims, error) {
	return parseClaims(cert.Subject.CommonName, cert.URIs)
}

func parseClaims(cn string, uris []*url.URL) (Claims, error) {
	var c Claims
	seen := map[string]bool{}
	for _, u := range uris {
		if u.Scheme != URIScheme {
			continue
		}
		v, err := claimValue(u)
		if err != nil {
			return Claims{}, err
		}
		if seen[u.Host] || (u.Host == uriHost && seen[uriOperator]) || (u.Host == uriOperator && seen[uriHost]) {
			return Claims{}, fmt.Errorf("%w: %s claimed twice", ErrBadClaims, u.Host)
		}
		seen[u.Host] = true
		switch u.Host {
		case uriHost, uriOperator:
			c.ID = v
		case uriRole:
			c.Role = wire.Role(v)
		case uriRegion:
			c.Region = v
		}
	}
	switch {
	case c.ID == "":
		return Claims{}, ErrNoNodeID
	case c.ID != cn:
		return Claims{}, fmt.Errorf("%w: name %q but CN %q", ErrBadClaims, c.ID, cn)
	case c.Role == "":
		return Claims{}, fmt.Errorf("%w: %s has no role; reissue it with `courtctl cert create --role`", ErrBadClaims, c.ID)
	case seen[uriOperator] != (c.Role == RoleOperator):
		return Claims{}, fmt.Errorf("%w: name and role %q disagree", ErrBadClaims, c.Role)
	}
	if err := c.validate(); err != nil {
		return Claims{}, err
	}
	return c, nil
}

// claimValue returns the value of a courtmesh:// URI SAN, which must be
// exactly courtmesh://<known host>/<value>.
func claimValue(u *url.URL) (string, error) {
	switch u.Host {
	case uriHost, uriOperator, uriRole, uriRegion:
	default:
		return "", fmt.Errorf("%w: unknown claim %q", ErrBadClaims, u.Host)
	}
	v, ok := strings.CutPrefix(u.Path, "/")
	if !ok || v == "" || strings.Contains(v, "/") || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" || u.ForceQuery {
		return "", fmt.Errorf("%w: malformed claim %q", ErrBadClaims, u.Redacted())
	}
	return v, nil
}
