package loadgen

import (
	"fmt"
	"io"
	"slices"
	"sync"
	"time"
)

// Series collects latency samples and errors of one measured action.
type Series struct {
	mu      sync.Mutex
	samples []time.Duration
	errors  int
}

// Add records one sample.
func (s *Series) Add(d time.Duration) {
	s.mu.Lock()
	s.samples = append(s.samples, d)
	s.mu.Unlock()
}

// Fail records one error.
func (s *Series) Fail() {
	s.mu.Lock()
	s.errors++
	s.mu.Unlock()
}

// Millis returns the samples in milliseconds, sorted.
func (s *Series) Millis() []float64 {
	s.mu.Lock()
	out := make([]float64, len(s.samples))
	for i, d := range s.samples {
		out[i] = ms(d)
	}
	s.mu.Unlock()
	slices.Sort(out)
	return out
}

// Summary is a Series reduced to its percentiles, in milliseconds.
type Summary struct {
	Count  int     `json:"count"`
	Errors int     `json:"errors"`
	P50    float64 `json:"p50_ms"`
	P90    float64 `json:"p90_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
}

// Summary computes the percentiles.
func (s *Series) Summary() Summary {
	s.mu.Lock()
	d := slices.Clone(s.samples)
	errs := s.errors
	s.mu.Unlock()
	slices.Sort(d)
	sum := Summary{Count: len(d), Errors: errs}
	if len(d) == 0 {
		return sum
	}
	at := func(p float64) float64 {
		i := int(p * float64(len(d)-1))
		return ms(d[i])
	}
	sum.P50, sum.P90, sum.P99, sum.Max = at(0.50), at(0.90), at(0.99), ms(d[len(d)-1])
	return sum
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// writeTable prints summaries as an aligned table.
func writeTable(w io.Writer, names []string, rows map[string]Summary) {
	fmt.Fprintf(w, "%-22s %7s %6s %9s %9s %9s %9s\n", "action", "count", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms")
	for _, n := range names {
		r := rows[n]
		fmt.Fprintf(w, "%-22s %7d %6d %9.2f %9.2f %9.2f %9.2f\n", n, r.Count, r.Errors, r.P50, r.P90, r.P99, r.Max)
	}
}
