package directory_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// runLimiter starts l.Run until the test ends.
func runLimiter(t *testing.T, l *directory.RegionalLimiter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
}

func newRegional(t *testing.T, c directory.Counter) *directory.RegionalLimiter {
	t.Helper()
	l, err := directory.NewRegionalLimiter(directory.RegionalLimiterConfig{Counter: c})
	require.NoError(t, err)
	runLimiter(t, l)
	return l
}

// TestRegionalLimiterShared: two edges on one Redis each limit a user
// exactly by themselves, and once their counts are reconciled each counts
// the other's events too.
func TestRegionalLimiterShared(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	regional := func() *directory.RegionalLimiter { // rounds run by the test
		l, err := directory.NewRegionalLimiter(directory.RegionalLimiterConfig{Counter: newRedis(t, redistest.Client(t), prefix)})
		require.NoError(t, err)
		return l
	}
	a, b := regional(), regional()
	ctx := t.Context()
	const limit, window = 5, time.Hour
	allow := func(l *directory.RegionalLimiter, user string) bool {
		ok, _, err := l.Allow(ctx, user, "court:serve", limit, window)
		require.NoError(t, err)
		return ok
	}
	for i := range limit {
		require.True(t, allow(a, "alone"), "event %d", i+1)
	}
	require.False(t, allow(a, "alone"), "one edge alone refuses the sixth event at once")

	for range 3 {
		require.True(t, allow(a, "both"))
	}
	a.RoundForTest(ctx)
	require.True(t, allow(b, "both"), "b does not know of a's events before its round")
	b.RoundForTest(ctx) // b learns a's three from the total its own count gets back
	require.True(t, allow(b, "both"), "fifth event")
	require.False(t, allow(b, "both"), "b counts a's events: the sixth is refused")
}

// flaky is a Counter that fails while down is set.
type flaky struct {
	directory.Counter
	down atomic.Bool
}

func (f *flaky) AddCounts(ctx context.Context, c []directory.WindowCount) ([]int64, error) {
	if f.down.Load() {
		return nil, errors.New("unreachable")
	}
	return f.Counter.AddCounts(ctx, c)
}

// TestRegionalLimiterOutage: while the Counter fails, Allow reports an
// UnreconciledError carrying the first failure's time, which stays the
// same through the outage; once the Counter is back the error ends.
func TestRegionalLimiterOutage(t *testing.T) {
	t.Parallel()
	c := &flaky{Counter: directory.NewMemory()}
	c.down.Store(true)
	l := newRegional(t, c)
	ctx := t.Context()
	_, _, err := l.Allow(ctx, "u", "court:serve", 5, time.Hour)
	require.NoError(t, err, "the outage is not known before a round fails")
	var first *directory.UnreconciledError
	checkFor(t, settle, func() error {
		_, _, err := l.Allow(ctx, "u", "court:register", 1000, time.Hour)
		if !errors.As(err, &first) {
			return errors.New("no UnreconciledError yet")
		}
		return nil
	})
	time.Sleep(50 * time.Millisecond)
	_, _, err = l.Allow(ctx, "u", "court:register", 1000, time.Hour)
	var later *directory.UnreconciledError
	require.ErrorAs(t, err, &later)
	require.Equal(t, first.Since, later.Since, "the outage began once")

	c.down.Store(false)
	checkFor(t, 5*time.Second, func() error {
		_, _, err := l.Allow(ctx, "u", "court:register", 1000, time.Hour)
		return err
	})
	total, err := c.AddCounts(ctx, []directory.WindowCount{{UserID: "u", Event: "court:serve",
		StartMs: time.Now().UnixMilli() - time.Now().UnixMilli()%time.Hour.Milliseconds(), Window: time.Hour}})
	require.NoError(t, err)
	require.Equal(t, []int64{1}, total, "the event counted during the outage reached the Counter")
}

func TestRegionalLimiterConfig(t *testing.T) {
	t.Parallel()
	_, err := directory.NewRegionalLimiter(directory.RegionalLimiterConfig{})
	require.Error(t, err, "nil Counter")
	l := newRegional(t, directory.NewMemory())
	_, _, err = l.Allow(t.Context(), "", "court:serve", 5, time.Hour)
	require.Error(t, err, "empty user")
}
