package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTokenExpiryEndsSocket runs e2e/client/expiry.mjs: with the real
// socket.io-client and the court client's own reconnect logic, a socket
// whose token expires is ended by the edge (--token-grace 1s), reconnects
// with the refreshed token and resyncs; the close is counted under
// court_edge_closes_total{reason="token_expired"} (R15).
func TestTokenExpiryEndsSocket(t *testing.T) {
	c := startCluster(t, clusterOpts{edgeArgs: []string{"--token-grace", "1s"}})
	out := runNode(t, "expiry.mjs", c.nodeEnv(), 60*time.Second)
	require.Contains(t, out, "e2e expiry: all passed")
	require.Equal(t, "1", metricLine(t, c.edgeOps["us"], `court_edge_closes_total{reason="token_expired"}`))
	require.Equal(t, "0", metricLine(t, c.edgeOps["asia"], `court_edge_closes_total{reason="token_expired"}`))
}

// metricLine returns the value of the sample series (name and labels, as
// exposed) at base/metrics.
func metricLine(t *testing.T, base, series string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for line := range strings.Lines(string(body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s at %s", series, base)
	return ""
}
