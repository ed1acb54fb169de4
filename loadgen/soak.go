package loadgen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Metrics a soak samples from every node's /metrics (the standard
// collectors), and the sessions a home holds.
const (
	metricRSS        = "process_resident_memory_bytes"
	metricHeap       = "go_memstats_heap_inuse_bytes"
	metricGoroutines = "go_goroutines"
	metricLive       = "court_home_sessions"
)

// Node is a server process a soak samples: a name for the report and the
// base URL of its ops endpoint (http://host:port).
type Node struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// SoakConfig is one soak run: Concurrency couples (Config.Concurrency) each
// running whole sessions back to back for Duration, while every node is
// sampled every Interval.
type SoakConfig struct {
	Config
	Nodes    []Node
	Duration time.Duration
	// Interval is the sampling period. Zero means 10 s.
	Interval time.Duration
}

// NodeSample is one node's memory and goroutines at one sample.
type NodeSample struct {
	RSS        float64 `json:"rss_bytes"`
	HeapInuse  float64 `json:"heap_inuse_bytes"`
	Goroutines float64 `json:"goroutines"`
	// Home is set on a node that exports court_home_sessions, LiveSessions.
	Home         bool    `json:"home,omitempty"`
	LiveSessions float64 `json:"live_sessions,omitempty"`
}

// Sample is the state of the run at one point.
type Sample struct {
	// Seconds since the run started.
	Seconds float64 `json:"t_seconds"`
	// Completed and Failed count the sessions since the start.
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	// SessionsPerSec is the rate of completed sessions since the previous
	// sample.
	SessionsPerSec float64               `json:"sessions_per_sec"`
	Nodes          map[string]NodeSample `json:"nodes"`
	// Load1 is the machine's 1-minute load average (/proc/loadavg; 0
	// where there is none): on a shared machine, what else competed for
	// the cores.
	Load1 float64 `json:"load1,omitempty"`
}

// TableSize is the Postgres footprint of one table after the run.
type TableSize struct {
	Table      string `json:"table"`
	Rows       int64  `json:"rows"`
	TotalBytes int64  `json:"total_bytes"`
	IndexBytes int64  `json:"index_bytes"`
}

// SoakResult is what a soak measured.
type SoakResult struct {
	Started     time.Time          `json:"started"`
	Duration    float64            `json:"duration_seconds"`
	Interval    float64            `json:"interval_seconds"`
	Concurrency int                `json:"concurrency"`
	Cores       int                `json:"cores"`
	Nodes       []Node             `json:"nodes"`
	Samples     []Sample           `json:"samples"`
	Completed   int                `json:"completed_sessions"`
	Failed      int                `json:"failed_sessions"`
	Actions     map[string]Summary `json:"actions"`
	// Tables and StoredSessions (the sessions with a history) are filled by
	// the caller that can reach the database.
	Tables         []TableSize `json:"tables,omitempty"`
	StoredSessions int64       `json:"stored_sessions,omitempty"`
}

// Soak runs cfg. The sessions stop right after the last sample, taken under
// load; the ones cut short count neither as completed nor as failed.
func Soak(ctx context.Context, cfg SoakConfig) (*SoakResult, error) {
	if len(cfg.URLs) == 0 || len(cfg.Nodes) == 0 {
		return nil, errors.New("loadgen: a soak needs URLs and nodes")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 20
	}
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = 10 * time.Second
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Duration < cfg.Interval {
		return nil, fmt.Errorf("loadgen: a soak of %v is shorter than its sampling interval %v", cfg.Duration, cfg.Interval)
	}
	res := &SoakResult{Started: time.Now(), Duration: cfg.Duration.Seconds(), Interval: cfg.Interval.Seconds(),
		Concurrency: cfg.Concurrency, Cores: runtime.NumCPU(), Nodes: cfg.Nodes, Actions: map[string]Summary{}}
	series := map[string]*Series{}
	for _, name := range actionOrder {
		series[name] = &Series{}
	}
	var connect Series
	var completed, failed atomic.Int64
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	first, err := sampleNodes(ctx, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	res.Samples = append(res.Samples, Sample{Nodes: first, Load1: loadAverage()})
	g, gctx := errgroup.WithContext(runCtx)
	var (
		next    atomic.Int64
		traffic trafficSum // the soak reports no traffic
		rate    actionRate // nor its rate of actions
	)
	for range cfg.Concurrency {
		g.Go(func() error {
			for gctx.Err() == nil {
				ok := runCouple(gctx, cfg.Config, int(next.Add(1)), series, &connect, &traffic, &rate)
				switch {
				case ok:
					completed.Add(1)
				case gctx.Err() == nil:
					failed.Add(1)
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer stop()
		return sampleEvery(gctx, cfg, res, func() (int, int) { return int(completed.Load()), int(failed.Load()) })
	})
	err = g.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	last := res.Samples[len(res.Samples)-1]
	res.Completed, res.Failed = last.Completed, last.Failed
	for name, s := range series {
		res.Actions[name] = s.Summary()
	}
	res.Actions["connect+register"] = connect.Summary()
	return res, nil
}

// sampleEvery appends a sample to res every cfg.Interval until
// cfg.Duration has passed, under load: the caller stops the sessions once it
// returns.
func sampleEvery(ctx context.Context, cfg SoakConfig, res *SoakResult, counts func() (completed, failed int)) error {
	start := res.Started
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for time.Since(start) < cfg.Duration-cfg.Interval/2 {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		nodes, err := sampleNodes(ctx, cfg.Nodes)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		done, failed := counts()
		prev := res.Samples[len(res.Samples)-1]
		now := time.Since(start).Seconds()
		s := Sample{Seconds: now, Completed: done, Failed: failed, Nodes: nodes,
			SessionsPerSec: float64(done-prev.Completed) / (now - prev.Seconds), Load1: loadAverage()}
		res.Samples = append(res.Samples, s)
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "soak %4.0fs: %d sessions (%.1f/s), %d failed, load %.1f\n", now, done, s.SessionsPerSec, failed, s.Load1)
		}
	}
	return nil
}

// loadAverage returns the 1-minute load average of /proc/loadavg, or 0
// where it cannot be read (not Linux).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// sampleNodes scrapes every node at once.
func sampleNodes(ctx context.Context, nodes []Node) (map[string]NodeSample, error) {
	out := make(map[string]NodeSample, len(nodes))
	var mu sync.Mutex
	var g errgroup.Group
	for _, n := range nodes {
		g.Go(func() error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			m, err := ScrapeMetrics(ctx, n.URL+"/metrics", metricRSS, metricHeap, metricGoroutines, metricLive)
			if err != nil && !errors.Is(err, errMissingMetric) {
				return fmt.Errorf("sample %s: %w", n.Name, err)
			}
			for _, name := range []string{metricRSS, metricHeap, metricGoroutines} {
				if _, ok := m[name]; !ok {
					return fmt.Errorf("sample %s: no %s at %s", n.Name, name, n.URL)
				}
			}
			_, home := m[metricLive]
			mu.Lock()
			out[n.Name] = NodeSample{RSS: m[metricRSS], HeapInuse: m[metricHeap], Goroutines: m[metricGoroutines],
				Home: home, LiveSessions: m[metricLive]}
			mu.Unlock()
			return nil
		})
	}
	return out, g.Wait()
}
