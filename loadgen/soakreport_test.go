package loadgen

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// synthetic returns a 100 s soak sampled every 10 s: the home's RSS climbs
// during the warm-up, then follows rss(t); the edge stays flat.
func synthetic(rss func(t float64) float64, rate func(t float64) float64) *SoakResult {
	r := &SoakResult{Duration: 100, Interval: 10, Concurrency: 20,
		Nodes: []Node{{Name: "home-us-1"}, {Name: "edge-us-1"}}}
	done := 0
	for t := 0.0; t <= 100; t += 10 {
		s := Sample{Seconds: t, Nodes: map[string]NodeSample{
			"home-us-1": {RSS: 20 << 20, Goroutines: 50, HeapInuse: 8 << 20, Home: true},
			"edge-us-1": {RSS: 30 << 20, Goroutines: 200, HeapInuse: 10 << 20},
		}}
		if t > 0 {
			s.SessionsPerSec = rate(t)
			done += int(rate(t) * 10)
			h := s.Nodes["home-us-1"]
			h.RSS, h.LiveSessions = rss(t), 300
			s.Nodes["home-us-1"] = h
		}
		s.Completed = done
		r.Samples = append(r.Samples, s)
	}
	r.Completed = done
	return r
}

func TestSoakVerdict(t *testing.T) {
	t.Parallel()
	steady := func(float64) float64 { return 30 }
	for name, tc := range map[string]struct {
		rss, rate func(float64) float64
		flat      bool
		verdict   string
	}{
		"flat after the warm-up": {rss: func(t float64) float64 { return 100 << 20 }, rate: steady, flat: true, verdict: "flat"},
		"growing by 30%": {rss: func(t float64) float64 { return (80 + 0.3*80*(t-30)/70) * (1 << 20) }, rate: steady,
			flat: false, verdict: "growing"},
	} {
		t.Run(name, func(t *testing.T) {
			r := synthetic(tc.rss, tc.rate)
			g := r.Growth()
			require.Equal(t, "home-us-1", g[0].Name)
			require.True(t, g[0].Home)
			require.Equal(t, tc.flat, g[0].Flat())
			require.True(t, g[1].Flat(), "the edge is flat")
			var md bytes.Buffer
			WriteSoakMarkdown(&md, r, "soak.png")
			require.Contains(t, md.String(), "**Verdict on growth: "+tc.verdict+".**")
			require.Contains(t, md.String(), "![RSS, heap in use, goroutines and sessions/s over the soak](soak.png)")
		})
	}
	r := synthetic(func(float64) float64 { return 200 << 20 }, func(t float64) float64 { return 40 - t/5 })
	early, late := r.Rates()
	require.Greater(t, early, late)
	var md bytes.Buffer
	WriteSoakMarkdown(&md, r, "")
	require.Contains(t, md.String(), "sessions/s does not decay (late")
	require.Contains(t, md.String(), "): **no**", "a decaying rate is called out")
	require.Contains(t, md.String(), "every home ≤ 128 MiB: **no**")
	require.NotContains(t, md.String(), "machine load", "no load sampled, none reported")
	require.NotContains(t, md.String(), "live sessions moved", "300 live sessions throughout")
	require.Contains(t, md.String(), "| 300 → 300 (300) |")

	r.Cores = 2
	for i := range r.Samples {
		r.Samples[i].Load1 = r.Samples[i].Seconds / 10
	}
	md.Reset()
	WriteSoakMarkdown(&md, r, "")
	require.Contains(t, md.String(), "- machine load (1-minute average of /proc/loadavg, 2 cores, every process on the machine): early 3.5, late 9.0\n")

	for i := range r.Samples {
		h := r.Samples[i].Nodes["home-us-1"]
		h.LiveSessions = 200 + r.Samples[i].Seconds
		r.Samples[i].Nodes["home-us-1"] = h
	}
	md.Reset()
	WriteSoakMarkdown(&md, r, "")
	require.Contains(t, md.String(), "the live sessions moved by more than 10% between the windows (home-us-1 +23%)")
	require.Contains(t, md.String(), "| 235 → 290 (300) |")
}

func TestSoakTableSizesPer10k(t *testing.T) {
	t.Parallel()
	r := synthetic(func(float64) float64 { return 50 << 20 }, func(float64) float64 { return 10 })
	r.StoredSessions = 2000
	r.Tables = []TableSize{{Table: "court_transitions", Rows: 26000, TotalBytes: 4 << 20, IndexBytes: 1 << 20}}
	var md bytes.Buffer
	WriteSoakMarkdown(&md, r, "")
	require.Contains(t, md.String(), "| court_transitions | 26000 | 4.0 MiB | 1.0 MiB | 20.0 MiB | 5.0 MiB |")
}

func TestSoakCSV(t *testing.T) {
	t.Parallel()
	r := synthetic(func(float64) float64 { return 50 << 20 }, func(float64) float64 { return 10 })
	var b bytes.Buffer
	require.NoError(t, WriteSoakCSV(&b, r))
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+len(r.Samples))
	require.Equal(t, "load1", rows[0][4])
	require.Equal(t, "home-us-1_rss_bytes", rows[0][5])
	require.Equal(t, "52428800", rows[5][5])
}
