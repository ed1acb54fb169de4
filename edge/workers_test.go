package edge

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSpawnRunsEveryTaskAtOnce spawns tasks that each wait until all of
// them run: a spawn that queued a task behind a busy worker would leave
// them waiting forever. The second round runs on the first round's
// workers, and Close waits for the tasks (goleak, TestMain, then sees no
// worker left).
func TestSpawnRunsEveryTaskAtOnce(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	const n = 50
	for range 2 {
		var all sync.WaitGroup
		all.Add(n)
		var ran atomic.Int32
		done := make(chan struct{})
		for range n {
			te.s.spawn(func() {
				all.Done()
				all.Wait()
				if ran.Add(1) == n {
					close(done)
				}
			})
		}
		<-done
	}
	var late atomic.Bool
	te.s.spawn(func() { late.Store(true) })
	require.NoError(t, te.s.Close())
	require.True(t, late.Load(), "Close returned before a spawned task ran")
}
