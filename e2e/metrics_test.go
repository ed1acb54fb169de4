package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/loadgen"
)

// scrape reads the sum of a metric's samples whose line contains every label
// fragment given.
func scrape(t *testing.T, base, metric string) float64 {
	t.Helper()
	v, err := loadgen.ScrapeGauge(context.Background(), base+"/metrics", metric)
	require.NoError(t, err, "%s at %s", metric, base)
	return v
}

// TestMetricsFollowASession scrapes every node's /metrics while a session
// runs end to end: every node exports the standard process_* and go_*
// collectors, and the counters and latency histograms move as the session
// does.
func TestMetricsFollowASession(t *testing.T) {
	hook := newWebhook(t)
	c := startCluster(t, clusterOpts{timerScale: "0.01", homeArgs: []string{"--webhook", hook.url}})
	home, us, asia := c.homeOps[0], c.edgeOps["us"], c.edgeOps["asia"]
	transitions := func() float64 { return scrape(t, home, "court_home_transitions_total") }
	before := transitions()
	for _, node := range []string{home, us, asia} {
		for _, m := range []string{"process_resident_memory_bytes", "process_open_fds", "go_goroutines", "go_memstats_heap_inuse_bytes"} {
			require.Greater(t, scrape(t, node, m), 0.0, "standard collector %s at %s", m, node)
		}
	}
	histograms := map[string][]string{ // node → histogram counts that a session moves
		home: {"court_home_commit_seconds_count", "court_home_judge_call_seconds_count",
			"court_outbox_lag_seconds_count", "court_mesh_send_queue_depth_count"},
		us:   {"court_edge_action_seconds_count"},
		asia: {"court_edge_action_seconds_count"},
	}
	counts := map[string]float64{}
	for node, names := range histograms {
		for _, h := range names {
			counts[node+" "+h] = scrape(t, node, h)
		}
	}
	require.Equal(t, 0.0, scrape(t, us, "court_edge_sockets"))
	require.Equal(t, 1.0, scrape(t, us, "court_mesh_link_up"), "the us edge's link to the home is up")

	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	require.Equal(t, 1.0, scrape(t, us, "court_edge_sockets"))
	require.Equal(t, 1.0, scrape(t, asia, "court_edge_sockets"))

	driveTo(t, a, b, "EVIDENCE")
	require.Equal(t, before+2, transitions(), "serve and accept")
	require.Equal(t, 1.0, scrape(t, home, "court_home_sessions"))
	require.Greater(t, scrape(t, home, "court_home_actions_total"), 0.0)
	require.Greater(t, scrape(t, asia, "court_edge_actions_total"), 0.0)
	require.Eventually(t, func() bool { return scrape(t, home, "court_mesh_rtt_seconds_count") > 0 },
		10*time.Second, 50*time.Millisecond, "the home measures RTT to its edges")

	finish(t, a, b, "EVIDENCE")
	require.GreaterOrEqual(t, transitions(), before+13, "a whole session is 13 transitions (14 once the CLOSED hold ends)")
	require.Greater(t, scrape(t, home, "court_home_judge_call_seconds_count"), 0.0)
	// The backlog gauge reads 0 before the first round counts the rows, so
	// wait for a delivery first.
	require.Eventually(t, func() bool { return scrape(t, home, "court_outbox_delivered_total") > 0 },
		10*time.Second, 50*time.Millisecond, "the outbox delivers")
	require.Eventually(t, func() bool { return scrape(t, home, "court_outbox_backlog") == 0 },
		10*time.Second, 50*time.Millisecond, "the outbox drains")
	for node, names := range histograms {
		for _, h := range names {
			require.Greater(t, scrape(t, node, h), counts[node+" "+h], "%s at %s moves with a session", h, node)
		}
	}
	require.Eventually(t, func() bool { return scrape(t, home, "court_home_sessions") == 0 },
		10*time.Second, 50*time.Millisecond, "the session leaves memory after the CLOSED hold")
}
