package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/protocol"
	"courtmesh/token"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var secret = []byte("super-secret-jwt-token-with-at-least-32-characters")

const (
	user = "0b6f7c1e-8d3a-4b6e-9a51-2f1e3c4d5e6f"
	iss  = "https://proj.supabase.co/auth/v1"
)

// jwksServer serves a key set that a test can replace, and counts requests.
type jwksServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	doc      []byte
	requests atomic.Int64
}

func newJWKSServer(t *testing.T, keys ...map[string]any) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.set(t, keys...)
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		require.Equal(t, token.JWKSPath, r.URL.Path)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.doc)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(t *testing.T, keys ...map[string]any) {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"keys": keys})
	require.NoError(t, err)
	s.mu.Lock()
	s.doc = doc
	s.mu.Unlock()
}

func (s *jwksServer) jwks(t *testing.T) *token.JWKS {
	t.Helper()
	j, err := token.NewJWKS(t.Context(), token.JWKSConfig{URL: token.JWKSOf(s.srv.URL), Client: s.srv.Client(), Refresh: time.Hour})
	require.NoError(t, err)
	return j
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func ecJWK(kid string, k *ecdsa.PrivateKey) map[string]any {
	raw, err := k.PublicKey.Bytes()
	if err != nil {
		panic(err)
	}
	return map[string]any{"kty": "EC", "crv": "P-256", "x": b64(raw[1:33]), "y": b64(raw[33:]), "kid": kid, "alg": "ES256", "use": "sig"}
}

func rsaJWK(kid string, k *rsa.PrivateKey) map[string]any {
	return map[string]any{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()), "kid": kid, "alg": "RS256", "use": "sig"}
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// good are the claims of a valid token at now.
func good(now time.Time) jwt.MapClaims {
	return jwt.MapClaims{"sub": user, "aud": "authenticated", "role": "authenticated", "iss": iss,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for kk, vv := range c {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func sign(t testing.TB, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	es, other := ecKey(t), ecKey(t)
	rs := rsaKey()
	srv := newJWKSServer(t, ecJWK("es1", es), rsaJWK("rs1", rs))
	v := &token.Verifier{Secret: secret, Keys: srv.jwks(t), Issuer: iss, Now: func() time.Time { return now }}
	g := good(now)
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, "", secret, c) }
	rsaPub, err := x509.MarshalPKIXPublicKey(&rs.PublicKey)
	require.NoError(t, err)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})

	cases := []struct {
		name    string
		tok     string
		wantErr error // nil: valid, subject user
	}{
		{"HS256", hs(g), nil},
		{"ES256 from JWKS", sign(t, jwt.SigningMethodES256, "es1", es, g), nil},
		{"RS256 from JWKS", sign(t, jwt.SigningMethodRS256, "rs1", rs, g), nil},
		{"aud array containing authenticated", hs(with(g, "aud", []string{"other", "authenticated"})), nil},
		{"expired within leeway", hs(with(g, "exp", now.Add(-10*time.Second).Unix())), nil},
		{"nbf within leeway", hs(with(g, "nbf", now.Add(10*time.Second).Unix())), nil},

		{"ES256 signed by another key", sign(t, jwt.SigningMethodES256, "es1", other, g), token.ErrSignature},
		{"HS256 with another secret", sign(t, jwt.SigningMethodHS256, "", []byte("another-secret-another-secret-00"), g), token.ErrSignature},
		{"HS256 signed with the RSA public key", sign(t, jwt.SigningMethodHS256, "rs1", rsaPEM, g), token.ErrSignature},
		{"ES256 naming the RSA key", sign(t, jwt.SigningMethodES256, "rs1", es, g), token.ErrInvalid},
		{"RS256 naming the EC key", sign(t, jwt.SigningMethodRS256, "es1", rs, g), token.ErrInvalid},
		{"ES256 without kid", sign(t, jwt.SigningMethodES256, "", es, g), token.ErrKey},
		{"ES256 unknown kid", sign(t, jwt.SigningMethodES256, "nope", es, g), token.ErrKey},
		{"alg none", sign(t, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, g), token.ErrInvalid},
		{"alg HS512", sign(t, jwt.SigningMethodHS512, "", secret, g), token.ErrInvalid},
		{"alg PS256", sign(t, jwt.SigningMethodPS256, "rs1", rs, g), token.ErrInvalid},
		{"wrong aud", hs(with(g, "aud", "anon")), token.ErrClaims},
		{"no aud", hs(with(g, "aud", nil)), token.ErrClaims},
		{"wrong role", hs(with(g, "role", "anon")), token.ErrClaims},
		{"role service_role", hs(with(g, "role", "service_role")), token.ErrClaims},
		{"wrong iss", hs(with(g, "iss", "https://evil.supabase.co/auth/v1")), token.ErrClaims},
		{"no iss", hs(with(g, "iss", nil)), token.ErrClaims},
		{"expired", hs(with(g, "exp", now.Add(-time.Hour).Unix())), token.ErrExpired},
		{"exp far past", hs(with(g, "exp", -1e300)), token.ErrExpired},
		{"exp far future (overflows)", hs(with(g, "exp", 1e300)), token.ErrInvalid},
		{"exp beyond a week", hs(with(g, "exp", now.Add(8*24*time.Hour).Unix())), token.ErrLifetime},
		{"no exp", hs(with(g, "exp", nil)), token.ErrClaims},
		{"nbf in the future", hs(with(g, "nbf", now.Add(time.Hour).Unix())), token.ErrNotYet},
		{"sub not a uuid", hs(with(g, "sub", "alice")), token.ErrNoSubject},
		{"no sub", hs(with(g, "sub", nil)), token.ErrNoSubject},
		{"sub not a string", hs(with(g, "sub", 7)), token.ErrInvalid},
		{"empty", "", token.ErrMalformed},
		{"two parts", "a.b", token.ErrMalformed},
		{"garbage", "!!!.???.***", token.ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := v.VerifyClaims(tc.tok)
			if tc.wantErr == nil {
				require.NoError(t, err)
				require.Equal(t, user, c.Subject)
				require.False(t, c.Expiry.IsZero())
				return
			}
			require.ErrorIs(t, err, tc.wantErr)
			require.ErrorIs(t, err, token.ErrInvalid)
			require.Empty(t, c.Subject)
		})
	}
}

// A Verifier without a secret refuses HS256; without keys refuses ES256.
func TestVerifyNeedsItsKey(t *testing.T) {
	t.Parallel()
	now := time.Now()
	es := ecKey(t)
	_, err := (&token.Verifier{}).Verify(sign(t, jwt.SigningMethodHS256, "", secret, good(now)))
	require.ErrorIs(t, err, token.ErrKey)
	_, err = (&token.Verifier{Secret: secret}).Verify(sign(t, jwt.SigningMethodES256, "k", es, good(now)))
	require.ErrorIs(t, err, token.ErrKey)
}

// Audience, role and issuer are configurable; iss is checked on HS256 too.
func TestVerifyConfigurable(t *testing.T) {
	t.Parallel()
	now := time.Now()
	v := &token.Verifier{Secret: secret, Audience: "court", Role: "member", Issuer: "https://x/auth/v1"}
	c := with(with(with(good(now), "aud", "court"), "role", "member"), "iss", "https://x/auth/v1")
	sub, err := v.Verify(sign(t, jwt.SigningMethodHS256, "", secret, c))
	require.NoError(t, err)
	require.Equal(t, user, sub)
	_, err = v.Verify(sign(t, jwt.SigningMethodHS256, "", secret, good(now)))
	require.ErrorIs(t, err, token.ErrClaims)
}

// A key that appears after a rotation is fetched when a token names it, and
// only once however many tokens name it; verifying never calls the JWKS
// otherwise.
func TestJWKSRotationAndNoRequestPerToken(t *testing.T) {
	t.Parallel()
	k1, k2 := ecKey(t), ecKey(t)
	srv := newJWKSServer(t, ecJWK("k1", k1))
	v := &token.Verifier{Keys: srv.jwks(t)}
	require.EqualValues(t, 1, srv.requests.Load(), "fetched once at start")
	for range 200 {
		sub, err := v.Verify(sign(t, jwt.SigningMethodES256, "k1", k1, good(time.Now())))
		require.NoError(t, err)
		require.Equal(t, user, sub)
	}
	require.EqualValues(t, 1, srv.requests.Load(), "no request per token")

	srv.set(t, ecJWK("k2", k2)) // rotation: k1 revoked, k2 new
	tok2 := sign(t, jwt.SigningMethodES256, "k2", k2, good(time.Now()))
	for range 50 {
		_, err := v.Verify(tok2)
		require.NoError(t, err)
	}
	require.EqualValues(t, 2, srv.requests.Load(), "one refresh for the new kid")
	_, err := v.Verify(sign(t, jwt.SigningMethodES256, "k1", k1, good(time.Now())))
	require.ErrorIs(t, err, token.ErrKey, "the revoked key is gone")

	// Unknown kids within the limit are refused at once, without a request.
	for range 50 {
		_, err := v.Verify(sign(t, jwt.SigningMethodES256, "ghost", k2, good(time.Now())))
		require.ErrorIs(t, err, token.ErrKey)
	}
	require.EqualValues(t, 2, srv.requests.Load(), "unknown-kid refreshes are rate limited")
}

// The background refresh picks up a rotated key without a token asking.
func TestJWKSBackgroundRefresh(t *testing.T) {
	t.Parallel()
	k1, k2 := ecKey(t), ecKey(t)
	srv := newJWKSServer(t, ecJWK("k1", k1))
	j, err := token.NewJWKS(t.Context(), token.JWKSConfig{URL: token.JWKSOf(srv.srv.URL), Client: srv.srv.Client(),
		Refresh: 20 * time.Millisecond, UnknownKIDEvery: time.Hour})
	require.NoError(t, err)
	srv.set(t, ecJWK("k2", k2))
	require.Eventually(t, func() bool { return srv.requests.Load() >= 2 }, 5*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		_, err := (&token.Verifier{Keys: j}).Verify(sign(t, jwt.SigningMethodES256, "k2", k2, good(time.Now())))
		return err == nil
	}, 5*time.Second, 5*time.Millisecond)
}

// An unreachable JWKS at start does not stop the verifier: HS256 still works.
func TestJWKSUnreachableAtStart(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	j, err := token.NewJWKS(t.Context(), token.JWKSConfig{URL: token.JWKSOf(srv.URL), Client: srv.Client()})
	srv.Close()
	require.NoError(t, err)
	v := &token.Verifier{Secret: secret, Keys: j}
	_, err = v.Verify(sign(t, jwt.SigningMethodHS256, "", secret, good(time.Now())))
	require.NoError(t, err)
}

func TestMinter(t *testing.T) {
	t.Parallel()
	hs, err := token.Minter{Secret: secret, Issuer: iss}.Mint(user, time.Hour)
	require.NoError(t, err)
	es, err := token.Minter{Key: token.DevKey(), KeyID: token.DevKeyID, Issuer: iss}.Mint(user, time.Hour)
	require.NoError(t, err)
	doc, err := token.JWKSDocument(map[string]*ecdsa.PublicKey{token.DevKeyID: &token.DevKey().PublicKey})
	require.NoError(t, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(doc) }))
	defer srv.Close()
	j, err := token.NewJWKS(t.Context(), token.JWKSConfig{URL: token.JWKSOf(srv.URL), Client: srv.Client()})
	require.NoError(t, err)
	v := &token.Verifier{Secret: secret, Keys: j, Issuer: iss}
	for _, tok := range []string{hs, es} {
		sub, err := v.Verify(tok)
		require.NoError(t, err)
		require.Equal(t, user, sub)
	}
	require.True(t, token.DevKey().Equal(token.DevKey()), "the dev key is the same in every process")

	_, err = token.Mint(secret, "alice", time.Hour)
	require.ErrorIs(t, err, token.ErrNoSubject)
	_, err = token.Minter{}.Mint(user, time.Hour)
	require.Error(t, err)
}

func FuzzVerify(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	es := token.DevKey()
	f.Add(sign(f, jwt.SigningMethodHS256, "", secret, good(now)))
	f.Add(sign(f, jwt.SigningMethodES256, token.DevKeyID, es, good(now)))
	f.Add(sign(f, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, good(now)))
	f.Add(sign(f, jwt.SigningMethodHS256, "", secret, with(good(now), "exp", 1e300)))
	f.Add("")
	f.Add("a.b.c")
	v := &token.Verifier{Secret: secret, Keys: staticKeys{token.DevKeyID: &es.PublicKey}, Issuer: iss, Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.VerifyClaims(tok)
		if err == nil && !protocol.IsUUID(c.Subject) {
			t.Fatalf("accepted %q with subject %q", tok, c.Subject)
		}
		if err != nil && c.Subject != "" {
			t.Fatalf("error %v with subject %q", err, c.Subject)
		}
	})
}

// staticKeys is a fixed key set (no network) for the fuzzer and benchmarks.
type staticKeys map[string]any

func (s staticKeys) Key(kid, _ string) (any, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, token.ErrKey
}

// BenchmarkVerify is the cost of one handshake's verification
// (docs/decisions.md, "Token verification").
func BenchmarkVerify(b *testing.B) {
	es := ecKey(b)
	v := &token.Verifier{Secret: secret, Keys: staticKeys{"k": &es.PublicKey}, Issuer: iss}
	for _, bc := range []struct {
		name string
		tok  string
	}{
		{"HS256", sign(b, jwt.SigningMethodHS256, "", secret, good(time.Now()))},
		{"ES256", sign(b, jwt.SigningMethodES256, "k", es, good(time.Now()))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(bc.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
