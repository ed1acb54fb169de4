// Package token mints and verifies Supabase-style access tokens: HS256 JWTs
// whose "sub" claim is the user id. Verification is local (no network call),
// checks the algorithm, the signature in constant time, the expiry and the
// subject, and nothing else: audience and role are not enforced.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by Verify, possibly wrapped.
var (
	ErrMalformed = errors.New("token: malformed")
	ErrSignature = errors.New("token: bad signature")
	ErrExpired   = errors.New("token: expired")
	ErrNoSubject = errors.New("token: no subject")
	ErrAlgorithm = errors.New("token: unsupported algorithm")
)

// Leeway is the clock skew tolerated on the exp claim.
const Leeway = 30 * time.Second

// Audience and Role are the values Supabase puts in the tokens of signed-in
// users; Mint writes them.
const (
	Audience = "authenticated"
	Role     = "authenticated"
)

// headerHS256 is the encoded JOSE header of every minted token.
var headerHS256 = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

type header struct {
	Alg string `json:"alg"`
}

// mintClaims are the claims Mint writes.
type mintClaims struct {
	Sub  string `json:"sub"`
	Exp  int64  `json:"exp"`
	Iat  int64  `json:"iat"`
	Role string `json:"role"`
	Aud  string `json:"aud"`
}

// claims are the claims Verify reads; others are ignored.
type claims struct {
	Sub string   `json:"sub"`
	Exp *float64 `json:"exp"`
}

// maxExp bounds exp so the conversion to int64 seconds cannot overflow.
const maxExp = float64(1 << 40)

// Mint returns an HS256 token for userID that expires ttl from now.
func Mint(secret []byte, userID string, ttl time.Duration) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("token: mint: empty secret")
	}
	if userID == "" {
		return "", fmt.Errorf("token: mint: %w", ErrNoSubject)
	}
	now := time.Now()
	body, err := json.Marshal(mintClaims{Sub: userID, Exp: now.Add(ttl).Unix(), Iat: now.Unix(), Role: Role, Aud: Audience})
	if err != nil {
		return "", fmt.Errorf("token: encode claims: %w", err)
	}
	signing := headerHS256 + "." + base64.RawURLEncoding.EncodeToString(body)
	return signing + "." + base64.RawURLEncoding.EncodeToString(sign(secret, signing)), nil
}

func sign(secret []byte, signing string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(signing))
	return m.Sum(nil)
}

// Verifier checks tokens signed with Secret. The zero Now means time.Now.
// A Verifier with an empty Secret rejects every token.
type Verifier struct {
	Secret []byte
	Now    func() time.Time
}

// Verify checks tok and returns its subject (the user id).
func (v *Verifier) Verify(tok string) (string, error) {
	h, c, sig, ok := split(tok)
	if !ok {
		return "", fmt.Errorf("%w: want three base64url parts", ErrMalformed)
	}
	if err := checkHeader(h); err != nil {
		return "", err
	}
	if err := v.checkSignature(tok[:len(h)+1+len(c)], sig); err != nil {
		return "", err
	}
	return v.checkClaims(c)
}

// split cuts tok into its three parts; header and claims must be non-empty.
func split(tok string) (h, c, sig string, ok bool) {
	h, rest, ok1 := strings.Cut(tok, ".")
	c, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || h == "" || c == "" || strings.Contains(sig, ".") {
		return "", "", "", false
	}
	return h, c, sig, true
}

func decodePart(part string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return nil
}

func checkHeader(part string) error {
	var h header
	if err := decodePart(part, &h); err != nil {
		return err
	}
	if h.Alg != "HS256" {
		return fmt.Errorf("%w: %q", ErrAlgorithm, h.Alg)
	}
	return nil
}

func (v *Verifier) checkSignature(signing, sigPart string) error {
	if len(v.Secret) == 0 {
		return fmt.Errorf("%w: verifier has no secret", ErrSignature)
	}
	got, err := base64.RawURLEncoding.DecodeString(sigPart)
	if err != nil {
		return fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}
	if !hmac.Equal(got, sign(v.Secret, signing)) {
		return ErrSignature
	}
	return nil
}

func (v *Verifier) checkClaims(part string) (string, error) {
	var c claims
	if err := decodePart(part, &c); err != nil {
		return "", err
	}
	if c.Exp == nil {
		return "", fmt.Errorf("%w: no exp claim", ErrMalformed)
	}
	if v.now().After(time.Unix(int64(max(min(*c.Exp, maxExp), -maxExp)), 0).Add(Leeway)) {
		return "", ErrExpired
	}
	if c.Sub == "" {
		return "", ErrNoSubject
	}
	return c.Sub, nil
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}
