package e2e

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/loadgen"
)

// TestSoakSamplesEveryNode runs a short `courtctl bench soak` against two
// homes and two edges, as `make soak` does for minutes: it samples every
// node's memory and goroutines under continuous sessions, measures the
// Postgres tables, and `courtctl bench plot` draws the samples.
func TestSoakSamplesEveryNode(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2})
	ctl := filepath.Join(binaries(t, false), "courtctl")
	out := t.TempDir()
	args := []string{"bench", "soak", "--urls", c.usURL + "," + c.asiaURL, "--concurrency", "4",
		"--duration", "6s", "--interval", "2s", "--out", out,
		"--node", "edge-us-1=" + c.edgeOps["us"], "--node", "edge-asia-1=" + c.edgeOps["asia"]}
	for i, id := range c.homeIDs {
		args = append(args, "--node", id+"="+c.homeOps[i])
	}
	got, err := runWithEnv(c.env, ctl, args...)
	require.NoError(t, err, "%s", got)

	data, err := os.ReadFile(filepath.Join(out, "soak.json"))
	require.NoError(t, err)
	var res loadgen.SoakResult
	require.NoError(t, json.Unmarshal(data, &res))
	require.GreaterOrEqual(t, len(res.Samples), 3, "a sample at the start, then every 2 s")
	require.Positive(t, res.Completed, "whole sessions completed")
	require.Zero(t, res.Failed)
	last := res.Samples[len(res.Samples)-1]
	require.Equal(t, res.Completed, last.Completed)
	for _, n := range res.Nodes {
		s := last.Nodes[n.Name]
		require.Positive(t, s.RSS, n.Name)
		require.Positive(t, s.HeapInuse, n.Name)
		require.Positive(t, s.Goroutines, n.Name)
		require.Equal(t, n.Name != "edge-us-1" && n.Name != "edge-asia-1", s.Home, n.Name)
	}
	require.GreaterOrEqual(t, res.StoredSessions, int64(res.Completed), "every completed session has its history")
	sizes := map[string]loadgen.TableSize{}
	for _, ts := range res.Tables {
		sizes[ts.Table] = ts
	}
	require.GreaterOrEqual(t, sizes["court_transitions"].Rows, int64(res.Completed*loadgen.TransitionsPerSession))
	require.Positive(t, sizes["court_sessions"].TotalBytes)
	require.Positive(t, sizes["court_sessions"].IndexBytes)

	csv, err := os.ReadFile(filepath.Join(out, "soak.csv"))
	require.NoError(t, err)
	require.Contains(t, string(csv), "home-us-2_rss_bytes")

	pngPath := filepath.Join(out, "soak.png")
	got, err = runWithEnv(nil, ctl, "bench", "plot", "--in", filepath.Join(out, "soak.json"), "--out", pngPath)
	require.NoError(t, err, "%s", got)
	f, err := os.Open(pngPath)
	require.NoError(t, err)
	defer f.Close()
	_, err = png.Decode(f)
	require.NoError(t, err, "the plot is a PNG")
}
