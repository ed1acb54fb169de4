package edge

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// TestSocketsPerUserAreCapped: a user at MaxSocketsPerUser gets a
// connect_error and a closed socket, counted as user_limit; others are not
// affected, and a closed socket frees its place.
func TestSocketsPerUserAreCapped(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, func(c *Config) { c.MaxSocketsPerUser = 2 })
	first := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")

	third := te.dial(t, nil)
	require.True(t, strings.HasPrefix(third.read(), `0{"sid":`))
	third.write(`40{"token":"` + mint(t, "a11ce000-0000-4000-8000-0000000000a1") + `"}`)
	require.Equal(t, `44{"message":"Too many connections"}`, third.read())
	require.Error(t, third.readErr(), "closed")
	require.Eventually(t, func() bool { return te.closes(reasonUserLimit) == 1 }, 3*time.Second, 5*time.Millisecond)

	te.connect(t, "b0b00000-0000-4000-8000-0000000000b2")
	first.ws.Close()
	require.Eventually(t, func() bool {
		te.s.mu.RLock()
		defer te.s.mu.RUnlock()
		return te.s.perUser["a11ce000-0000-4000-8000-0000000000a1"] == 1
	}, 3*time.Second, 5*time.Millisecond, "a closed socket frees its place")
	te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
}

// TestSocketsPerIPAreCapped: with MaxSocketsPerIP set, a handshake from an
// address at the cap is answered 429 before any upgrade, counted as
// ip_limit; a closed socket frees its place. Off by default.
func TestSocketsPerIPAreCapped(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, func(c *Config) { c.MaxSocketsPerIP = 2 })
	first := te.dial(t, nil)
	te.dial(t, nil)
	_, resp, err := websocket.DefaultDialer.Dial(te.url(), nil)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	resp.Body.Close()
	require.Equal(t, 1.0, te.closes(reasonIPLimit))

	first.ws.Close()
	require.Eventually(t, func() bool {
		ws, resp, err := websocket.DefaultDialer.Dial(te.url(), nil)
		if err != nil {
			return false
		}
		resp.Body.Close()
		ws.Close()
		return true
	}, 3*time.Second, 10*time.Millisecond, "a closed socket frees its place")

	open := newTestEdge(t, nil)
	for range 5 {
		open.dial(t, nil)
	}
}

// TestLimiterFailsClosedAfterGrace: while the shared limiter fails, the
// edge counts every limited event by itself (court:register stays
// limited), lets the costly events through for LimiterGrace and refuses
// them after it, and returns to the shared counts once the limiter answers.
func TestLimiterFailsClosedAfterGrace(t *testing.T) {
	t.Parallel()
	lim := newFakeLimiter(time.Second)
	lim.err = errors.New("redis: connection refused")
	const grace = 300 * time.Millisecond
	te := newTestEdge(t, func(c *Config) {
		c.Limiter = lim
		c.LimiterGrace = grace
	})
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	start := time.Now()
	c.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
	require.Equal(t, `431[{"ok":true}]`, c.read(), "within the grace")
	for time.Since(start) <= grace {
		time.Sleep(grace / 10)
	}
	c.write(`422["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
	name, payload := event(t, c.read())
	require.Equal(t, "court:error", name)
	require.Contains(t, payload, `"code":"RATE_LIMIT_EXCEEDED","retryAfterMs":5000`)
	require.Equal(t, `432[{"ok":false,"error":"RATE_LIMIT_EXCEEDED","retryAfterMs":5000}]`, c.read())
	c.write(`423["court:accept",{}]`)
	require.Equal(t, `433[{"ok":true}]`, c.read(), "events without a limit go on")

	for range 60 {
		c.register()
	}
	c.write(`4299["court:register",{}]`)
	_, payload = event(t, c.read())
	require.Contains(t, payload, "RATE_LIMIT_EXCEEDED", "register is still limited, by this edge alone")
	c.read()
	require.Equal(t, 1.0, counterValue(te.s.m.limiterDown.WithLabelValues(limiterRefused)))
	require.Equal(t, 62.0, counterValue(te.s.m.limiterDown.WithLabelValues(limiterLocal)))

	lim.mu.Lock()
	lim.err = nil
	lim.mu.Unlock()
	c.write(`424["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
	require.Equal(t, `434[{"ok":true}]`, c.read(), "the shared limiter is back")
	require.Equal(t, 1, lim.count("a11ce000-0000-4000-8000-0000000000a1", "court:serve"))
}
