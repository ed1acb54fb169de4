package home

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
)

// countingDir counts the route reads of the repair loop.
type countingDir struct {
	Directory
	single, batches atomic.Int64
}

func (d *countingDir) RouteOf(ctx context.Context, id string, fresh bool) (directory.Route, error) {
	d.single.Add(1)
	return d.Directory.RouteOf(ctx, id, fresh)
}

func (d *countingDir) RoutesOf(ctx context.Context, ids []string) (map[string]directory.Route, error) {
	d.batches.Add(1)
	return d.Directory.RoutesOf(ctx, ids)
}

// TestRepairReadsRoutesInOnePipeline: a repair round reads the routes of
// every held session, and of the store's live sessions, in one batch,
// however many sessions the node holds; it still finds a missing route.
func TestRepairReadsRoutesInOnePipeline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		mem := directory.NewMemory()
		dir := &countingDir{Directory: mem}
		h := start(t, options{dir: dir})
		settle(claimWarmUp)
		var ids []string
		for i := range 20 {
			ids = append(ids, h.serve(t, fmt.Sprint("a", i), fmt.Sprint("b", i)).SessionID)
		}
		single, batches := dir.single.Load(), dir.batches.Load()
		settle(3 * repairInterval)
		require.Equal(t, batches+3, dir.batches.Load(), "one batch a round")
		require.Equal(t, single, dir.single.Load(), "no read of one route")

		require.NoError(t, mem.EndSession(context.Background(), ids[7]))
		settle(repairInterval)
		require.Equal(t, h.srv.cfg.NodeID, routeOf(t, dir, ids[7]).OwnerNode, "the missing route was written back")
	})
}
