package loadgen

import (
	"context"
	"math/rand/v2"
	"slices"
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

// actionRate gathers when each action that reached the partner was
// emitted, and over which span every couple was acting, to tell the rate a
// run achieved.
type actionRate struct {
	mu    sync.Mutex
	emits []time.Time
	late  int
	// first and last are the first emit of the whole session that started
	// last and the last emit of the one that ended first: between them
	// every couple of the run was acting (when first is before last).
	first, last time.Time
	// end is the last arrival at a partner.
	end time.Time
}

// addSession records the actions of one couple's session (their emits, in
// order, and when the last one arrived), whether it was whole, and how many
// of them were sent late.
func (r *actionRate) addSession(emits []time.Time, end time.Time, whole bool, late int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.emits = append(r.emits, emits...)
	r.late += late
	if end.After(r.end) {
		r.end = end
	}
	if !whole || len(emits) == 0 {
		return
	}
	if f := emits[0]; f.After(r.first) {
		r.first = f
	}
	if l := emits[len(emits)-1]; r.last.IsZero() || l.Before(r.last) {
		r.last = l
	}
}

// perSec is the achieved rate: the actions emitted while every couple was
// acting, over that span (a paced run's steady state, without the couples
// arriving and leaving at its ends); when there was no such span (a closed
// loop with fewer couples in flight than in the run), every action over the
// span from the first emit to the last arrival.
func (r *actionRate) perSec() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.emits) < 2 {
		return 0
	}
	if span := r.last.Sub(r.first); !r.first.IsZero() && span > 0 {
		n := 0
		for _, e := range r.emits {
			if !e.Before(r.first) && e.Before(r.last) { // [first, last): one end counted, as in a rate
				n++
			}
		}
		return float64(n) / span.Seconds()
	}
	start := slices.MinFunc(r.emits, time.Time.Compare)
	if span := r.end.Sub(start); span > 0 {
		return float64(len(r.emits)) / span.Seconds()
	}
	return 0
}
