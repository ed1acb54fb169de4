package edge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// codeRateLimited is the error code of a refused rate-limited event.
const codeRateLimited = protocol.CodeRateLimited

// limiterWarnEvery is the least time between two logs of Limiter failures.
const limiterWarnEvery = 10 * time.Second

// DefaultLimiterGrace is how long the rate-limited events that fail closed
// are still let through once the Limiter fails (Config.LimiterGrace).
const DefaultLimiterGrace = 5 * time.Second

// limiterDownRetry is the wait a refusal announces while the Limiter is
// unreachable: about when to try again, not a window's end.
const limiterDownRetry = 5 * time.Second

// allow counts one event of user when event is rate limited and reports
// whether it may go on; when not, retryAfter is the time left in the
// window. It is called before any other validation of the event, so refused
// events count too (court-protocol.md §2.5).
//
// While the Limiter fails, the event is counted by this edge alone
// (s.local, the same windows per process), and an event whose limit
// FailClosed is refused once the Limiter has been failing for longer than
// Config.LimiterGrace. The first success ends the outage.
func (s *Server) allow(ctx context.Context, user, event string) (retryAfter time.Duration, ok bool) {
	lim, limited := protocol.RateLimits[event]
	if s.cfg.Limiter == nil || !limited {
		return 0, true
	}
	ok, retryAfter, err := s.cfg.Limiter.Allow(ctx, user, event, lim.Max, lim.Window)
	if err == nil {
		s.limiterDownSince.Store(0)
		return retryAfter, ok
	}
	if ctx.Err() != nil {
		return 0, true // the socket or request is gone; the action fails anyway
	}
	now := time.Now().UnixNano()
	since := now
	var unreconciled *directory.UnreconciledError
	if errors.As(err, &unreconciled) { // a RegionalLimiter knows when the outage began
		since = unreconciled.Since.UnixNano()
	}
	s.limiterDownSince.CompareAndSwap(0, since)
	if lim.FailClosed && now-s.limiterDownSince.Load() > int64(s.cfg.LimiterGrace) {
		s.m.limiterDown.WithLabelValues(limiterRefused).Inc()
		s.warnLimiter(event, err, "rate limiter unreachable beyond its grace, event refused")
		return limiterDownRetry, false
	}
	s.m.limiterDown.WithLabelValues(limiterLocal).Inc()
	s.warnLimiter(event, err, "rate limiter failed, event counted by this edge alone")
	ok, retryAfter, err = s.local.Allow(ctx, user, event, lim.Max, lim.Window)
	if err != nil {
		return 0, true // only for a malformed limit, which the table has not
	}
	return retryAfter, ok
}

// warnLimiter logs a Limiter failure at most once per limiterWarnEvery,
// with the number of failures not logged since the previous log.
func (s *Server) warnLimiter(event string, err error, msg string) {
	now := time.Now().UnixNano()
	last := s.limiterWarned.Load()
	if now-last < int64(limiterWarnEvery) || !s.limiterWarned.CompareAndSwap(last, now) {
		s.limiterSuppressed.Add(1)
		return
	}
	s.log.Warn(msg, "event", event, "err", err, "suppressed", s.limiterSuppressed.Swap(0))
}

// retryAfterMs is d in whole milliseconds, rounded up.
func retryAfterMs(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// rateLimitMessage is the court:error message of a refusal: the wait in
// whole seconds, rounded up.
func rateLimitMessage(ms int64) (msg string, secs int64) {
	secs = (ms + 999) / 1000
	return fmt.Sprintf("Rate limit exceeded. Please try again in %d seconds.", secs), secs
}

// rateLimited is the socket answer to a refused event: the coded ack and
// court:error of the original server (court-protocol.md §2.5).
func rateLimited(retryAfter time.Duration) *wire.Response {
	ms := retryAfterMs(retryAfter)
	msg, _ := rateLimitMessage(ms)
	ack, _ := json.Marshal(struct {
		OK           bool   `json:"ok"`
		Error        string `json:"error"`
		RetryAfterMs int64  `json:"retryAfterMs"`
	}{false, codeRateLimited, ms})
	courtErr, _ := json.Marshal(struct {
		Message      string `json:"message"`
		Code         string `json:"code"`
		RetryAfterMs int64  `json:"retryAfterMs"`
	}{msg, codeRateLimited, ms})
	return &wire.Response{Ack: ack, CourtError: courtErr}
}
