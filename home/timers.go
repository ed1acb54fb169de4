package home

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/home/court"
)

// maxFiring bounds the timers whose transitions run at the same time.
const maxFiring = 64

// idleWait is how long the timer loop sleeps when no timer is armed; arming
// one wakes it.
const idleWait = time.Hour

// retryDelay is how long a timer whose transition failed to commit waits
// before it fires again.
const retryDelay = time.Second

// runTimers pops due timers and fires each in its own goroutine, until ctx
// ends; it waits for the timers firing.
func (rt *sessions) runTimers(ctx context.Context) error {
	var firing errgroup.Group
	firing.SetLimit(maxFiring)
	defer firing.Wait()
	wait := time.NewTimer(idleWait)
	defer wait.Stop()
	for {
		wait.Reset(rt.untilNext())
		select {
		case <-ctx.Done():
			return nil
		case <-rt.timers.wake:
		case <-wait.C:
		}
		for _, t := range rt.timers.due(rt.now()) {
			firing.Go(func() error {
				rt.fire(ctx, t)
				return nil
			})
		}
	}
}

// untilNext is how long until the earliest timer is due.
func (rt *sessions) untilNext() time.Duration {
	at, ok := rt.timers.next()
	if !ok {
		return idleWait
	}
	return max(at.Sub(rt.now()), 0)
}

// fire runs timer t's transition if the session is still at the version t
// was armed for. The commit is fenced like any other: a stale or duplicate
// timer, or a stale owner, changes nothing.
func (rt *sessions) fire(ctx context.Context, t timer) {
	e := rt.reg.session(t.session)
	if e == nil {
		rt.metrics.fires.WithLabelValues(fireStale).Inc()
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone || e.sess.Version != t.version || e.sess.Phase != t.phase {
		rt.metrics.fires.WithLabelValues(fireStale).Inc()
		return
	}
	rt.metrics.timerLag.Observe(rt.now().Sub(t.at).Seconds())
	_, _, err := rt.commitLocked(ctx, e, timerOrigin(), rt.expiry(t))
	switch {
	case err == nil:
		rt.metrics.fires.WithLabelValues(fireDone).Inc()
	case errors.Is(err, court.ErrNotDue), errors.Is(err, errMoved):
		rt.metrics.fires.WithLabelValues(fireStale).Inc()
	default:
		rt.metrics.fires.WithLabelValues(fireFailed).Inc()
		rt.log.Warn("timer failed; retrying", "session", t.session, "phase", t.phase, "err", err)
		rt.timers.retry(t, rt.now().Add(retryDelay))
	}
}

// expiry is the transition a timer of kind t.kind makes.
func (rt *sessions) expiry(t timer) func(*court.Session) error {
	if t.kind == settleTimer {
		return func(x *court.Session) error { return x.ExpireSettlement(rt.now()) }
	}
	return func(x *court.Session) error {
		caseID, err := newSessionID() // used only if the timer closes the session
		if err != nil {
			return err
		}
		return x.Expire(rt.now(), caseID, rt.durations)
	}
}

func (rt *sessions) now() time.Time { return rt.cfg.Now() }

// timerKind tells a session's two timers apart.
type timerKind uint8

const (
	phaseTimer  timerKind = iota // the phase deadline
	settleTimer                  // the settlement request's deadline
)

// timer is one armed timer: it fires at at for the session's version and
// phase it was armed for.
type timer struct {
	session string
	kind    timerKind
	at      time.Time
	version uint64
	phase   court.Phase
}

// key identifies a timer in the queue.
type timerKey struct {
	session string
	kind    timerKind
}

func (t timer) key() timerKey { return timerKey{t.session, t.kind} }

// timerQueue holds at most one timer of each kind per session, ordered by
// deadline.
// It is safe for concurrent use; Run's timer loop pops the due ones.
type timerQueue struct {
	mu    sync.Mutex
	items map[timerKey]*queued // guarded by mu
	heap  timerHeap            // guarded by mu
	// wake is signalled when a timer became the earliest (set).
	wake chan struct{}
}

type queued struct {
	timer
	index int
}

func newTimerQueue() *timerQueue {
	return &timerQueue{items: make(map[timerKey]*queued), wake: make(chan struct{}, 1)}
}

// arm sets the timers of s from its stored deadlines, replacing its older
// timers; a deadline of zero means no timer of that kind.
func (q *timerQueue) arm(s *court.Session) {
	q.armKind(s, phaseTimer, s.PhaseDeadline)
	q.armKind(s, settleTimer, s.SettlementDeadline)
}

// armKind sets s's timer of kind to fire at at (Unix ms), or removes it
// when at is zero.
func (q *timerQueue) armKind(s *court.Session, kind timerKind, at int64) {
	if at == 0 {
		q.remove(timerKey{s.ID, kind})
		return
	}
	q.set(timer{session: s.ID, kind: kind, at: time.UnixMilli(at), version: s.Version, phase: s.Phase}, true)
}

// retry re-arms t at at, unless the session has been armed again since t
// fired.
func (q *timerQueue) retry(t timer, at time.Time) {
	t.at = at
	q.set(t, false)
}

// set queues t, or with replace moves the queued timer of its key to t. It
// wakes the timer loop only when t is now the earliest timer: the loop
// sleeps until the earliest deadline it saw, so a later one needs no
// wake-up, and one that moved a timer off the front only makes the loop
// wake early, find nothing due and sleep again. Most transitions arm a
// deadline minutes away behind earlier ones: no goroutine to wake.
func (q *timerQueue) set(t timer, replace bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	it, ok := q.items[t.key()]
	switch {
	case ok && !replace:
		return
	case ok:
		it.timer = t
		heap.Fix(&q.heap, it.index)
	default:
		it = &queued{timer: t}
		q.items[t.key()] = it
		heap.Push(&q.heap, it)
	}
	if it.index == 0 {
		q.signal()
	}
}

// disarm removes the timers of session id.
func (q *timerQueue) disarm(id string) {
	q.remove(timerKey{id, phaseTimer})
	q.remove(timerKey{id, settleTimer})
}

func (q *timerQueue) remove(k timerKey) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if it, ok := q.items[k]; ok {
		heap.Remove(&q.heap, it.index)
		delete(q.items, k)
	}
}

// next returns the earliest deadline, if there is a timer.
func (q *timerQueue) next() (time.Time, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.heap) == 0 {
		return time.Time{}, false
	}
	return q.heap[0].at, true
}

// due removes and returns the timers whose deadline is not after now.
func (q *timerQueue) due(now time.Time) []timer {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []timer
	for len(q.heap) > 0 && !q.heap[0].at.After(now) {
		it := heap.Pop(&q.heap).(*queued)
		delete(q.items, it.key())
		out = append(out, it.timer)
	}
	return out
}

// signal wakes the timer loop. Lock held on entry.
func (q *timerQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// timerHeap is a min-heap of timers by deadline.
type timerHeap []*queued

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) Push(x any) {
	it := x.(*queued)
	it.index = len(*h)
	*h = append(*h, it)
}

func (h *timerHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
