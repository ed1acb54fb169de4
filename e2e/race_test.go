package e2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// parallel runs f(i) for i in [0, n) at once and waits for all.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// together runs the two functions as close to the same instant as the
// scheduler allows.
func together(f, g func()) {
	var ready, wg sync.WaitGroup
	start := make(chan struct{})
	ready.Add(2)
	wg.Add(2)
	for _, fn := range []func(){f, g} {
		go func() {
			defer wg.Done()
			ready.Done()
			<-start
			fn()
		}()
	}
	ready.Wait()
	close(start)
	wg.Wait()
}

// closes counts a session's committed transitions into CLOSED and its cases
// and verdicts rows.
func (c *cluster) closes(t *testing.T, sid string) (closes, cases, verdicts int) {
	t.Helper()
	require.NoError(t, c.pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM court_transitions WHERE session_id = $1 AND phase = 'CLOSED'),
		(SELECT count(*) FROM cases WHERE id = (SELECT case_id FROM court_sessions WHERE id = $1)),
		(SELECT count(*) FROM verdicts WHERE case_id = (SELECT case_id FROM court_sessions WHERE id = $1))`,
		sid).Scan(&closes, &cases, &verdicts))
	return closes, cases, verdicts
}

// TestRaces: both partners accept the verdict at the same instant (100
// couples), and crossed serves A→B and B→A at the same instant (100
// couples), against two home nodes: exactly one close, one case and one
// verdict row each; exactly one session each.
func TestRaces(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2, timerScale: "0.01"})
	const couples = 100

	t.Run("accept_verdict", func(t *testing.T) {
		sids := make([]string, couples)
		parallel(couples, func(i int) {
			a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
			sids[i] = driveTo(t, a, b, "VERDICT")
			var acks [2]ackMsg
			together(
				func() { acks[0] = a.emit(t, "court:accept_verdict", map[string]any{}) },
				func() { acks[1] = b.emit(t, "court:accept_verdict", map[string]any{}) })
			require.True(t, acks[0].OK && acks[1].OK, "both accepts acked ok: %+v", acks)
			a.waitState(t, "CLOSED", 10*time.Second, phase("CLOSED"))
		})
		for _, sid := range sids {
			closes, cases, verdicts := c.closes(t, sid)
			require.Equal(t, [3]int{1, 1, 1}, [3]int{closes, cases, verdicts}, "session %s", sid)
			c.requireHistory(t, sid)
		}
	})

	t.Run("crossed_serves", func(t *testing.T) {
		parallel(couples, func(int) {
			a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
			var acks [2]ackMsg
			together(
				func() { acks[0] = a.emit(t, "court:serve", map[string]any{"partnerId": b.id}) },
				func() { acks[1] = b.emit(t, "court:serve", map[string]any{"partnerId": a.id}) })
			require.True(t, acks[0].OK != acks[1].OK, "exactly one serve wins: %+v", acks)
			for _, ack := range acks {
				if !ack.OK {
					require.Equal(t, "One or both users already in a session", ack.Error)
				}
			}
			var n int
			require.NoError(t, c.pool.QueryRow(context.Background(),
				`SELECT count(*) FROM court_sessions WHERE created_by IN ($1, $2)`, a.id, b.id).Scan(&n))
			require.Equal(t, 1, n, "one session for the couple")
		})
	})
}

// TestVerdictTimerRacesAccept lets the VERDICT timer (7.2 s at this scale)
// fire while both partners accept, at offsets spread around the deadline:
// whichever wins, the session closes exactly once. The scale leaves the
// couples' ANALYZING 600 ms: at 0.001 (300 ms) one CI run saw three of the
// 20 couples, analysed at once beside the rest of CI, never reach PRIMING,
// as a phase timer that fires before the analysis is written tosses the
// session.
func TestVerdictTimerRacesAccept(t *testing.T) {
	c := startCluster(t, clusterOpts{timerScale: "0.002"})
	const couples = 20
	verdictFor := 7200 * time.Millisecond
	sids := make([]string, couples)
	parallel(couples, func(i int) {
		a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
		sids[i] = driveTo(t, a, b, "VERDICT")
		reached := time.Now()
		offset := time.Duration(i-couples/2) * 15 * time.Millisecond // -150 ms … +135 ms
		time.Sleep(time.Until(reached.Add(verdictFor + offset)))     // racing the timer on purpose
		together(
			func() { acceptOrLate(t, a) },
			func() { acceptOrLate(t, b) })
		a.waitState(t, "CLOSED", 10*time.Second, phase("CLOSED"))
	})
	for _, sid := range sids {
		closes, cases, verdicts := c.closes(t, sid)
		require.Equal(t, [3]int{1, 1, 1}, [3]int{closes, cases, verdicts}, "session %s", sid)
		c.requireHistory(t, sid)
	}
}

// acceptOrLate accepts the verdict. Losing the race to the timer is fine:
// the session is then CLOSED ("Not in VERDICT phase") or, after the CLOSED
// hold (60 ms at this scale), gone ("No active session").
func acceptOrLate(t *testing.T, u *user) {
	a := u.emit(t, "court:accept_verdict", map[string]any{})
	if !a.OK && a.Error != "Not in VERDICT phase" && a.Error != "No active session" {
		t.Errorf("accept_verdict: %s", a.Error)
	}
}
