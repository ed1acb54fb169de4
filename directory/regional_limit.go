package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// WindowCount is a number of events of one user to add to the shared
// counter of one fixed window.
type WindowCount struct {
	UserID, Event string
	// StartMs is the window's start in unix ms, aligned to the Unix epoch.
	StartMs int64
	Window  time.Duration
	N       int64
}

// Counter holds the shared window counters a RegionalLimiter reconciles
// with; Redis and Memory implement it, on the same counters as their Allow.
type Counter interface {
	// AddCounts adds each count to its window's counter and returns the
	// counters' totals, in order.
	AddCounts(ctx context.Context, counts []WindowCount) ([]int64, error)
}

// UnreconciledError is the error of RegionalLimiter.Allow while the shared
// counter fails: the event was counted here, but the other nodes' counts
// are unknown since Since.
type UnreconciledError struct {
	Since time.Time
	Err   error
}

func (e *UnreconciledError) Error() string {
	return fmt.Sprintf("directory: rate-limit counts not reconciled since %s: %v", e.Since.Format(time.RFC3339), e.Err)
}

func (e *UnreconciledError) Unwrap() error { return e.Err }

// Defaults of RegionalLimiterConfig.
const (
	DefaultRoundTimeout = 5 * time.Second
	// regionalRetry is how soon a failed round is tried again.
	regionalRetry = 500 * time.Millisecond
	// regionalBatch bounds the counts of one round.
	regionalBatch = 1000
	// regionalSweep is how often windows that ended are dropped.
	regionalSweep = 10 * time.Second
)

// RegionalLimiterConfig configures a RegionalLimiter.
type RegionalLimiterConfig struct {
	// Counter holds the counts shared by every node. Required.
	Counter Counter
	// RoundTimeout bounds one reconcile round. Zero means
	// DefaultRoundTimeout.
	RoundTimeout time.Duration
	// Logger receives logs. Nil means discard.
	Logger *slog.Logger
}

// RegionalLimiter is a Limiter that answers at once, with no round trip: an
// event is counted here and weighed against this node's count in the
// window plus the other nodes' count as of the last reconcile round. Run
// adds this node's new counts to the shared Counter, one pipeline a round
// (the events of a round trip are batched into the next), and learns the
// others' counts from the totals it gets back. So a user acting through
// one node is limited exactly; one acting through several at once can pass
// the limit by the events the others counted in one round trip. While the
// Counter fails, Allow still counts but returns an *UnreconciledError
// saying since when, so the caller applies its fail-closed rule.
type RegionalLimiter struct {
	counter Counter
	timeout time.Duration
	log     *slog.Logger
	wake    chan struct{}

	mu        sync.Mutex
	wins      map[rateKey]*regionalWindow // guarded by mu
	dirty     map[rateKey]struct{}        // guarded by mu; windows with counts to add
	failing   time.Time                   // guarded by mu; when the first failed round of the current outage was sent
	lastErr   error                       // guarded by mu
	lastSweep time.Time                   // guarded by mu
}

// regionalWindow is this node's view of one user's window of one event.
type regionalWindow struct {
	startMs, endMs int64
	window         time.Duration
	own            int64 // events counted here in the window
	added          int64 // of own, added to the Counter
	others         int64 // the Counter's total less this node's share, at the last round
}

var _ Limiter = (*RegionalLimiter)(nil)

// NewRegionalLimiter returns a RegionalLimiter on cfg.Counter. It does no
// I/O; Run reconciles.
func NewRegionalLimiter(cfg RegionalLimiterConfig) (*RegionalLimiter, error) {
	if cfg.Counter == nil {
		return nil, errors.New("directory: RegionalLimiterConfig.Counter is nil")
	}
	if cfg.RoundTimeout == 0 {
		cfg.RoundTimeout = DefaultRoundTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RegionalLimiter{counter: cfg.Counter, timeout: cfg.RoundTimeout, log: log.With("component", "regional-limiter"),
		wake: make(chan struct{}, 1), wins: make(map[rateKey]*regionalWindow), dirty: make(map[rateKey]struct{}),
		lastSweep: time.Now()}, nil
}

// Allow implements Limiter without I/O (ctx is unused).
func (l *RegionalLimiter) Allow(_ context.Context, userID, event string, limit int, window time.Duration) (bool, time.Duration, error) {
	if err := checkAllow(userID, event, limit, window); err != nil {
		return false, 0, err
	}
	start, left := windowOf(time.Now().UnixMilli(), window)
	k := rateKey{event: event, user: userID}
	l.mu.Lock()
	w := l.wins[k]
	if w == nil || w.startMs != start {
		w = &regionalWindow{startMs: start, endMs: start + window.Milliseconds(), window: window}
		l.wins[k] = w
	}
	w.own++
	l.dirty[k] = struct{}{}
	total := w.own + w.others
	failing, lastErr := l.failing, l.lastErr
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
	if !failing.IsZero() {
		return false, 0, &UnreconciledError{Since: failing, Err: lastErr}
	}
	if total > int64(limit) {
		return false, left, nil
	}
	return true, 0, nil
}

// Run reconciles until ctx is done: a round when an event was counted,
// and every regionalRetry while the Counter fails.
func (l *RegionalLimiter) Run(ctx context.Context) error {
	t := time.NewTicker(regionalRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-t.C:
		}
		l.round(ctx)
	}
}

// pending is one window's count sent in a round.
type pending struct {
	k       rateKey
	startMs int64
	own     int64
}

// round adds the new counts of up to regionalBatch windows to the Counter.
func (l *RegionalLimiter) round(ctx context.Context) {
	counts, sent := l.take()
	if len(counts) == 0 {
		return
	}
	began := time.Now() // an outage counts from the first round it failed, as sent
	rctx, cancel := context.WithTimeout(ctx, l.timeout)
	totals, err := l.counter.AddCounts(rctx, counts)
	cancel()
	if err == nil && len(totals) != len(counts) {
		err = fmt.Errorf("%w: %d totals for %d counts", errReply, len(totals), len(counts))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if l.failing.IsZero() {
			l.failing = began
			l.log.Warn("rate-limit counts not reconciled; counting in this node", "err", err)
		}
		l.lastErr = err
		for _, p := range sent {
			l.dirty[p.k] = struct{}{}
		}
		return
	}
	if !l.failing.IsZero() {
		l.log.Info("rate-limit counts reconciled again", "after", time.Since(l.failing).Round(time.Millisecond))
	}
	l.failing, l.lastErr = time.Time{}, nil
	for i, p := range sent {
		w := l.wins[p.k]
		if w == nil || w.startMs != p.startMs {
			continue // a new window began meanwhile
		}
		w.added = max(w.added, p.own)
		w.others = max(totals[i]-p.own, 0) // a Counter that lost its keys counts none
	}
	if len(l.dirty) > 0 {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// take returns the counts to add in a round and what they were taken from,
// and drops the windows that ended, every regionalSweep.
func (l *RegionalLimiter) take() ([]WindowCount, []pending) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.lastSweep) > regionalSweep {
		l.lastSweep = now
		for k, w := range l.wins {
			if _, dirty := l.dirty[k]; !dirty && w.endMs <= now.UnixMilli() {
				delete(l.wins, k)
			}
		}
	}
	var counts []WindowCount
	var sent []pending
	for k := range l.dirty {
		if len(counts) == regionalBatch {
			break
		}
		delete(l.dirty, k)
		w := l.wins[k]
		if w.own == w.added {
			continue
		}
		counts = append(counts, WindowCount{UserID: k.user, Event: k.event, StartMs: w.startMs, Window: w.window, N: w.own - w.added})
		sent = append(sent, pending{k: k, startMs: w.startMs, own: w.own})
	}
	return counts, sent
}
