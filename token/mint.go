package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"courtmesh/protocol"
)

// Minter signs tokens shaped like Supabase's: sub, aud and role
// "authenticated", iat, exp and, when Issuer is set, iss. With Key set it
// signs ES256 under KeyID, else HS256 with Secret.
type Minter struct {
	Secret []byte
	Key    *ecdsa.PrivateKey
	KeyID  string
	Issuer string
}

// Mint returns a token for userID (a UUID) that expires ttl from now.
func (m Minter) Mint(userID string, ttl time.Duration) (string, error) {
	if !protocol.IsUUID(userID) {
		return "", fmt.Errorf("token: mint: %w", ErrNoSubject)
	}
	now := time.Now()
	claims := supabaseClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   userID,
			Issuer:    m.Issuer,
			Audience:  jwt.ClaimStrings{Audience},
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Role: Role,
	}
	var (
		t   *jwt.Token
		key any
	)
	switch {
	case m.Key != nil:
		t, key = jwt.NewWithClaims(jwt.SigningMethodES256, claims), m.Key
		t.Header["kid"] = m.KeyID
	case len(m.Secret) > 0:
		t, key = jwt.NewWithClaims(jwt.SigningMethodHS256, claims), m.Secret
	default:
		return "", errors.New("token: mint: no secret and no key")
	}
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("token: mint: %w", err)
	}
	return s, nil
}

// Mint returns an HS256 token for userID signed with secret.
func Mint(secret []byte, userID string, ttl time.Duration) (string, error) {
	return Minter{Secret: secret}.Mint(userID, ttl)
}

// DevKeyID is the kid of DevKey in the dev JWKS.
const DevKeyID = "courtmesh-dev-es256"

// DevKey is the ES256 key of `courtd dev` and `courtctl token --alg ES256`,
// derived from a fixed string so both processes agree on it. It is public:
// for a laptop only.
func DevKey() *ecdsa.PrivateKey {
	d := sha256.Sum256([]byte("courtmesh dev ES256 key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		panic(fmt.Sprintf("token: dev key: %v", err)) // a fixed valid scalar
	}
	return k
}

// JWKSDocument is the JSON key set publishing each P-256 public key under
// its kid, in kid order, as Supabase serves it.
func JWKSDocument(keys map[string]*ecdsa.PublicKey) ([]byte, error) {
	type jwk struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
		Kid string `json:"kid"`
		Alg string `json:"alg"`
		Use string `json:"use"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	set.Keys = []jwk{}
	for _, kid := range slices.Sorted(maps.Keys(keys)) {
		raw, err := keys[kid].Bytes() // 0x04 || X || Y
		if err != nil {
			return nil, fmt.Errorf("token: jwks: %w", err)
		}
		enc := base64.RawURLEncoding.EncodeToString
		set.Keys = append(set.Keys, jwk{Kty: "EC", Crv: "P-256", X: enc(raw[1:33]), Y: enc(raw[33:]), Kid: kid, Alg: "ES256", Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		return nil, fmt.Errorf("token: jwks: %w", err)
	}
	return b, nil
}
