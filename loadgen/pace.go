package loadgen

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// pacer spaces the actions of one couple at a fixed offered rate: the
// couple arrives at a random point of its first think time, and each next
// action is due Think (±ThinkJitter of it) after the previous one was due,
// so a couple offers one action per Think on average whatever the latency.
// An action whose predecessor is still in flight when it falls due is sent
// at once and counted late. The draws come from a generator seeded by the
// couple's index: a run offers the same schedule every time. A zero Think
// paces nothing (closed loop: each action as soon as the previous one
// reached the partner).
type pacer struct {
	think  time.Duration
	jitter float64
	rng    *rand.Rand
	due    time.Time
	late   int
}

func newPacer(cfg Config, couple int) *pacer {
	return &pacer{think: cfg.Think, jitter: cfg.ThinkJitter, rng: rand.New(rand.NewPCG(uint64(couple), 0x636f757274))}
}

// arrive waits the couple's arrival: uniform over the first think time, so
// the couples of a run arrive spread over it rather than all at once.
func (p *pacer) arrive(ctx context.Context) error {
	if p.think <= 0 {
		return nil
	}
	return sleepCtx(ctx, time.Duration(p.rng.Float64()*float64(p.think)))
}

// first marks the couple's first action as due now.
func (p *pacer) first() { p.due = time.Now() }

// next waits until the couple's next action is due.
func (p *pacer) next(ctx context.Context) error {
	if p.think <= 0 {
		return nil
	}
	p.due = p.due.Add(p.interval())
	wait := time.Until(p.due)
	if wait <= 0 {
		p.late++
		return nil
	}
	return sleepCtx(ctx, wait)
}

// interval is one think time: Think scaled by a uniform draw in
// [1-ThinkJitter, 1+ThinkJitter], whose mean is Think.
func (p *pacer) interval() time.Duration {
	return time.Duration(float64(p.think) * (1 + p.jitter*(2*p.rng.Float64()-1)))
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// actionRate counts the actions that reached the partner and the span from
// the first emit to the last arrival: the rate the run achieved.
type actionRate struct {
	mu          sync.Mutex
	n, late     int
	first, last time.Time
}

func (r *actionRate) add(emit, arrived time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.first.IsZero() || emit.Before(r.first) {
		r.first = emit
	}
	if arrived.After(r.last) {
		r.last = arrived
	}
}

func (r *actionRate) addLate(n int) {
	r.mu.Lock()
	r.late += n
	r.mu.Unlock()
}

// perSec is the achieved rate: actions over the span.
func (r *actionRate) perSec() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	span := r.last.Sub(r.first).Seconds()
	if r.n < 2 || span <= 0 {
		return 0
	}
	return float64(r.n) / span
}
