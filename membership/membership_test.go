package membership_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/directory"
	"courtmesh/membership"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestAnnounceFollowWithdraw: a follower sees a node within a poll of its
// start, its state change within a poll of the Kick, and loses it within a
// poll of its stop (withdrawn, not left to lapse).
func TestAnnounceFollowWithdraw(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		store := directory.NewMemory()
		var (
			mu    sync.Mutex
			views [][]directory.Member
		)
		fctx, stopFollow := context.WithCancel(t.Context())
		followed := make(chan error, 1)
		go func() {
			followed <- membership.Follow(fctx, store, time.Second, func(ms []directory.Member) {
				mu.Lock()
				views = append(views, ms)
				mu.Unlock()
			}, nil)
		}()
		var state atomic.Value
		state.Store(directory.StateActive)
		a := membership.NewAnnouncer(store, 0, func() directory.Member {
			return directory.Member{ID: "h1", Role: "home", Region: "us", MeshAddr: "127.0.0.1:7000", Version: "test", State: state.Load().(string)}
		}, nil)
		actx, stopAnnounce := context.WithCancel(t.Context())
		announced := make(chan error, 1)
		go func() { announced <- a.Run(actx) }()
		last := func() []directory.Member {
			synctest.Wait()
			mu.Lock()
			defer mu.Unlock()
			return views[len(views)-1]
		}
		time.Sleep(time.Second)
		require.Len(t, last(), 1)
		require.Equal(t, directory.StateActive, last()[0].State)

		state.Store(directory.StateDraining)
		a.Kick()
		time.Sleep(time.Second)
		require.Equal(t, directory.StateDraining, last()[0].State)

		time.Sleep(3 * membership.DefaultTTL)
		require.Len(t, last(), 1, "renewed before it lapses")

		stopAnnounce()
		require.NoError(t, <-announced)
		time.Sleep(time.Second)
		require.Empty(t, last(), "withdrawn when it stops")
		stopFollow()
		require.NoError(t, <-followed)
	})
}
