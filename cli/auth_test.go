package cli

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Both token paths of `make run`: `courtctl token` mints HS256 with the dev
// secret and ES256 with the dev key, and the verifier `courtd dev` gives its
// edges accepts both, the ES256 one through the dev JWKS.
func TestDevTokensVerify(t *testing.T) {
	t.Setenv(envJWTSecret, "")
	t.Setenv(envSupabaseURL, "")
	h, err := devJWKSHandler()
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	defer srv.Close()
	v, err := edgeVerifier(t.Context(), devJWTSecret, srv.URL+"/auth/v1/.well-known/jwks.json", nil)
	require.NoError(t, err)
	user := newTestUUID(t)
	for _, alg := range []string{"HS256", "ES256"} {
		cmd := newTokenCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetArgs([]string{"--user", user, "--alg", alg})
		require.NoError(t, cmd.Execute())
		sub, err := v.Verify(strings.TrimSpace(out.String()))
		require.NoError(t, err, alg)
		require.Equal(t, user, sub)
	}
	cmd := newTokenCmd()
	cmd.SetArgs([]string{"--user", "alice"})
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	require.Error(t, cmd.Execute(), "a non-UUID user is refused")

	_, err = edgeVerifier(t.Context(), "", "", nil)
	require.Error(t, err, "an edge with neither a secret nor a JWKS refuses to start")
}
