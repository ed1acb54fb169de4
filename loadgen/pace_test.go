package loadgen

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// schedule runs a couple's pacer through a whole session whose actions
// each take took, and returns the arrival and the gaps between emits.
func schedule(t *testing.T, cfg Config, couple int, took time.Duration) (arrival time.Duration, gaps []time.Duration, late int) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		p := newPacer(cfg, couple)
		start := time.Now()
		require.NoError(t, p.arrive(ctx))
		arrival = time.Since(start)
		p.first()
		last := time.Now()
		for range ActionsPerSession - 1 {
			time.Sleep(took)
			require.NoError(t, p.next(ctx))
			gaps = append(gaps, time.Since(last))
			last = time.Now()
		}
		late = p.late
	})
	return arrival, gaps, late
}

func TestPacerOffersOneActionPerThinkRepeatably(t *testing.T) {
	t.Parallel()
	require.Len(t, sessionSteps, ActionsPerSession)
	cfg := Config{Think: 2 * time.Second, ThinkJitter: 0.5}
	arrival, gaps, late := schedule(t, cfg, 7, 10*time.Millisecond)
	require.Less(t, arrival, cfg.Think, "a couple arrives within the first think time")
	require.Zero(t, late)
	var sum time.Duration
	for _, g := range gaps {
		require.GreaterOrEqual(t, g, time.Second, "gaps stay within ±50 % of 2 s")
		require.LessOrEqual(t, g, 3*time.Second)
		sum += g
	}
	require.NotEqual(t, gaps[0], gaps[1], "the gaps are jittered")

	again, gapsAgain, _ := schedule(t, cfg, 7, 10*time.Millisecond)
	require.Equal(t, arrival, again, "a couple's schedule is the same every run")
	require.Equal(t, gaps, gapsAgain)
	_, other, _ := schedule(t, cfg, 8, 10*time.Millisecond)
	require.NotEqual(t, gaps, other, "couples draw different schedules")

	// The mean is Think whatever the draws: over many couples it is close.
	var all time.Duration
	n := 0
	for c := range 200 {
		_, g, _ := schedule(t, cfg, c, 0)
		for _, d := range g {
			all += d
			n++
		}
	}
	require.InDelta(t, cfg.Think.Seconds(), (all / time.Duration(n)).Seconds(), 0.05)
}

func TestPacerSendsAnOverdueActionAtOnceAndCountsIt(t *testing.T) {
	t.Parallel()
	cfg := Config{Think: time.Second, ThinkJitter: 0.2}
	_, gaps, late := schedule(t, cfg, 1, 3*time.Second) // every action outlasts the longest think time
	require.Equal(t, ActionsPerSession-1, late)
	for _, g := range gaps {
		require.Equal(t, 3*time.Second, g, "no think time on top of an overdue action")
	}
}

func TestPacerWithoutThinkIsTheClosedLoop(t *testing.T) {
	t.Parallel()
	arrival, gaps, late := schedule(t, Config{}, 3, 5*time.Millisecond)
	require.Zero(t, arrival)
	require.Zero(t, late)
	for _, g := range gaps {
		require.Equal(t, 5*time.Millisecond, g)
	}
}

func TestPacerStopsWithTheRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		p := newPacer(Config{Think: time.Hour}, 0)
		p.first()
		require.ErrorIs(t, p.next(ctx), context.DeadlineExceeded)
	})
}

func TestRunRefusesABadThink(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{{Think: -time.Second}, {Think: time.Second, ThinkJitter: 1}, {Think: time.Second, ThinkJitter: -0.1}} {
		cfg.URLs = []string{"http://127.0.0.1:1"}
		_, err := Run(context.Background(), cfg)
		require.ErrorContains(t, err, "jitter in [0, 1)")
	}
}

func TestActionRateCountsTheSpanEveryCoupleWasActing(t *testing.T) {
	t.Parallel()
	var r actionRate
	require.Zero(t, r.perSec())
	at := func(s ...float64) []time.Time {
		out := make([]time.Time, len(s))
		for i, x := range s {
			out[i] = time.Unix(1000, 0).Add(time.Duration(x * float64(time.Second)))
		}
		return out
	}
	// Two couples arriving at 0 s and 1 s, leaving at 9 s and 10 s: both act
	// from 1 s to 9 s, when 2 actions a second were emitted.
	r.addSession(at(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), at(9.1)[0], true, 0)
	r.addSession(at(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), at(10.1)[0], true, 2)
	r.addSession(at(0.5), at(0.6)[0], false, 0) // a broken session does not bound the span
	require.InDelta(t, 2.0, r.perSec(), 1e-9, "16 emits from 1 s to 9 s")
	require.Equal(t, 2, r.late)

	// Couples that were never all acting at once (a closed loop with fewer
	// in flight than in the run): every action over the whole span.
	var seq actionRate
	seq.addSession(at(0, 1, 2), at(2.5)[0], true, 0)
	seq.addSession(at(3, 4, 5), at(6)[0], true, 0)
	require.InDelta(t, 1.0, seq.perSec(), 1e-9, "6 actions from 0 s to 6 s")
}
