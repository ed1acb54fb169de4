package edge

import (
	"container/heap"
	"sync"
	"time"
)

// socketTimers runs the sockets' timers (heartbeat.go): a min-heap of
// (time, socket) served by one time.Timer armed for the earliest. A
// time.Timer per socket, with its function, cost about 170 bytes of an idle
// socket's memory; an entry here costs 16. Due sockets' onTimer run one
// after the other on the goroutine the time.Timer starts.
type socketTimers struct {
	s     *Server
	run   func(*conn) // (*conn).onTimer
	mu    sync.Mutex  // guards the fields below and every conn.tidx
	h     timerHeap
	timer *time.Timer   // armed for h[0]; nil before the first set
	armed time.Duration // when timer fires; 0 when stopped
}

type timerEntry struct {
	at time.Duration // on Server.since's clock
	c  *conn
}

// timerHeap orders entries by time and keeps each conn.tidx at its entry's
// index plus one.
type timerHeap []timerEntry

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].c.tidx, h[j].c.tidx = int32(i+1), int32(j+1)
}
func (h *timerHeap) Push(x any) {
	e := x.(timerEntry)
	e.c.tidx = int32(len(*h) + 1)
	*h = append(*h, e)
}
func (h *timerHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = timerEntry{}
	*h = old[:len(old)-1]
	e.c.tidx = 0
	return e
}

// set makes c's timer fire at at, replacing its earlier time.
func (t *socketTimers) set(c *conn, at time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.tidx == 0 {
		heap.Push(&t.h, timerEntry{at: at, c: c})
	} else {
		t.h[c.tidx-1].at = at
		heap.Fix(&t.h, int(c.tidx-1))
	}
	t.armLocked()
}

// stop removes c's timer, if set.
func (t *socketTimers) stop(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.tidx != 0 {
		heap.Remove(&t.h, int(c.tidx-1))
		t.armLocked()
	}
}

// armLocked arms the time.Timer for the earliest entry. t.mu is held.
func (t *socketTimers) armLocked() {
	if len(t.h) == 0 {
		if t.timer != nil && t.armed != 0 {
			t.timer.Stop()
		}
		t.armed = 0
		return
	}
	at := t.h[0].at
	if at == t.armed {
		return
	}
	t.armed = at
	d := at - t.s.since()
	if t.timer == nil {
		t.timer = time.AfterFunc(d, t.fire)
		return
	}
	t.timer.Reset(d)
}

// fire runs the timers that are due and arms the time.Timer for the next.
func (t *socketTimers) fire() {
	now := t.s.since()
	var due []*conn
	t.mu.Lock()
	for len(t.h) > 0 && t.h[0].at <= now {
		due = append(due, heap.Pop(&t.h).(timerEntry).c)
	}
	t.armed = 0 // this firing is spent
	t.armLocked()
	t.mu.Unlock()
	for _, c := range due {
		t.run(c)
	}
}
