package home

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/home/store"
)

// TestDrainAndUndrain: a drained home hands its sessions to its peer within
// one claim round, keeps running in state drained while the peer answers
// for them (the next action commits at the new owner), and once undrained
// rejoins the region and gets its share back.
func TestDrainAndUndrain(t *testing.T) {
	t.Parallel()
	const n = 200
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		o := options{dir: dir, store: st, quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		o.node = home1
		h1 := start(t, o)
		o.node = home2
		h2 := start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		for i := range n {
			h1.serve(t, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i))
		}
		settle(DefaultClaimInterval)
		require.Equal(t, n, h1.srv.Sessions())
		require.Equal(t, directory.StateActive, h1.srv.State())

		begin := time.Now()
		moved, err := h1.srv.Drain(context.Background())
		require.NoError(t, err)
		require.Equal(t, n, moved)
		require.Equal(t, directory.StateDrained, h1.srv.State())
		require.Zero(t, h1.srv.Sessions())
		for h2.srv.Sessions() < n {
			settle(time.Millisecond)
		}
		took := time.Since(begin)
		t.Logf("peer holds all %d sessions %v after the drain began", n, took)
		require.LessOrEqual(t, took, time.Second, "each session paused at most 1 s")
		_, got := h2.do(t, "b7", "court:accept", `{}`)
		require.True(t, got.OK, got.Error)
		settle(3 * DefaultClaimInterval)
		require.Zero(t, h1.srv.Sessions(), "a drained node takes nothing back")

		h1.srv.Undrain()
		require.Equal(t, directory.StateActive, h1.srv.State())
		for h1.srv.Sessions() == 0 {
			settle(DefaultClaimInterval)
		}
		settle(5 * DefaultClaimInterval)
		require.Equal(t, n, h1.srv.Sessions()+h2.srv.Sessions(), "every session held once")
		live, err := dir.LiveNodes(context.Background(), "us")
		require.NoError(t, err)
		require.Len(t, live, 2, "home 1 is back in the region")
	})
}

// TestDrainTo: a home drained to chosen nodes, one of another region, hands
// every session to them, spread over both and none to the region's other
// peer, each within about one claim round; the sessions moved to eu have eu
// as their home region, and they stay where the drain put them.
func TestDrainTo(t *testing.T) {
	t.Parallel()
	const n = 200
	synctest.Test(t, func(t *testing.T) {
		dir, st := directory.NewMemory(), store.NewMemory()
		o := options{dir: dir, store: st, quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		homes := map[string]*harness{}
		for _, id := range []string{home1, home2, "home-us-3"} {
			o.node = id
			homes[id] = start(t, o)
		}
		o.node, o.region = "home-eu-1", "eu"
		homes["home-eu-1"] = start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		h1 := homes[home1]
		for i := range n {
			h1.serve(t, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i))
		}
		settle(DefaultClaimInterval)
		require.Equal(t, n, h1.srv.Sessions())

		require.ErrorContains(t, h1.srv.CheckTargets([]Target{{Node: home1, Region: "us"}}), "cannot take its own sessions")
		require.ErrorContains(t, h1.srv.CheckTargets([]Target{{Node: home2}}), "needs a node and its region")
		begin := time.Now()
		moved, err := h1.srv.DrainTo(context.Background(), []Target{{Node: "home-us-3", Region: "us"}, {Node: "home-eu-1", Region: "eu"}})
		require.NoError(t, err)
		require.Equal(t, n, moved)
		require.Equal(t, directory.StateDrained, h1.srv.State())
		us3, eu := homes["home-us-3"], homes["home-eu-1"]
		for us3.srv.Sessions()+eu.srv.Sessions() < n {
			settle(time.Millisecond)
		}
		took := time.Since(begin)
		t.Logf("home-us-3 holds %d, home-eu-1 %d, %v after the drain began", us3.srv.Sessions(), eu.srv.Sessions(), took)
		require.LessOrEqual(t, took, time.Second, "each session paused at most 1 s")
		require.Greater(t, us3.srv.Sessions(), n/4, "spread over the targets")
		require.Greater(t, eu.srv.Sessions(), n/4, "spread over the targets")
		for _, id := range eu.srv.Held() {
			require.Equal(t, "eu", routeOf(t, dir, id).HomeRegion)
		}
		settle(5 * DefaultClaimInterval)
		require.Zero(t, homes[home2].srv.Sessions(), "the region's other peer gets none")
		require.Zero(t, h1.srv.Sessions())
		require.Equal(t, n, us3.srv.Sessions()+eu.srv.Sessions(), "pinned where the drain put them")
	})
}

// TestPlacementFollowsMembership: home-us-1 is handing its sessions away
// (its claim rounds stopped, its node lease still live, the membership shows
// it draining) when home-us-3 dies holding sessions. home-us-2 takes every
// one of them within the lease TTL and a claim round: none waits on the
// draining node's share. A membership record that still shows the dead
// node active does not keep its sessions from being taken over.
func TestPlacementFollowsMembership(t *testing.T) {
	t.Parallel()
	const n = 100
	synctest.Test(t, func(t *testing.T) {
		dir := directory.NewMemory()
		o := options{dir: dir, store: store.NewMemory(), quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		homes := map[string]*harness{}
		for _, id := range []string{home1, home2, home3} {
			o.node = id
			homes[id] = start(t, o)
		}
		settle(claimWarmUp + DefaultClaimInterval)
		h1, h2, h3 := homes[home1], homes[home2], homes[home3]
		for i := range n {
			h3.serve(t, fmt.Sprintf("a%d", i), fmt.Sprintf("b%d", i))
		}
		settle(DefaultClaimInterval)
		require.Equal(t, n, h3.srv.Sessions())

		h1.srv.own.stopRounds() // as DrainTo does while it hands its sessions away
		h2.srv.FollowMembers([]directory.Member{
			{ID: home1, Role: "home", Region: "us", State: directory.StateDraining},
			{ID: home3, Role: "home", Region: "us", State: directory.StateActive},
			{ID: "home-eu-1", Role: "home", Region: "eu", State: directory.StateDraining},
		})
		require.NoError(t, h3.srv.Close()) // dies: its node lease lapses
		deadline := time.Now().Add(DefaultLeaseTTL + 4*DefaultClaimInterval)
		for h2.srv.Sessions() < n {
			require.True(t, time.Now().Before(deadline), "home-us-2 holds %d of the dead node's %d sessions", h2.srv.Sessions(), n)
			settle(DefaultClaimInterval)
		}
		require.Zero(t, h1.srv.Sessions())
	})
}

// gatedStore holds each Create until the test releases it.
type gatedStore struct {
	*store.Memory
	entered, release chan struct{}
}

func (s *gatedStore) Create(ctx context.Context, c store.Create) error {
	s.entered <- struct{}{}
	<-s.release
	return s.Memory.Create(ctx, c)
}

// TestDrainWaitsForASessionBeingCreated: a drain that begins while a serve
// is between its route (written first) and its row does not delete the
// node lease until the row is there. Deleted sooner, the session is an
// orphan the peer's claim round acquires, finds no row for, and forgets: a
// live session with no route or claims (CI: TestRollingDeploy, sessions
// served as their home drained). The peer takes it over whole. Real time,
// not a synctest bubble: without the wait the drain blocks on the
// session's lock, which a bubble's clock cannot pass.
func TestDrainWaitsForASessionBeingCreated(t *testing.T) {
	t.Parallel()
	dir := directory.NewMemory()
	st := &gatedStore{Memory: store.NewMemory(), entered: make(chan struct{}), release: make(chan struct{})}
	o := options{dir: dir, store: st, quiet: true, node: home1}
	h1 := start(t, o)
	o.node = home2
	h2 := start(t, o)
	time.Sleep(claimWarmUp + 50*time.Millisecond) // the peer claims orphans from here on

	served := make(chan struct{})
	go func() {
		defer close(served)
		h1.serve(t, "a", "b")
	}()
	<-st.entered
	drained := make(chan error, 1)
	go func() {
		_, err := h1.srv.Drain(context.Background())
		drained <- err
	}()
	time.Sleep(100 * time.Millisecond) // five of the peer's claim rounds, within the node lease's 300 ms
	close(st.release)
	<-served
	require.NoError(t, <-drained)
	eventually(t, func() bool { return h2.srv.Sessions() == 1 }, "the peer takes the session over")
	r, err := dir.Lookup(context.Background(), "b", true)
	require.NoError(t, err, "the partner's claim survived the hand-over")
	require.Equal(t, home2, r.OwnerNode)
}
