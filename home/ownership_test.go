package home

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
)

// The ownership tests run two or three homes in one process on the
// in-memory directory and store, inside synctest bubbles: leases, claim
// rounds and heartbeats run on the bubble's clock, so each test takes
// milliseconds and a busy machine cannot make it flake.

const (
	home1 = "home-us-1"
	home2 = "home-us-2"
	home3 = "home-us-3"
)

// holds reports whether h holds session id.
func (h *harness) holds(id string) bool { return h.srv.rt.reg.session(id) != nil }

// routeOf reads session id's route from the directory.
func routeOf(t *testing.T, dir Directory, id string) directory.Route {
	t.Helper()
	r, err := dir.RouteOf(context.Background(), id, true)
	require.NoError(t, err)
	return r
}

// settle lets every home of the bubble run for d.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// pausableDir is a directory whose heartbeats fail while paused, as when a
// home's link to Redis is cut.
type pausableDir struct {
	Directory
	paused atomic.Bool
}

func (d *pausableDir) Heartbeat(ctx context.Context, node, region, inc string, ttl time.Duration) error {
	if d.paused.Load() {
		return fmt.Errorf("redis: connection refused")
	}
	return d.Directory.Heartbeat(ctx, node, region, inc, ttl)
}

// TestTakeoverAfterLapsedLease: a home that dies keeps its sessions until
// its node lease lapses, no longer; then a peer takes them over at the next
// epoch and serves them from the store.
func TestTakeoverAfterLapsedLease(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		h1 := start(t, options{dir: dir, store: st, node: home1})
		h2 := start(t, options{dir: dir, store: st, node: home2})
		settle(claimWarmUp)
		a, b := h1.pair(t)
		id := h1.serve(t, a, b).SessionID
		require.True(t, h1.holds(id))

		require.NoError(t, h1.srv.Close()) // a crash: the lease stays in Redis
		lease := h1.srv.cfg.LeaseTTL
		begin := time.Now()
		settle(lease / 2)
		require.False(t, h2.holds(id), "no takeover while the dead node's lease lives")
		for !h2.holds(id) {
			settle(time.Millisecond)
		}
		took := time.Since(begin)
		require.LessOrEqual(t, took, lease+2*h2.srv.cfg.ClaimInterval)
		require.Equal(t, directory.Route{SessionID: id, HomeRegion: "us", OwnerNode: home2,
			OwnerInc: h2.incarnation(), Epoch: 2}, routeOf(t, dir, id))

		resp, got := h2.do(t, b, "court:accept", `{}`)
		require.True(t, got.OK, got.Error)
		require.Equal(t, uint64(2), resp.Version)
	})
}

func (h *harness) incarnation() string {
	inc, _ := h.srv.own.lease()
	return inc
}

// TestHandOffWhenNodeJoins: a home that joins the region takes its
// rendezvous share of the sessions another home holds; every session is
// held by exactly one home, the one rendezvous hashing names.
func TestHandOffWhenNodeJoins(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		h1 := start(t, options{dir: dir, store: st, node: home1, quiet: true})
		settle(claimWarmUp)
		var ids []string
		for i := range 60 {
			ids = append(ids, h1.serve(t, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)).SessionID)
		}
		h2 := start(t, options{dir: dir, store: st, node: home2, quiet: true})
		settle(claimWarmUp + 5*h2.srv.cfg.ClaimInterval)

		live := []string{home1, home2}
		moved := 0
		for _, id := range ids {
			owner := directory.Rendezvous(id, live)
			require.NotEqual(t, h1.holds(id), h2.holds(id), "held by exactly one home")
			require.Equal(t, owner == home2, h2.holds(id), "held where rendezvous hashing puts it")
			require.Equal(t, owner, routeOf(t, dir, id).OwnerNode)
			if owner == home2 {
				moved++
				require.Equal(t, uint64(2), routeOf(t, dir, id).Epoch)
			}
		}
		require.Greater(t, moved, 10, "the new home took its share")
		require.Less(t, moved, 50, "and only its share")
	})
}

// TestStepDownWhenFenced: a home that still believes it holds a session
// (its own lease has not run out yet) while a peer took the session over
// (the directory lost its node lease) has its next write refused by the
// store's fence: it answers not_owner, drops the session at once, and the
// peer serves it.
func TestStepDownWhenFenced(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		d1 := &pausableDir{Directory: dir}
		h1 := start(t, options{dir: d1, store: st, node: home1})
		h2 := start(t, options{dir: dir, store: st, node: home2})
		settle(claimWarmUp + 2*h2.srv.cfg.ClaimInterval)
		a, b := h1.pair(t)
		id := h1.serve(t, a, b).SessionID
		settle(2 * h2.srv.cfg.ClaimInterval)
		require.True(t, h1.holds(id), "placed on home 1, where rendezvous hashing puts it")

		d1.paused.Store(true)
		require.NoError(t, dir.Leave(context.Background(), home1, h1.incarnation()))
		settle(3 * h2.srv.cfg.ClaimInterval)
		require.True(t, h2.holds(id), "the peer took the session over")
		require.True(t, h1.holds(id), "home 1 has not noticed yet")
		_, valid := h1.srv.own.lease()
		require.True(t, valid, "and its own lease is still valid")

		resp, err := h1.srv.HandleRequest(context.Background(), &wire.Request{UserID: b, Event: "court:accept"})
		require.Nil(t, resp)
		var we *wire.Error
		require.ErrorAs(t, err, &we)
		require.Equal(t, wire.CodeNotOwner, we.Code)
		require.False(t, h1.holds(id), "stepped down at once")
		require.InDelta(t, 1, metricValue(t, h1.srv.metrics.leaseLosses), 0)
		require.Equal(t, home2, routeOf(t, dir, id).OwnerNode, "the fenced home's release changes nothing")

		resp, got := h2.do(t, b, "court:accept", `{}`)
		require.True(t, got.OK, got.Error)
		require.Equal(t, uint64(2), resp.Version)
	})
}

// TestRepairAfterDirectoryWipe: after Redis lost everything, the home
// that holds a session writes its route back, and a session whose home
// died meanwhile is re-created released from the store and taken over.
func TestRepairAfterDirectoryWipe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		h1 := start(t, options{dir: dir, store: st, node: home1})
		h2 := start(t, options{dir: dir, store: st, node: home2})
		settle(claimWarmUp)
		held := h1.serve(t, "a1", "b1").SessionID
		orphan := h2.serve(t, "a2", "b2").SessionID
		require.True(t, h1.holds(held))
		require.True(t, h2.holds(orphan))

		require.NoError(t, h2.srv.Close())
		dir.Flush()
		settle(3 * repairInterval)

		require.Equal(t, directory.Route{SessionID: held, HomeRegion: "us", OwnerNode: home1,
			OwnerInc: h1.incarnation(), Epoch: 1}, routeOf(t, dir, held), "the holder wrote its route back")
		require.True(t, h1.holds(orphan), "the orphan was re-created released and taken over")
		require.Equal(t, home1, routeOf(t, dir, orphan).OwnerNode)
		_, got := h1.do(t, "b2", "court:accept", `{}`)
		require.True(t, got.OK, got.Error)
		for _, u := range []string{"a1", "b1"} {
			r, err := dir.Lookup(context.Background(), u, true)
			require.NoError(t, err, "the users' claims are back")
			require.Equal(t, held, r.SessionID)
		}
	})
}

// TestShutdownHandsOverAtOnce: a home that shuts down gracefully hands its
// 1,000 sessions to its peer, which owns all of them within one claim
// round: well under a second, not a lease TTL.
func TestShutdownHandsOverAtOnce(t *testing.T) {
	t.Parallel()
	const n = 1000
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		o := options{dir: dir, store: st, quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		o.node = home1
		h1 := start(t, o)
		o.node = home2
		h2 := start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		ids := make([]string, n)
		for i := range n {
			ids[i] = h1.serve(t, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i)).SessionID
		}
		settle(DefaultClaimInterval)
		require.Len(t, h1.srv.rt.held(), n)
		require.Empty(t, h2.srv.rt.held())

		begin := time.Now()
		require.NoError(t, h1.srv.Shutdown(context.Background()))
		for len(h2.srv.rt.held()) < n {
			settle(time.Millisecond)
		}
		took := time.Since(begin)
		t.Logf("peer owns all %d sessions %v after Shutdown began", n, took)
		require.Less(t, took, time.Second)
		require.Less(t, took, DefaultLeaseTTL, "not after the lease TTL")
		for _, id := range ids {
			r := routeOf(t, dir, id)
			require.Equal(t, home2, r.OwnerNode)
			require.Equal(t, uint64(2), r.Epoch)
		}
		live, err := dir.LiveNodes(context.Background(), "us")
		require.NoError(t, err)
		require.Equal(t, []directory.NodeInfo{{ID: home2, Incarnation: h2.incarnation()}}, live, "home 1 left the region")

		_, err = h1.srv.HandleRequest(context.Background(), &wire.Request{UserID: "a1", Event: "court:register"})
		var we *wire.Error
		require.ErrorAs(t, err, &we)
		require.Equal(t, wire.CodeShuttingDown, we.Code)
		_, got := h2.do(t, "b7", "court:accept", `{}`)
		require.True(t, got.OK, got.Error)
	})
}

// losingStore is a store whose commits go through but, while lose is set,
// report an error, as when the connection to Postgres breaks after a commit
// was sent: the outcome is unknown to the home.
type losingStore struct {
	Store
	lose atomic.Bool
}

func (s *losingStore) Commit(ctx context.Context, c store.Commit) error {
	if err := s.Store.Commit(ctx, c); err != nil || !s.lose.Load() {
		return err
	}
	return fmt.Errorf("store: commit session %s: %w", c.Session.ID, context.Canceled)
}

// failingReleases is a directory whose lease releases fail while fail is
// set.
type failingReleases struct {
	Directory
	fail atomic.Bool
}

func (d *failingReleases) Release(ctx context.Context, sessionID, node, inc string) error {
	if d.fail.Load() {
		return fmt.Errorf("directory: release %s: %w", sessionID, context.Canceled)
	}
	return d.Directory.Release(ctx, sessionID, node, inc)
}

// TestLostCommitAndReleaseKeepTheRoute: a home whose commit's outcome is
// lost steps down for the session; when the release of its lease fails too
// (found by the rolling deploy e2e test: both ran on a request's context
// that ended as its edge restarted), the lease still names this
// incarnation. The next claim round takes the session back at the next
// epoch; it does not remove the route of a live session, which left its
// users "in no session" while it waited for its timeout.
func TestLostCommitAndReleaseKeepTheRoute(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := &failingReleases{Directory: directory.NewMemory()}
		st := &losingStore{Store: store.NewMemory()}
		h := start(t, options{dir: dir, store: st, node: home1})
		settle(claimWarmUp + 2*h.srv.cfg.ClaimInterval)
		a, b := h.pair(t)
		id := h.serve(t, a, b).SessionID

		st.lose.Store(true)
		dir.fail.Store(true)
		_, got := h.do(t, b, "court:accept", `{}`)
		require.False(t, got.OK, "the commit's outcome is unknown")
		require.False(t, h.holds(id), "stepped down")
		st.lose.Store(false)
		dir.fail.Store(false)
		require.Equal(t, uint64(1), routeOf(t, dir, id).Epoch, "the lease is still this incarnation's")

		settle(3 * h.srv.cfg.ClaimInterval)
		require.True(t, h.holds(id), "taken back")
		r := routeOf(t, dir, id)
		require.Equal(t, home1, r.OwnerNode)
		require.Equal(t, uint64(2), r.Epoch, "at the next epoch, which fences the store")
		resp, got := h.do(t, a, "court:submit_evidence", `{"evidence":"e","feelings":"f","needs":"n"}`)
		require.True(t, got.OK, got.Error)
		require.Equal(t, uint64(3), resp.Version, "the lost commit of the accept went through")
	})
}
