package directory

import (
	"context"
	"time"
)

// sweepAbove is the number of rate-limit windows above which Allow drops
// the windows that have ended.
const sweepAbove = 10000

// rateKey names the window counter of one user and event.
type rateKey struct{ event, user string }

// rateCount is the count of events in the window [startMs, endMs).
type rateCount struct {
	startMs, endMs int64
	n              int
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, userID, event string, limit int, window time.Duration) (bool, time.Duration, error) {
	if err := checkAllow(userID, event, limit, window); err != nil {
		return false, 0, err
	}
	now := time.Now().UnixMilli()
	start, left := windowOf(now, window)
	k := rateKey{event: event, user: userID}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.counts) > sweepAbove {
		m.sweepCounts(now)
	}
	c := m.counts[k]
	if c.startMs != start {
		c = rateCount{startMs: start, endMs: start + window.Milliseconds()}
	}
	c.n++
	m.counts[k] = c
	if c.n > limit {
		return false, left, nil
	}
	return true, 0, nil
}

// sweepCounts drops the windows that ended by nowMs. Lock held on entry.
func (m *Memory) sweepCounts(nowMs int64) {
	for k, c := range m.counts {
		if c.endMs <= nowMs {
			delete(m.counts, k)
		}
	}
}

// AddCounts implements Counter. A count of a window older than the one held
// is not kept; its total is its own.
func (m *Memory) AddCounts(_ context.Context, counts []WindowCount) ([]int64, error) {
	totals := make([]int64, len(counts))
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, c := range counts {
		k := rateKey{event: c.Event, user: c.UserID}
		rc := m.counts[k]
		switch {
		case c.StartMs < rc.startMs:
			totals[i] = c.N
			continue
		case c.StartMs > rc.startMs:
			rc = rateCount{startMs: c.StartMs, endMs: c.StartMs + c.Window.Milliseconds()}
		}
		rc.n += int(c.N)
		m.counts[k] = rc
		totals[i] = int64(rc.n)
	}
	return totals, nil
}
