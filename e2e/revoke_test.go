package e2e

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRevokedEdgeIsCut: `courtctl cert revoke` on a running cluster (separate
// processes, real Redis) makes the home cut the edge's link within its
// revocation poll (5 s) and refuse its redials, so the edge stops being
// ready; unrevoked, it links again.
func TestRevokedEdgeIsCut(t *testing.T) {
	c := startCluster(t, clusterOpts{timerScale: "1"})
	ctl := filepath.Join(binaries(t, false), "courtctl")
	asia := c.edgeOps["asia"]
	require.Equal(t, 1.0, scrape(t, asia, "court_mesh_link_up"))

	out, err := runWithEnv(c.env, ctl, "cert", "revoke", "edge-asia-1")
	require.NoError(t, err, "%s", out)
	start := time.Now()
	require.Eventually(t, func() bool { return scrape(t, asia, "court_mesh_link_up") == 0 },
		10*time.Second, 50*time.Millisecond, "the revoked edge's link is cut")
	cut := time.Since(start)
	t.Logf("link cut %v after the revocation", cut.Round(10*time.Millisecond))
	require.Less(t, cut, 7*time.Second, "within the 5 s poll")
	require.Never(t, func() bool { return scrape(t, asia, "court_mesh_link_up") != 0 },
		2*time.Second, 100*time.Millisecond, "its redials are refused")
	require.Equal(t, 1.0, scrape(t, c.edgeOps["us"], "court_mesh_link_up"), "other edges keep their link")

	out, err = runWithEnv(c.env, ctl, "cert", "unrevoke", "edge-asia-1")
	require.NoError(t, err, "%s", out)
	waitReady(t, c.asiaURL, 40*time.Second)
}
