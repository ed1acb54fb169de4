package edge

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/token"
)

// ES256 tokens verify against the project's JWKS on the socket and REST
// paths, and the JWKS is fetched once at start, never per connection or
// request; a token signed by a key outside the JWKS is refused.
func TestHandshakeJWKSNoRequestPerConnection(t *testing.T) {
	t.Parallel()
	doc, err := token.JWKSDocument(map[string]*ecdsa.PublicKey{token.DevKeyID: &token.DevKey().PublicKey})
	require.NoError(t, err)
	var requests atomic.Int64
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		_, _ = w.Write(doc)
	}))
	defer jwks.Close()
	keys, err := token.NewJWKS(t.Context(), token.JWKSConfig{URL: token.JWKSOf(jwks.URL), Client: jwks.Client()})
	require.NoError(t, err)
	te := newTestEdge(t, func(c *Config) { c.Verifier = &token.Verifier{Keys: keys} })

	const user = "a11ce000-0000-4000-8000-0000000000a1"
	tok, err := token.Minter{Key: token.DevKey(), KeyID: token.DevKeyID}.Mint(user, time.Hour)
	require.NoError(t, err)
	for range 20 {
		c := te.dial(t, nil)
		require.True(t, strings.HasPrefix(c.read(), `0{"sid":`))
		c.write(`40{"token":"` + tok + `"}`)
		require.True(t, strings.HasPrefix(c.read(), `40{"sid":`))
		resp, _ := te.rest(t, http.MethodGet, "/api/court/state", tok, "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	require.EqualValues(t, 1, requests.Load(), "one JWKS fetch at start, none per connection")

	forged, err := token.Minter{Key: otherKey(t), KeyID: token.DevKeyID}.Mint(user, time.Hour)
	require.NoError(t, err)
	resp, body := te.rest(t, http.MethodPost, "/api/court/accept", forged, `{}`)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.JSONEq(t, `{"error":"Invalid or expired session"}`, body)
}

func otherKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}
