package edge

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/protocol"
)

const (
	rateLimitedAck   = `{"ok":false,"error":"RATE_LIMIT_EXCEEDED","retryAfterMs":61500}`
	rateLimitedError = `{"message":"Rate limit exceeded. Please try again in 62 seconds.","code":"RATE_LIMIT_EXCEEDED","retryAfterMs":61500}`
)

func TestSocketRateLimit(t *testing.T) {
	t.Parallel()
	lim := newFakeLimiter(61500 * time.Millisecond)
	te := newTestEdge(t, func(c *Config) { c.Limiter = lim })
	alice, bob := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1"), te.connect(t, "b0b00000-0000-4000-8000-0000000000b2")
	for i := range 5 {
		alice.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
		require.Equal(t, `431[{"ok":true}]`, alice.read(), "serve %d", i)
	}
	alice.write(`422["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
	name, payload := event(t, alice.read())
	require.Equal(t, "court:error", name)
	require.Equal(t, rateLimitedError, payload)
	require.Equal(t, `432[`+rateLimitedAck+`]`, alice.read())
	require.Len(t, te.mesh.requests(), 5, "the refused serve is not forwarded")
	serve := protocol.RateLimits[protocol.Serve]
	require.Equal(t, protocol.Limit{Max: serve.Max, Window: serve.Window}, lim.limit("court:serve"))
	require.Equal(t, 1.0, counterValue(te.s.m.actions.WithLabelValues("court:serve", resultRateLimited)))

	// Other users, and events without a limit, are unaffected.
	bob.write(`423["court:serve",{"partnerId":"a11ce000-0000-4000-8000-0000000000a1"}]`)
	require.Equal(t, `433[{"ok":true}]`, bob.read())
	alice.write(`424["court:accept",{}]`)
	require.Equal(t, `434[{"ok":true}]`, alice.read())
	require.Zero(t, lim.count("a11ce000-0000-4000-8000-0000000000a1", "court:accept"))
	require.Len(t, te.mesh.requests(), 7)
}

func TestRateLimitCountsBeforeValidation(t *testing.T) {
	t.Parallel()
	lim := newFakeLimiter(time.Second)
	te := newTestEdge(t, func(c *Config) { c.Limiter = lim })
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`42["court:submit_evidence"]`) // no payload, no ack id
	c.write(`425["court:submit_addendum","not an object"]`)
	require.Equal(t, `435[{"ok":true}]`, c.read())
	require.Eventually(t, func() bool { return lim.count("a11ce000-0000-4000-8000-0000000000a1", "court:submit_evidence") == 1 },
		3*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, lim.count("a11ce000-0000-4000-8000-0000000000a1", "court:submit_addendum"))
	require.Equal(t, protocol.Limit{Max: 10, Window: 5 * time.Minute}, lim.limit("court:submit_addendum"))
}

func TestRateLimiterErrorFailsOpen(t *testing.T) {
	t.Parallel()
	lim := newFakeLimiter(time.Second)
	lim.err = errors.New("redis down")
	logs := &warnCounter{}
	te := newTestEdge(t, func(c *Config) {
		c.Limiter = lim
		c.Logger = slog.New(logs)
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	for i := range 3 {
		c.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
		require.Equal(t, `431[{"ok":true}]`, c.read(), "serve %d", i)
	}
	require.Len(t, te.mesh.requests(), 3, "a failing limiter lets events through")
	require.Equal(t, []string{"rate limiter failed, event counted by this edge alone"}, logs.messages(),
		"one warning per limiterWarnEvery")
	require.Equal(t, int64(2), te.s.limiterSuppressed.Load())
}

// warnCounter records the messages of Warn and higher records.
type warnCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (h *warnCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (h *warnCounter) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}

func (h *warnCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *warnCounter) WithGroup(string) slog.Handler      { return h }

func (h *warnCounter) messages() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.msgs...)
}

func TestRateLimitMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		ms   int64
		secs int64
	}{
		{time.Microsecond, 1, 1},
		{999 * time.Millisecond, 999, 1},
		{time.Second, 1000, 1},
		{1001 * time.Millisecond, 1001, 2},
		{5 * time.Minute, 300000, 300},
	} {
		ms := retryAfterMs(tc.d)
		require.Equal(t, tc.ms, ms, "%v", tc.d)
		msg, secs := rateLimitMessage(ms)
		require.Equal(t, tc.secs, secs, "%v", tc.d)
		require.True(t, strings.Contains(msg, " "+jsonUint(uint64(secs))+" seconds."), msg)
	}
}

// TestRegionalOutageGraceFromItsStart: the grace of a RegionalLimiter's
// outage runs from its first failed round, which the error carries, not
// from the first event that hears of it: a serve is refused at once when
// the rounds have failed for longer than the grace.
func TestRegionalOutageGraceFromItsStart(t *testing.T) {
	t.Parallel()
	lim := newFakeLimiter(time.Second)
	lim.err = &directory.UnreconciledError{Since: time.Now().Add(-time.Minute), Err: errors.New("redis down")}
	te := newTestEdge(t, func(c *Config) { c.Limiter = lim })
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.write(`425["court:register",{}]`)
	name, _ := event(t, c.read())
	require.Equal(t, "court:state", name, "register does not fail closed")
	require.True(t, strings.HasPrefix(c.read(), "435["))
	c.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
	name, _ = event(t, c.read())
	require.Equal(t, "court:error", name)
	require.Contains(t, c.read(), `"error":"RATE_LIMIT_EXCEEDED"`, "the outage began a minute ago")
}
