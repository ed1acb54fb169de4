package directory_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/protocol"
)

// storeContract runs the lease and rate-limit behaviour every Store must
// have. newStore returns a store of its own to each subtest.
func storeContract(t *testing.T, newStore func(t *testing.T) directory.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s directory.Store)
	}{
		{"HeartbeatLive", testHeartbeatLive},
		{"CreateOwned", testCreateOwned},
		{"AcquireOwnedAlive", testAcquireOwnedAlive},
		{"AcquireDeadOwner", testAcquireDeadOwner},
		{"AcquireRace", testAcquireRace},
		{"ReleaseAcquire", testReleaseAcquire},
		{"Leave", testLeave},
		{"AcquireMany", testAcquireMany},
		{"RoutesOf", testRoutesOf},
		{"LeaseInvalidArguments", testLeaseInvalidArguments},
		{"RateLimit", testRateLimit},
		{"Members", testMembers},
		{"Handoff", testHandoff},
		{"HandoffNotTakenByOthers", testHandoffNotTakenByOthers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

// owned is a route of sessionID in region us held by node with incarnation.
func owned(sessionID, node, incarnation string) directory.Route {
	return directory.Route{SessionID: sessionID, HomeRegion: "us", OwnerNode: node, OwnerInc: incarnation, Epoch: 1}
}

// create creates the session of r for two users named after it.
func create(t *testing.T, s directory.Store, r directory.Route) {
	t.Helper()
	require.NoError(t, s.CreateSession(t.Context(), r, r.SessionID+"/c", r.SessionID+"/p"))
}

// beat heartbeats node in region us with a lease of a minute.
func beat(t *testing.T, s directory.Store, node, incarnation string) {
	t.Helper()
	require.NoError(t, s.Heartbeat(t.Context(), node, "us", incarnation, time.Minute))
}

// requireSets checks Owned of each node and Released of us.
func requireSets(t *testing.T, s directory.Store, released []string, owned map[string][]string) {
	t.Helper()
	ctx := t.Context()
	got, err := s.Released(ctx, "us")
	require.NoError(t, err)
	require.Equal(t, fmt.Sprint(released), fmt.Sprint(got), "released")
	for node, want := range owned {
		got, err := s.Owned(ctx, node)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(want), fmt.Sprint(got), "owned by %s", node)
	}
}

func testHeartbeatLive(t *testing.T, s directory.Store) {
	ctx := t.Context()
	require.NoError(t, s.Heartbeat(ctx, "n-short", "us", "i1", 300*time.Millisecond))
	beat(t, s, "n-long", "i2")
	require.NoError(t, s.Heartbeat(ctx, "n-eu", "eu", "i3", time.Minute))
	live, err := s.LiveNodes(ctx, "us")
	require.NoError(t, err)
	require.Equal(t, []directory.NodeInfo{{ID: "n-long", Incarnation: "i2"}, {ID: "n-short", Incarnation: "i1"}}, live)

	err = s.Heartbeat(ctx, "n-long", "us", "other", time.Minute)
	require.ErrorIs(t, err, directory.ErrNodeInUse, "a second process with a live id")
	beat(t, s, "n-long", "i2") // renewal

	checkFor(t, 3*time.Second, func() error {
		live, err := s.LiveNodes(ctx, "us")
		if err != nil {
			return err
		}
		if fmt.Sprint(live) != fmt.Sprint([]directory.NodeInfo{{ID: "n-long", Incarnation: "i2"}}) {
			return fmt.Errorf("live %v", live)
		}
		return nil
	})
	for region, want := range map[string][]string{"us": {"n-long", "n-short"}, "eu": {"n-eu"}, "none": nil} {
		nodes, err := s.RegionNodes(ctx, region)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(want), fmt.Sprint(nodes), region)
	}
	live, err = s.LiveNodes(ctx, "none")
	require.NoError(t, err)
	require.Empty(t, live)
	beat(t, s, "n-short", "i1-restarted") // its lease expired: the id is free
}

func testCreateOwned(t *testing.T, s directory.Store) {
	ctx := t.Context()
	create(t, s, owned("s1", "home-1", "i1"))
	free := owned("s2", "home-1", "")
	free.Epoch = 0
	create(t, s, free)
	got, err := s.RouteOf(ctx, "s2", true)
	require.NoError(t, err)
	free.Epoch = 1
	require.Equal(t, free, got, "a zero epoch is stored as 1")
	requireSets(t, s, []string{"s2"}, map[string][]string{"home-1": {"s1"}})

	require.NoError(t, s.EndSession(ctx, "s1"))
	require.NoError(t, s.EndSession(ctx, "s2"))
	requireSets(t, s, nil, map[string][]string{"home-1": nil})
}

func testAcquireOwnedAlive(t *testing.T, s directory.Store) {
	ctx := t.Context()
	beat(t, s, "a", "ia")
	beat(t, s, "b", "ib")
	r := owned("s", "a", "ia")
	create(t, s, r)

	got, err := s.Acquire(ctx, "s", "b", "ib")
	require.ErrorIs(t, err, directory.ErrOwned)
	require.Equal(t, r, got, "the current route comes with ErrOwned")
	_, err = s.Acquire(ctx, "s", "a", "ia-stale")
	require.ErrorIs(t, err, directory.ErrLeaseLost, "an incarnation the node lease does not name")
	_, err = s.Acquire(ctx, "s", "c", "ic")
	require.ErrorIs(t, err, directory.ErrLeaseLost, "no node lease")
	_, err = s.Acquire(ctx, "nothing", "b", "ib")
	require.ErrorIs(t, err, directory.ErrNotFound)
	got, err = s.Acquire(ctx, "s", "a", "ia")
	require.NoError(t, err)
	require.Equal(t, r, got, "acquiring what one holds changes nothing")
	requireSets(t, s, nil, map[string][]string{"a": {"s"}, "b": nil})
}

func testAcquireDeadOwner(t *testing.T, s directory.Store) {
	ctx := t.Context()
	require.NoError(t, s.Heartbeat(ctx, "a", "us", "ia", 100*time.Millisecond))
	beat(t, s, "b", "ib")
	create(t, s, owned("s", "a", "ia"))

	var got directory.Route
	checkFor(t, 3*time.Second, func() error {
		var err error
		got, err = s.Acquire(ctx, "s", "b", "ib")
		return err
	})
	want := owned("s", "b", "ib")
	want.Epoch = 2
	require.Equal(t, want, got)
	fresh, err := s.RouteOf(ctx, "s", true)
	require.NoError(t, err)
	require.Equal(t, want, fresh)
	requireSets(t, s, nil, map[string][]string{"a": nil, "b": {"s"}})

	for range 3 {
		again, err := s.Acquire(ctx, "s", "b", "ib")
		require.NoError(t, err)
		require.Equal(t, want, again, "idempotent")
	}
	// a restarts with a new incarnation: b is alive, so a cannot take it back.
	require.NoError(t, s.Heartbeat(ctx, "a", "us", "ia2", time.Minute))
	_, err = s.Acquire(ctx, "s", "a", "ia2")
	require.ErrorIs(t, err, directory.ErrOwned)
}

func testAcquireRace(t *testing.T, s directory.Store) {
	ctx := t.Context()
	const ttl = 100 * time.Millisecond
	create(t, s, owned("s", "", ""))
	epoch := uint64(1)
	for round := range 50 {
		nodes := [2]string{fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)}
		for _, n := range nodes {
			require.NoError(t, s.Heartbeat(ctx, n, "us", "i-"+n, ttl))
		}
		var routes [2]directory.Route
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, n := range nodes {
			wg.Go(func() { <-start; routes[i], errs[i] = s.Acquire(ctx, "s", n, "i-"+n) })
		}
		close(start)
		wg.Wait()

		w := 0
		if errs[0] != nil {
			w = 1
		}
		require.NoError(t, errs[w], "round %d: no winner", round)
		require.ErrorIs(t, errs[1-w], directory.ErrOwned, "round %d", round)
		require.Equal(t, nodes[w], routes[w].OwnerNode)
		require.Equal(t, routes[w], routes[1-w], "round %d: the loser sees the winner", round)
		require.Equal(t, epoch+1, routes[w].Epoch, "round %d", round)
		epoch = routes[w].Epoch
		waitDead(t, s, nodes[w])
	}
	requireSets(t, s, nil, map[string][]string{"a48": nil, "b48": nil})
	owners := 0
	for _, n := range []string{"a49", "b49"} {
		ids, err := s.Owned(ctx, n)
		require.NoError(t, err)
		owners += len(ids)
	}
	require.Equal(t, 1, owners, "the session is in exactly one owned set")
}

// waitDead waits until node is no longer live in region us.
func waitDead(t *testing.T, s directory.Store, node string) {
	t.Helper()
	checkFor(t, 3*time.Second, func() error {
		live, err := s.LiveNodes(t.Context(), "us")
		if err != nil {
			return err
		}
		for _, n := range live {
			if n.ID == node {
				return fmt.Errorf("%s still live", node)
			}
		}
		return nil
	})
}

func testReleaseAcquire(t *testing.T, s directory.Store) {
	ctx := t.Context()
	beat(t, s, "a", "ia")
	beat(t, s, "b", "ib")
	create(t, s, owned("s", "a", "ia"))

	require.ErrorIs(t, s.Release(ctx, "s", "b", "ib"), directory.ErrNotOwner)
	require.ErrorIs(t, s.Release(ctx, "s", "a", "ia-old"), directory.ErrNotOwner)
	require.ErrorIs(t, s.Release(ctx, "nothing", "a", "ia"), directory.ErrNotFound)
	require.NoError(t, s.Release(ctx, "s", "a", "ia"))
	got, err := s.RouteOf(ctx, "s", true)
	require.NoError(t, err)
	require.Equal(t, owned("s", "a", ""), got, "released: owner kept for history, epoch unchanged")
	requireSets(t, s, []string{"s"}, map[string][]string{"a": nil})
	require.ErrorIs(t, s.Release(ctx, "s", "a", "ia"), directory.ErrNotOwner, "released twice")

	got, err = s.Acquire(ctx, "s", "b", "ib")
	require.NoError(t, err, "a released session is free while its old owner lives")
	want := owned("s", "b", "ib")
	want.Epoch = 2
	require.Equal(t, want, got)
	requireSets(t, s, nil, map[string][]string{"a": nil, "b": {"s"}})
}

func testAcquireMany(t *testing.T, s directory.Store) {
	ctx := t.Context()
	const n = 2000
	beat(t, s, "b", "ib")
	beat(t, s, "c", "ic")
	ids := make([]string, n)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range ids {
		ids[i] = fmt.Sprintf("s%04d", i)
		g.Go(func() error {
			return s.CreateSession(ctx, owned(ids[i], "dead", "gone"), ids[i]+"/c", ids[i]+"/p")
		})
	}
	require.NoError(t, g.Wait())
	create(t, s, owned("held-by-c", "c", "ic"))

	_, err := s.AcquireMany(ctx, ids, "x", "ix")
	require.ErrorIs(t, err, directory.ErrLeaseLost)
	all := append([]string{"held-by-c", "missing"}, ids...)
	for range 2 { // the second time changes nothing
		got, err := s.AcquireMany(ctx, all, "b", "ib")
		require.NoError(t, err)
		require.Len(t, got, n)
		for _, id := range ids {
			want := owned(id, "b", "ib")
			want.Epoch = 2
			require.Equal(t, want, got[id])
		}
	}
	requireSets(t, s, nil, map[string][]string{"dead": nil, "b": ids, "c": {"held-by-c"}})
	got, err := s.AcquireMany(ctx, nil, "b", "ib")
	require.NoError(t, err)
	require.Empty(t, got)
}

func testRoutesOf(t *testing.T, s directory.Store) {
	ctx := t.Context()
	beat(t, s, "b", "ib")
	create(t, s, owned("r1", "b", "ib"))
	create(t, s, owned("r2", "b", "ib"))
	got, err := s.RoutesOf(ctx, []string{"r1", "missing", "r2"})
	require.NoError(t, err)
	require.Equal(t, map[string]directory.Route{"r1": owned("r1", "b", "ib"), "r2": owned("r2", "b", "ib")}, got,
		"the routes found, a missing one left out")
	require.NoError(t, s.EndSession(ctx, "r1", "r1/c", "r1/p"))
	got, err = s.RoutesOf(ctx, []string{"r1", "r2"})
	require.NoError(t, err)
	require.Equal(t, []string{"r2"}, slices.Collect(maps.Keys(got)), "read from the store, not a cache")
	got, err = s.RoutesOf(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, got)
}

func testLeaseInvalidArguments(t *testing.T, s directory.Store) {
	ctx := t.Context()
	require.Error(t, s.Heartbeat(ctx, "", "us", "i", time.Second))
	require.Error(t, s.Heartbeat(ctx, "n", "", "i", time.Second))
	require.Error(t, s.Heartbeat(ctx, "n", "us", "", time.Second))
	require.Error(t, s.Heartbeat(ctx, "n", "us", "i", 0))
	_, err := s.Acquire(ctx, "s", "n", "")
	require.Error(t, err)
	_, err = s.AcquireMany(ctx, []string{"s"}, "", "i")
	require.Error(t, err)
	require.Error(t, s.Release(ctx, "s", "", "i"))
	require.Error(t, s.CreateSession(ctx, owned("s", "", "i"), "a", "b"), "incarnation without node")
	_, _, err = s.Allow(ctx, "", "e", 1, time.Second)
	require.Error(t, err)
	_, _, err = s.Allow(ctx, "u", "e", 0, time.Second)
	require.Error(t, err)
	_, _, err = s.Allow(ctx, "u", "e", 1, 0)
	require.Error(t, err)
}

func testRateLimit(t *testing.T, s directory.Store) {
	ctx := t.Context()
	const window = time.Hour
	lim := protocol.RateLimits[protocol.Serve]
	require.Equal(t, protocol.Limit{Max: 5, Window: 5 * time.Minute, FailClosed: true}, lim)
	user := exhaust(t, s, "court:serve", lim.Max, window)

	ok, _, err := s.Allow(ctx, user+"-other", "court:serve", lim.Max, window)
	require.NoError(t, err)
	require.True(t, ok, "another user has a count of its own")
	ok, _, err = s.Allow(ctx, user, "court:submit_evidence", lim.Max, window)
	require.NoError(t, err)
	require.True(t, ok, "another event has a count of its own")
}

// exhaust uses up limit events of a fresh user within one window and checks
// the next is refused; it returns the user. A window boundary crossed midway
// restarts the count, so it tries a few users.
func exhaust(t *testing.T, l directory.Limiter, event string, limit int, window time.Duration) string {
	t.Helper()
	ctx := t.Context()
	for attempt := range 3 {
		user := fmt.Sprintf("%s-user-%d", t.Name(), attempt)
		for i := range limit {
			ok, retry, err := l.Allow(ctx, user, event, limit, window)
			require.NoError(t, err)
			require.True(t, ok, "event %d", i+1)
			require.Zero(t, retry)
		}
		ok, retry, err := l.Allow(ctx, user, event, limit, window)
		require.NoError(t, err)
		if ok {
			continue // a new window began
		}
		require.Positive(t, retry)
		require.LessOrEqual(t, retry, window)
		return user
	}
	t.Fatalf("never refused past %d events", limit)
	return ""
}

// testLeave: a node that leaves is no longer live, its sessions are
// orphans a peer acquires at once, and a stale incarnation cannot end the
// lease of the node's next one.
func testLeave(t *testing.T, s directory.Store) {
	ctx := t.Context()
	beat(t, s, "n1", "i1")
	beat(t, s, "n2", "i2")
	create(t, s, owned("s1", "n1", "i1"))
	require.NoError(t, s.Leave(ctx, "n1", "old"), "another incarnation: nothing changes")
	live, err := s.LiveNodes(ctx, "us")
	require.NoError(t, err)
	require.Len(t, live, 2)
	require.NoError(t, s.Leave(ctx, "n1", "i1"))
	live, err = s.LiveNodes(ctx, "us")
	require.NoError(t, err)
	require.Equal(t, []directory.NodeInfo{{ID: "n2", Incarnation: "i2"}}, live)
	r, err := s.Acquire(ctx, "s1", "n2", "i2")
	require.NoError(t, err, "the leaver's session is an orphan")
	require.Equal(t, uint64(2), r.Epoch)
	require.NoError(t, s.Leave(ctx, "n1", "i1"), "leaving twice is harmless")
}
