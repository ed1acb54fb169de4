package judge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Retry defaults (court-protocol.md §3.6 "Call limits").
const (
	DefaultTimeout       = 60 * time.Second
	DefaultAttempts      = 3
	DefaultBackoff       = time.Second
	DefaultHybridBackoff = 500 * time.Millisecond
	maxBackoff           = 30 * time.Second
)

// policy is the retry and timeout policy shared by HTTPClient and OpenAI.
type policy struct {
	timeout  time.Duration // per attempt
	attempts int
	backoff  time.Duration // base; doubles after each failed attempt
	// retryBad also retries ErrBadResponse: a model may answer well formed
	// JSON on the next try.
	retryBad bool
	log      *slog.Logger
}

// newPolicy fills zero values with the defaults; negative values are
// errors.
func newPolicy(timeout time.Duration, attempts int, backoff, dflt time.Duration, log *slog.Logger) (policy, error) {
	if timeout < 0 || attempts < 0 || backoff < 0 {
		return policy{}, fmt.Errorf("%w: negative Timeout, Attempts or Backoff", ErrConfig)
	}
	p := policy{timeout: timeout, attempts: attempts, backoff: backoff, log: log}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	if p.attempts == 0 {
		p.attempts = DefaultAttempts
	}
	if p.backoff == 0 {
		p.backoff = dflt
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p, nil
}

// do runs attempt up to p.attempts times, each under its own timeout,
// waiting a jittered exponential backoff between attempts. It stops at the
// first success, at an error that is not worth retrying, and when ctx ends.
// An *InputError is returned as is; other errors are wrapped with the step.
func (p policy) do(ctx context.Context, step Step, attempt func(context.Context) error) error {
	var err error
	n := 0
	for n < p.attempts {
		if n > 0 {
			if werr := sleep(ctx, p.delay(n)); werr != nil {
				return fmt.Errorf("judge: %s: %d attempt(s): %w (last error: %w)", step, n, werr, err)
			}
		}
		n++
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		err = attempt(actx)
		cancel()
		if err == nil || !p.retryable(ctx, err) {
			break
		}
		p.log.Warn("judge call failed", "step", step, "attempt", n, "err", err)
	}
	if err == nil || errors.Is(err, ErrInvalidInput) {
		return err
	}
	return fmt.Errorf("judge: %s: %d attempt(s): %w", step, n, err)
}

// retryable reports whether err, from an attempt under ctx, is worth another
// attempt: 5xx/408/429 replies, per-attempt timeouts and network errors.
func (p policy) retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, ErrInvalidInput) {
		return false
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		return se.Temporary()
	}
	if errors.Is(err, ErrBadResponse) {
		return p.retryBad
	}
	return true
}

// delay is the wait before attempt n+1: backoff·2^(n-1), capped, of which
// the upper half is random.
func (p policy) delay(n int) time.Duration {
	d := p.backoff << (n - 1)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	half := d / 2
	return half + rand.N(half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
