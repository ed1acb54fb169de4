package loadgen

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/protocol"
)

// OpenSessions creates n PENDING sessions through the edges: each creator
// connects, serves a partner who never connects, and hangs up. The sessions
// live on in their home nodes (with their PENDING timers) for failover
// benchmarks. It returns how many were created.
func OpenSessions(ctx context.Context, cfg Config, n int) (int, error) {
	if len(cfg.URLs) == 0 {
		return 0, fmt.Errorf("loadgen: no URLs")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 50
	}
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = 10 * time.Second
	}
	var created, failed atomic.Int64
	var connect Series
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cfg.Concurrency)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			c, _, err := connectUser(gctx, cfg, cfg.URLs[i%len(cfg.URLs)], &connect)
			if err != nil {
				failed.Add(1)
				return nil
			}
			defer c.Close()
			actx, cancel := context.WithTimeout(gctx, cfg.ActionTimeout)
			defer cancel()
			ack, err := c.Emit(actx, protocol.Serve, map[string]any{"partnerId": newUUID(), "coupleId": nil, "judgeType": "swift"})
			if err != nil || !ackOK(ack) {
				failed.Add(1)
				return nil
			}
			if k := created.Add(1); cfg.Progress != nil && k%1000 == 0 {
				fmt.Fprintf(cfg.Progress, "sessions: %d/%d created, %d failed\n", k, n, failed.Load())
			}
			return nil
		})
	}
	_ = g.Wait()
	return int(created.Load()), ctx.Err()
}

// ScrapeGauge reads the sum of a metric's samples from a Prometheus text
// endpoint.
func ScrapeGauge(ctx context.Context, url, metric string) (float64, error) {
	m, err := ScrapeMetrics(ctx, url, metric)
	return m[metric], err
}

// errMissingMetric: a scraped endpoint did not export a metric asked for.
var errMissingMetric = errors.New("loadgen: metric missing")

// ScrapeMetrics reads, in one GET of a Prometheus text endpoint, the sum of
// each named metric's samples. A metric the endpoint lacks is left out of
// the map and reported in the error, after the others are read.
func ScrapeMetrics(ctx context.Context, url string, metrics ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	sums := make(map[string]float64, len(metrics))
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name := line
		if i := strings.IndexAny(line, " {"); i >= 0 {
			name = line[:i]
		}
		if !slices.Contains(metrics, name) {
			continue
		}
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return nil, fmt.Errorf("scrape %s: %q: %w", url, line, err)
		}
		sums[name] += v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	for _, m := range metrics {
		if _, ok := sums[m]; !ok {
			return sums, fmt.Errorf("scrape %s: no %s: %w", url, m, errMissingMetric)
		}
	}
	return sums, nil
}

// WaitGauge polls url every interval until metric reaches want or ctx ends,
// and returns when it did.
func WaitGauge(ctx context.Context, url, metric string, want float64, interval time.Duration) (time.Time, error) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if v, err := ScrapeGauge(ctx, url, metric); err == nil && v >= want {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("wait for %s ≥ %g at %s: %w", metric, want, url, ctx.Err())
		case <-tick.C:
		}
	}
}
