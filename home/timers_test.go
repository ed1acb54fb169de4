package home

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// woken reports whether q's timer loop was signalled, and clears it.
func woken(q *timerQueue) bool {
	select {
	case <-q.wake:
		return true
	default:
		return false
	}
}

// TestArmWakesTheLoopOnlyForANewEarliest: a transition arming a deadline
// behind the earliest one leaves the timer loop asleep; one that becomes the
// earliest, a new one or a moved one, wakes it, and the loop's next wait is
// for that deadline.
func TestArmWakesTheLoopOnlyForANewEarliest(t *testing.T) {
	q := newTimerQueue()
	base := time.UnixMilli(1_000_000)
	arm := func(id string, version uint64, at time.Duration) {
		q.arm(&court.Session{ID: id, Version: version, Phase: court.PhaseEvidence, PhaseDeadline: base.Add(at).UnixMilli()})
	}
	arm("a", 1, time.Minute)
	require.True(t, woken(q), "the first timer is the earliest")
	arm("b", 1, 2*time.Minute)
	require.False(t, woken(q), "a later deadline needs no wake-up")
	arm("b", 2, 3*time.Minute)
	require.False(t, woken(q), "moved, still behind the earliest")
	arm("c", 1, 30*time.Second)
	require.True(t, woken(q), "a new earliest")
	arm("b", 3, 10*time.Second)
	require.True(t, woken(q), "moved to the front")
	arm("b", 4, 5*time.Minute)
	require.False(t, woken(q), "moved off the front: the loop wakes early and finds nothing due")
	next, ok := q.next()
	require.True(t, ok)
	require.Equal(t, base.Add(30*time.Second), next)

	// The retry of a fired timer is armed like a new one.
	due := q.due(base.Add(time.Minute))
	require.Len(t, due, 2) // c, then a
	require.Equal(t, "c", due[0].session)
	require.False(t, woken(q))
	q.retry(due[1], base.Add(2*time.Minute))
	require.True(t, woken(q), "a's retry is the earliest left")
	q.retry(due[0], base.Add(4*time.Minute))
	require.False(t, woken(q))
}
