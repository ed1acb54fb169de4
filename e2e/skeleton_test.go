package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSkeletonAcrossRegions drives the real socket.io-client through the
// walking-skeleton scenario (e2e/client/skeleton.mjs): A on the us edge serves
// B on the asia edge, B accepts, B moves to the us edge and resyncs, bad
// tokens and bad frames are refused without harming others, and the PENDING
// timer fires.
func TestSkeletonAcrossRegions(t *testing.T) {
	// PENDING (10 min) becomes 3 s; EVIDENCE (1 h) 18 s, longer than the run.
	c := startCluster(t, clusterOpts{timerScale: "0.005"})
	out := runNode(t, "skeleton.mjs", c.nodeEnv(), 90*time.Second)
	require.Contains(t, out, "e2e skeleton: all passed")
}
