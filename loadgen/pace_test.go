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

func TestActionRateIsActionsOverTheirSpan(t *testing.T) {
	t.Parallel()
	var r actionRate
	require.Zero(t, r.perSec())
	t0 := time.Unix(1000, 0)
	r.add(t0.Add(time.Second), t0.Add(1500*time.Millisecond))
	r.add(t0, t0.Add(10*time.Millisecond))
	r.add(t0.Add(1900*time.Millisecond), t0.Add(2*time.Second))
	require.InDelta(t, 1.5, r.perSec(), 1e-9, "3 actions from the first emit (0 s) to the last arrival (2 s)")
}
