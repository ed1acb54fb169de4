package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
)

// flushPrefix deletes every Redis key of the cluster at once, as FLUSHALL
// would: the keys are listed first and deleted by one DEL. Deleting them
// one by one as the scan went let an edge notice the loss of its presence
// marker early, record its presence again, and lose that again to the rest
// of the scan, which a real FLUSHALL never does.
func (c *cluster) flushPrefix(t *testing.T, rdb rueidis.Client) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	var cursor uint64
	for range 1000 {
		e, err := rdb.Do(ctx, rdb.B().Scan().Cursor(cursor).Match(c.redisPrefix+"*").Count(1000).Build()).AsScanEntry()
		require.NoError(t, err)
		keys = append(keys, e.Elements...)
		if cursor = e.Cursor; cursor == 0 {
			if len(keys) > 0 {
				require.NoError(t, rdb.Do(ctx, rdb.B().Del().Key(keys...).Build()).Error())
			}
			return
		}
	}
	t.Fatal("scan did not end")
}

// TestRedisLossIsRepaired wipes the cluster's Redis keys (directory, leases,
// presence: what FLUSHALL does to this cluster, without touching the keys of
// tests running beside it) in the middle of a session, twice. No client
// registers again: the edges record their sockets' presence again within
// seconds by themselves, and pushes reach both partners. The route is
// rebuilt (by the home holding the session, or handed to the region if it
// was moving); then, wiped again with its owner killed, the other home
// rebuilds the route from Postgres, takes the session over and the session
// goes on to CLOSED with nothing lost or doubled, each socket seeing its
// versions strictly increase.
func TestRedisLossIsRepaired(t *testing.T) {
	c := startCluster(t, clusterOpts{homes: 2, timerScale: "0.01"})
	rdb := redistest.Client(t)
	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")
	wiped := time.Now()
	c.flushPrefix(t, rdb)
	c.requirePresenceBack(t, wiped, map[*user]string{a: "edge-us-1", b: "edge-asia-1"})
	require.Eventually(t, func() bool { o, _, ok := c.route(rdb, sid); return ok && o != "" },
		15*time.Second, 50*time.Millisecond, "the route is rebuilt and names an owner")
	a.must(t, "court:submit_evidence", evidence)
	c.converge(t, sid, 10*time.Second, a, b)

	owner, epoch, ok := c.route(rdb, sid)
	require.True(t, ok)
	wiped = time.Now()
	c.flushPrefix(t, rdb)
	c.home(t, owner).kill(t)
	c.requirePresenceBack(t, wiped, map[*user]string{a: "edge-us-1", b: "edge-asia-1"})
	require.Eventually(t, func() bool { return c.reowned(t, rdb, sid, owner, epoch) },
		20*time.Second, 50*time.Millisecond, "the survivor rebuilds the route from Postgres and takes the session over")
	b.must(t, "court:submit_evidence", evidence)
	a.waitState(t, "PRIMING", 10*time.Second, phase("PRIMING"))
	finish(t, a, b, "PRIMING")
	c.requireHistory(t, sid)
	a.lastOf(t, sid)
	b.lastOf(t, sid)
}
