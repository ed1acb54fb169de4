package token

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"courtmesh/protocol"
)

// Errors returned by Verify, possibly wrapped. Every refusal wraps ErrInvalid.
var (
	ErrInvalid   = errors.New("token: invalid")
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalid)
	ErrSignature = fmt.Errorf("%w: bad signature", ErrInvalid)
	ErrAlgorithm = fmt.Errorf("%w: algorithm not accepted", ErrInvalid)
	ErrKey       = fmt.Errorf("%w: no key for this token", ErrInvalid)
	ErrExpired   = fmt.Errorf("%w: expired", ErrInvalid)
	ErrNotYet    = fmt.Errorf("%w: not valid yet", ErrInvalid)
	ErrLifetime  = fmt.Errorf("%w: exp too far in the future", ErrInvalid)
	ErrClaims    = fmt.Errorf("%w: claims", ErrInvalid)
	ErrNoSubject = fmt.Errorf("%w: sub is not a UUID", ErrInvalid)
)

// Supabase's values for the tokens of signed-in users.
const (
	Audience = "authenticated"
	Role     = "authenticated"
)

// Defaults of a Verifier.
const (
	// Leeway is the clock skew tolerated on exp and nbf.
	Leeway = 30 * time.Second
	// MaxLifetime bounds how far in the future exp may be: Supabase's
	// longest configurable access-token lifetime is one week.
	MaxLifetime = 7 * 24 * time.Hour
)

// Keys finds the public key of an asymmetric token by its key id (the
// header's kid). *JWKS implements it.
type Keys interface {
	Key(kid, alg string) (any, error)
}

// Verifier checks access tokens. The zero value refuses every token; set
// Secret for HS256 and Keys for ES256/RS256. A Verifier is safe for
// concurrent use and must not be changed after its first use.
type Verifier struct {
	// Secret is the project's JWT secret (SUPABASE_JWT_SECRET). Empty
	// means HS256 tokens are refused.
	Secret []byte
	// Keys gives the ES256/RS256 keys (the project's JWKS). Nil means
	// asymmetric tokens are refused.
	Keys Keys
	// Issuer, when set, must equal the iss claim: "$SUPABASE_URL/auth/v1".
	Issuer string
	// Audience must be one of the aud claim's values; empty means
	// "authenticated".
	Audience string
	// Role must equal the role claim; empty means "authenticated".
	Role string
	// Leeway is the clock skew tolerated; zero means 30 s.
	Leeway time.Duration
	// MaxLifetime bounds exp − now; zero means one week.
	MaxLifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Claims is what a verified token says.
type Claims struct {
	// Subject is the user id (a UUID).
	Subject string
	// Expiry is when the token stops being valid (leeway excluded).
	Expiry time.Time
}

// supabaseClaims are the claims read from a token; the rest are ignored.
type supabaseClaims struct {
	jwt.RegisteredClaims
	Role string `json:"role"`
}

// algorithms is every alg a Verifier accepts; anything else ("none",
// HS512, PS256, ...) is refused before a key is looked up.
var algorithms = []string{"HS256", "ES256", "RS256"}

// Verify checks tok and returns its subject (the user id).
func (v *Verifier) Verify(tok string) (string, error) {
	c, err := v.VerifyClaims(tok)
	if err != nil {
		return "", err
	}
	return c.Subject, nil
}

// VerifyClaims checks tok and returns its subject and expiry.
func (v *Verifier) VerifyClaims(tok string) (Claims, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	leeway := orDefault(v.Leeway, Leeway)
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algorithms),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		jwt.WithAudience(orDefault(v.Audience, Audience)),
	}
	if v.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.Issuer))
	}
	var c supabaseClaims
	if _, err := jwt.NewParser(opts...).ParseWithClaims(tok, &c, v.key); err != nil {
		return Claims{}, classify(err)
	}
	// exp is present: WithExpirationRequired.
	exp := c.ExpiresAt.Time
	if exp.Sub(now()) > orDefault(v.MaxLifetime, MaxLifetime)+leeway {
		return Claims{}, ErrLifetime
	}
	if want := orDefault(v.Role, Role); c.Role != want {
		return Claims{}, fmt.Errorf("%w: role %q, want %q", ErrClaims, c.Role, want)
	}
	if !protocol.IsUUID(c.Subject) {
		return Claims{}, ErrNoSubject
	}
	return Claims{Subject: c.Subject, Expiry: exp}, nil
}

// key is the jwt.Keyfunc: HS256 uses only the secret, ES256 and RS256 only
// a JWKS key of the matching type, so a token cannot choose how its
// signature is checked (an HS256 token "signed" with an RSA public key finds
// the secret, not that key).
func (v *Verifier) key(t *jwt.Token) (any, error) {
	switch alg := t.Method.Alg(); alg {
	case "HS256":
		if len(v.Secret) == 0 {
			return nil, fmt.Errorf("%w: HS256 without a secret", ErrKey)
		}
		return v.Secret, nil
	case "ES256", "RS256":
		if v.Keys == nil {
			return nil, fmt.Errorf("%w: %s without a JWKS", ErrKey, alg)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, fmt.Errorf("%w: %s token without kid", ErrKey, alg)
		}
		k, err := v.Keys.Key(kid, alg)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrKey, err)
		}
		return pinned(alg, k)
	default:
		return nil, fmt.Errorf("%w: %q", ErrAlgorithm, alg)
	}
}

// pinned returns k when its type is the one alg needs.
func pinned(alg string, k any) (any, error) {
	switch pk := k.(type) {
	case *ecdsa.PublicKey:
		if alg == "ES256" && pk.Curve.Params().Name == "P-256" {
			return pk, nil
		}
	case *rsa.PublicKey:
		if alg == "RS256" {
			return pk, nil
		}
	}
	return nil, fmt.Errorf("%w: %s token, key of type %T", ErrAlgorithm, alg, k)
}

// classify maps a jwt error to this package's errors, keeping the cause.
func classify(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, ErrInvalid):
		return err
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		sentinel = ErrSignature
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		sentinel = ErrAlgorithm
	case errors.Is(err, jwt.ErrTokenExpired):
		sentinel = ErrExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		sentinel = ErrNotYet
	case errors.Is(err, jwt.ErrTokenMalformed):
		sentinel = ErrMalformed
	default:
		sentinel = ErrClaims
	}
	return fmt.Errorf("%w: %w", sentinel, err)
}

func orDefault[T time.Duration | string](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
