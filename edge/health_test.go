package edge

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProbes(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	get := func(path string) (int, string) {
		resp, err := http.Get(te.srv.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, _ := get("/healthz")
	require.Equal(t, http.StatusOK, code)

	te.mesh.mu.Lock()
	te.mesh.nodes = nil
	te.mesh.mu.Unlock()
	code, body := get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "not ready before a home link is up")
	require.Contains(t, body, "no home node")

	te.mesh.mu.Lock()
	te.mesh.nodes = []string{"home-us-1"}
	te.mesh.mu.Unlock()
	code, _ = get("/readyz")
	require.Equal(t, http.StatusOK, code)

	te.s.mu.Lock()
	te.s.draining = true
	te.s.mu.Unlock()
	code, body = get("/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code, "not ready while draining")
	require.Contains(t, body, "draining")
}
