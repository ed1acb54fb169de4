package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLifecycle runs the whole-lifecycle scenarios of e2e/client/lifecycle.mjs
// with the real socket.io-client, partners on the us and asia edges, against
// two home nodes on the real Redis and Postgres; then one home, holding
// 1,000 sessions, is shut down gracefully (SIGTERM).
func TestLifecycle(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2, timerScale: "0.01"})
	for _, sc := range []string{"happy", "mismatch", "addendum", "settlement", "badinput"} {
		t.Run(sc, func(t *testing.T) {
			out := runNode(t, "lifecycle.mjs", c.nodeEnv(), 90*time.Second, sc)
			require.Contains(t, out, "e2e "+sc+": all passed")
		})
	}
	t.Run("graceful-shutdown", func(t *testing.T) { testGracefulShutdown(t, c) })
}

// TestPhaseTimeouts fires every phase timer (COURT_TIMER_SCALE 0.002: the
// 1 h phases last 7.2 s), and the ANALYZING one against a judge slower than
// it.
func TestPhaseTimeouts(t *testing.T) {
	t.Run("phases", func(t *testing.T) {
		c := startCluster(t, clusterOpts{timerScale: "0.002"})
		out := runNode(t, "lifecycle.mjs", c.nodeEnv(), 90*time.Second, "timeouts")
		require.Contains(t, out, "e2e timeouts: all passed")
	})
	t.Run("analyzing", func(t *testing.T) {
		// ANALYZING (5 min) becomes 600 ms; each judge call takes 450 ms.
		c := startCluster(t, clusterOpts{timerScale: "0.002", homeArgs: []string{"--judge-delay", "450ms"}})
		out := runNode(t, "lifecycle.mjs", c.nodeEnv(), 90*time.Second, "analyzing")
		require.Contains(t, out, "e2e analyzing: all passed")
	})
}
