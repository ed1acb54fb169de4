package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOpsMetricsHaveStandardCollectors: an operator reads a node's memory
// and goroutines from /metrics without any role registered.
func TestOpsMetricsHaveStandardCollectors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(opsHandler(newOpsRegistry(), func() error { return nil }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, m := range []string{"process_resident_memory_bytes ", "process_open_fds ",
		"go_goroutines ", "go_memstats_heap_inuse_bytes ", "go_gc_duration_seconds"} {
		require.Contains(t, string(body), "\n"+m, "standard collector metric %s", m)
	}
}
