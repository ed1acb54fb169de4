package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
	"courtmesh/home"
	"courtmesh/home/court"
	"courtmesh/home/store"
)

// handOverSessions is how many sessions the shut-down home holds at least.
const handOverSessions = 1000

// testGracefulShutdown sends SIGTERM to the first home node of c (a
// separate process) once it holds at least 1,000 sessions: it releases
// every session and leaves the region, so the second home owns all of them
// at the next epoch within a claim round or so, well before the lease TTL
// a crash would cost (the peer's court_home_sessions gauge counts them
// held); new sessions go to the peer. It runs last in TestLifecycle, on
// that test's cluster.
func testGracefulShutdown(t *testing.T, c *cluster) {
	rdb := redistest.Client(t)
	leaving, staying := c.homeIDs[0], c.homeIDs[1]
	held := c.seedUntilHeld(t, rdb, leaving, handOverSessions)
	epochs := make(map[string]uint64, len(held))
	for _, sid := range held {
		_, e, ok := c.route(rdb, sid)
		require.True(t, ok)
		epochs[sid] = e
	}

	p := c.home(t, leaving)
	peerOps := c.homeOps[1]
	want := scrape(t, peerOps, "court_home_sessions") + float64(len(held))
	begin := time.Now()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	for scrape(t, peerOps, "court_home_sessions") < want {
		require.Less(t, time.Since(begin), 10*time.Second, "the peer holds every session")
		time.Sleep(5 * time.Millisecond) // polling another process
	}
	took := time.Since(begin)
	t.Logf("SIGTERM to %s holding %d sessions: %s holds all of them %v later", leaving, len(held), staying, took.Round(time.Millisecond))
	require.Less(t, took, home.DefaultLeaseTTL, "handed over, not taken over after the lease TTL")
	require.True(t, c.allOwnedBy(t, rdb, held, staying, epochs), "at the next epoch")
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the home did not exit after SIGTERM")
	}
	p.waitOutput(t, "handed every session over", time.Second)
	t.Log(lastLine(p.out.String(), "handed every session"))
	t.Log(lastLine(c.home(t, staying).out.String(), "took over sessions"))

	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "EVIDENCE")
	owner, _, ok := c.route(rdb, sid)
	require.True(t, ok)
	require.Equal(t, staying, owner, "new sessions go to the home left")
}

// seedUntilHeld writes sessions to Postgres and their routes, released, to
// Redis (through packages store and directory, as a rebuilt directory
// would have them), in batches, until the claim rounds of the homes have
// given node at least n of them; it returns those.
func (c *cluster) seedUntilHeld(t *testing.T, rdb rueidis.Client, node string, n int) []string {
	t.Helper()
	ctx := context.Background()
	st, err := store.New(store.Config{DB: c.pool})
	require.NoError(t, err)
	dir, err := directory.NewRedis(directory.RedisConfig{Client: rdb, Prefix: c.redisPrefix})
	require.NoError(t, err)
	durations := court.DurationsFromScale(1)
	for range 10 {
		var g errgroup.Group
		g.SetLimit(16)
		for range n * 21 / 10 { // about half of them go to node
			g.Go(func() error {
				id, creator, partner := newUUID(), newUUID(), newUUID()
				sess, err := court.NewSession(id, creator, partner, "", "swift", time.Now(), durations)
				if err != nil {
					return err
				}
				err = st.Create(ctx, store.Create{Session: sess, Epoch: 1, Node: "seed", HomeRegion: "us",
					Event: "serve", Effects: sess.TakeEffects()})
				if err != nil {
					return err
				}
				return dir.CreateSession(ctx, directory.Route{SessionID: id, HomeRegion: "us", Epoch: 1}, creator, partner)
			})
		}
		require.NoError(t, g.Wait())
		require.Eventually(t, func() bool {
			left, err := rdb.Do(ctx, rdb.B().Scard().Key(c.redisPrefix+"released:us").Build()).AsInt64()
			return err == nil && left == 0
		}, 10*time.Second, 20*time.Millisecond, "the homes take the seeded sessions over")
		held, err := rdb.Do(ctx, rdb.B().Smembers().Key(c.redisPrefix+"owned:"+node).Build()).AsStrSlice()
		require.NoError(t, err)
		if len(held) >= n {
			return held
		}
	}
	t.Fatalf("%s never held %d sessions", node, n)
	return nil
}

// allOwnedBy reports whether node owns every session of sids at the epoch
// after the one in epochs.
func (c *cluster) allOwnedBy(t *testing.T, rdb rueidis.Client, sids []string, node string, epochs map[string]uint64) bool {
	t.Helper()
	for _, sid := range sids {
		o, e, ok := c.route(rdb, sid)
		if !ok || o != node || e != epochs[sid]+1 {
			t.Logf("session %s: owner %s at epoch %d (found %v), want %s at %d", sid, o, e, ok, node, epochs[sid]+1)
			return false
		}
	}
	return true
}

// lastLine returns the last line of out that contains substr: the split of
// the measured time between the hand-over and the takeover.
func lastLine(out, substr string) string {
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], substr) {
			return lines[i]
		}
	}
	return ""
}
