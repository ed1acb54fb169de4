package home

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
)

// recordingStore records every committed transition.
type recordingStore struct {
	*store.Memory
	mu      sync.Mutex
	commits []store.Commit // guarded by mu
}

func (s *recordingStore) Commit(ctx context.Context, c store.Commit) error {
	err := s.Memory.Commit(ctx, c)
	if err == nil {
		s.mu.Lock()
		s.commits = append(s.commits, c)
		s.mu.Unlock()
	}
	return err
}

// of returns the versions and events committed for session id, in order.
func (s *recordingStore) of(id string) (versions []uint64, events, phases []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.commits {
		if c.Session.ID == id {
			versions, events = append(versions, c.Session.Version), append(events, c.Event)
			phases = append(phases, string(c.Session.Phase))
		}
	}
	return versions, events, phases
}

// requestSeq numbers the router's requests.
var requestSeq atomic.Int64

// routerRetryPause is the router's pause between the tries of a request,
// and edgeRetryBudget how long it retries (the edge's budget).
const (
	routerRetryPause = 10 * time.Millisecond
	edgeRetryBudget  = 3 * time.Second
)

// router sends actions to the home that owns the user's session, retrying
// what an edge retries (not_owner, unavailable, shutting_down).
type router struct {
	dir   Directory
	homes map[string]*harness
	first *harness
}

func (r *router) act(t *testing.T, user, event string, payload any) ack {
	t.Helper()
	raw, err := json.Marshal(payload)
	require.NoError(t, err)
	start := time.Now()
	for {
		h := r.first
		if route, err := r.dir.Lookup(context.Background(), user, true); err == nil && r.homes[route.OwnerNode] != nil {
			h = r.homes[route.OwnerNode]
		}
		req := &wire.Request{ID: fmt.Sprintf("%s-%d", user, requestSeq.Add(1)), UserID: user, Event: event,
			EdgeNode: edgeUS, EdgeRegion: "us", Payload: raw}
		resp, err := h.srv.HandleRequest(context.Background(), req)
		var we *wire.Error
		if errors.As(err, &we) && (we.Temporary || we.Code == wire.CodeNotOwner || we.Code == wire.CodeShuttingDown) {
			require.Less(t, time.Since(start), edgeRetryBudget, "%s %s not answered within the edge's retry budget", user, event)
			time.Sleep(routerRetryPause)
			continue
		}
		require.NoError(t, err, "%s %s", user, event)
		var a ack
		require.NoError(t, json.Unmarshal(resp.Ack, &a))
		return a
	}
}

// TestLiveMigrationRace: both partners act, and keep reading their state,
// while their session is migrated back and forth between two homes 20
// times; then its verdict timer, armed before the migrations, auto-accepts.
// Every action is answered (none refused); every version is committed once
// (no lost, duplicated or reordered transition: versions 1..n in order, so
// no timer fired twice); each client sees the versions pushed to it
// strictly increase and the read versions never go back; both end with the
// same final state.
func TestLiveMigrationRace(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := directory.NewMemory()
		st := &recordingStore{Memory: store.NewMemory()}
		mesh := &fakeMesh{} // one edge's view of both homes' pushes
		o := options{dir: dir, store: st, mesh: mesh, scale: 0.01, quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		o.node = home1
		h1 := start(t, o)
		o.node = home2
		h2 := start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		r := &router{dir: dir, homes: map[string]*harness{home1: h1, home2: h2}, first: h1}
		a, b := "A-migrate", "B-migrate"
		require.NoError(t, dir.AddPresence(context.Background(), edgeUS, time.Hour, a, b))

		served := r.act(t, a, "court:serve", map[string]any{"partnerId": b, "coupleId": nil, "judgeType": "swift"})
		require.True(t, served.OK, served.Error)
		sid := served.State.Session.ID

		var flips atomic.Int64
		migrated := make(chan struct{})
		// The migrator: 20 moves, each once the session has been held at
		// its new home for longer than the router's retry pause. A
		// hand-off ends at the target's next claim round (up to
		// ClaimInterval); moving the session on at once would leave it
		// held for under a millisecond per round, and the router's
		// retries, at a fixed phase on the synctest clock, would miss
		// every such window until the migrations end, failing whenever
		// the 20 moves outlast the retry budget.
		dwell := 2 * routerRetryPause
		go func() {
			defer close(migrated)
			heldSince, moved := time.Time{}, time.Now()
			for flips.Load() < 20 {
				route, err := dir.RouteOf(context.Background(), sid, true)
				if time.Since(moved) > edgeRetryBudget {
					t.Errorf("move %d not done within the edge's retry budget: route %+v, %v", flips.Load()+1, route, err)
					return
				}
				if err != nil || route.OwnerInc == "" {
					heldSince = time.Time{}
					time.Sleep(time.Millisecond)
					continue
				}
				if heldSince.IsZero() {
					heldSince = time.Now()
				}
				if time.Since(heldSince) < dwell {
					time.Sleep(time.Millisecond)
					continue
				}
				src, dst := r.homes[route.OwnerNode], h1
				if src == h1 {
					dst = h2
				}
				if err := src.srv.Migrate(context.Background(), sid, dst.srv.cfg.NodeID, "us"); err != nil {
					time.Sleep(time.Millisecond)
					continue
				}
				t.Logf("flip %d to %s", flips.Add(1), dst.srv.cfg.NodeID)
				heldSince, moved = time.Time{}, time.Now()
			}
		}()
		var reads sync.WaitGroup
		stopReads := make(chan struct{})
		readVersions := map[string][]uint64{}
		var readMu sync.Mutex
		for _, u := range []string{a, b} {
			reads.Go(func() { // each partner keeps reading its state
				for {
					select {
					case <-stopReads:
						return
					default:
					}
					got := r.act(t, u, "court:register", map[string]any{"userId": u})
					if got.State != nil && got.State.Session != nil {
						readMu.Lock()
						readVersions[u] = append(readVersions[u], got.State.Session.Version)
						readMu.Unlock()
					}
					time.Sleep(3 * time.Millisecond)
				}
			})
		}
		both := func(event string, payload any) {
			var g sync.WaitGroup
			for _, u := range []string{a, b} {
				g.Go(func() {
					got := r.act(t, u, event, payload)
					require.True(t, got.OK, "%s %s: %s", u, event, got.Error)
					if got.State != nil && got.State.Session != nil {
						t.Logf("%s %s: version %d phase %s", u, event, got.State.Session.Version, got.State.Phase)
					}
				})
			}
			g.Wait()
			time.Sleep(15 * time.Millisecond) // let a few migrations happen between steps
		}
		accepted := r.act(t, b, "court:accept", map[string]any{})
		require.True(t, accepted.OK, accepted.Error)
		both("court:submit_evidence", map[string]string{"evidence": "e", "feelings": "f", "needs": "n"})
		waitPhase(t, r, a, "PRIMING", func() any { _, e, p := st.of(sid); return fmt.Sprint(e, p) })
		both("court:priming_complete", map[string]any{})
		both("court:joint_ready", map[string]any{})
		both("court:resolution_pick", map[string]any{"resolutionId": "resolution_1"})
		waitPhase(t, r, a, "VERDICT", func() any { _, e, p := st.of(sid); return fmt.Sprint(e, p) })
		<-migrated
		close(stopReads)
		reads.Wait()
		require.EqualValues(t, 20, flips.Load())

		time.Sleep(2 * time.Minute) // past the verdict's auto-accept deadline (36 s at scale 0.01), armed before the moves
		synctest.Wait()
		for _, u := range []string{a, b} {
			states := mesh.states(t, edgeUS, u)
			var last uint64
			for _, s := range states {
				if s.Session == nil || s.Session.ID != sid {
					continue
				}
				require.Greater(t, s.Session.Version, last, "%s: pushed versions strictly increase", u)
				last = s.Session.Version
			}
			require.NotZero(t, last)
			rv := readVersions[u]
			for i := 1; i < len(rv); i++ {
				require.GreaterOrEqual(t, rv[i], rv[i-1], "%s: a read went back", u)
			}
		}
		_, stA := mesh.last(t, edgeUS, a)
		_, stB := mesh.last(t, edgeUS, b)
		require.Equal(t, stA.Phase, stB.Phase, "same final state")
		versions, events, phases := st.of(sid)
		for i, v := range versions {
			require.Equal(t, uint64(i+2), v, "every version committed once, in order: %v %v", versions, events)
		}
		fired := map[string]int{} // phase a timer led to → fires
		for i, e := range events {
			if e == "timeout" {
				fired[phases[i]]++
			}
		}
		require.Equal(t, 1, fired["CLOSED"], "the verdict's auto-accept timer fired once: %v %v", events, phases)
		for p, n := range fired {
			require.Equal(t, 1, n, "a timer into %s fired %d times: %v %v", p, n, events, phases)
		}
		t.Logf("20 migrations; %d transitions after serve: %v; final phase %s", len(versions), events, stA.Phase)
	})
}

// waitPhase waits up to a minute for user's phase to be want.
func waitPhase(t *testing.T, r *router, user, want string, history func() any) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for got := phaseIs(t, r, user); got != want; got = phaseIs(t, r, user) {
		require.True(t, time.Now().Before(deadline), "%s: phase %s, want %s; history %v", user, got, want, history())
		time.Sleep(5 * time.Millisecond)
	}
}

// phaseIs reads user's phase through the router.
func phaseIs(t *testing.T, r *router, user string) string {
	got := r.act(t, user, "court:register", map[string]any{"userId": user})
	if got.State == nil {
		return ""
	}
	return string(got.State.Phase)
}

// TestMigrateAcrossRegions: a session moves live from a us home to an eu
// home; its home region in the directory changes with it, the eu home holds
// it at the next epoch, pinned (the us home does not take it back), and the
// partners' next actions commit there.
func TestMigrateAcrossRegions(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir, st, mesh := directory.NewMemory(), &recordingStore{Memory: store.NewMemory()}, &fakeMesh{}
		o := options{dir: dir, store: st, mesh: mesh, quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		o.node = home1
		us := start(t, o)
		o.node, o.region = "home-eu-1", "eu"
		eu := start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		r := &router{dir: dir, homes: map[string]*harness{home1: us, "home-eu-1": eu}, first: us}
		a, b := "A-region", "B-region"
		served := r.act(t, a, "court:serve", map[string]any{"partnerId": b, "coupleId": nil, "judgeType": "swift"})
		require.True(t, served.OK, served.Error)
		sid := served.State.Session.ID
		before := routeOf(t, dir, sid)
		require.Equal(t, home1, before.OwnerNode)
		require.Equal(t, "us", before.HomeRegion)

		require.NoError(t, us.srv.Migrate(context.Background(), sid, "home-eu-1", "eu"))
		got := r.act(t, b, "court:accept", map[string]any{}) // held at the edge, answered by eu
		require.True(t, got.OK, got.Error)
		after := routeOf(t, dir, sid)
		require.Equal(t, directory.Route{SessionID: sid, HomeRegion: "eu", OwnerNode: "home-eu-1",
			OwnerInc: eu.incarnation(), Epoch: before.Epoch + 1}, after)
		settle(5 * DefaultClaimInterval)
		require.True(t, eu.holds(sid))
		require.False(t, us.holds(sid), "the us home does not take it back")
		_, events, _ := st.of(sid)
		require.Equal(t, []string{"accept"}, events)
	})
}

// fenceHookStore runs before, once armed, ahead of each FenceMany.
type fenceHookStore struct {
	*store.Memory
	before atomic.Pointer[func([]store.SessionEpoch)]
}

func (s *fenceHookStore) FenceMany(ctx context.Context, want []store.SessionEpoch) (map[string]*court.Session, error) {
	if f := s.before.Load(); f != nil {
		(*f)(want)
	}
	return s.Memory.FenceMany(ctx, want)
}

// TestHandoffRacesTakeover: a session is migrated to home-us-2, whose claim
// round acquires it but stalls before fencing the store, long enough for
// its node lease to lapse; home-us-1 then takes the session over at the
// next epoch and fences first. home-us-2's late fence is refused; the
// session must keep its route, naming its owner, instead of being
// forgotten as if it had ended (which stranded a live session, found by
// e2e.TestLiveMigrationRace under load).
func TestHandoffRacesTakeover(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir, mem := directory.NewMemory(), store.NewMemory()
		o := options{dir: dir, store: mem, quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		o.node = home1
		h1 := start(t, o)
		paused := &pausableDir{Directory: dir}
		hooked := &fenceHookStore{Memory: mem}
		o.node, o.dir, o.store = home2, paused, hooked
		h2 := start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		a, b := "A-race", "B-race"
		r := &router{dir: dir, homes: map[string]*harness{home1: h1, home2: h2}, first: h1}
		served := r.act(t, a, "court:serve", map[string]any{"partnerId": b, "coupleId": nil, "judgeType": "swift"})
		require.True(t, served.OK, served.Error)
		sid := served.State.Session.ID
		owner := r.homes[routeOf(t, dir, sid).OwnerNode]
		if owner == h2 {
			require.NoError(t, h2.srv.Migrate(context.Background(), sid, home1, "us"))
			for !h1.holds(sid) {
				settle(DefaultClaimInterval)
			}
		}
		epoch := routeOf(t, dir, sid).Epoch

		var once atomic.Bool
		stall := func(want []store.SessionEpoch) {
			if len(want) == 1 && want[0].ID == sid && once.CompareAndSwap(false, true) {
				paused.paused.Store(true) // home-us-2's heartbeats fail from now on
				time.Sleep(DefaultLeaseTTL + 4*DefaultClaimInterval)
			}
		}
		hooked.before.Store(&stall)
		require.NoError(t, h1.srv.Migrate(context.Background(), sid, home2, "us"))
		settle(DefaultLeaseTTL + 6*DefaultClaimInterval) // less than the two repair rounds that would restore a lost route
		require.True(t, once.Load(), "home-us-2 tried to fence the session")
		route, err := dir.RouteOf(context.Background(), sid, true)
		require.NoError(t, err, "the session keeps its route")
		require.Equal(t, home1, route.OwnerNode)
		require.Equal(t, epoch+2, route.Epoch, "home-us-1 took it over after home-us-2's acquisition")
		require.True(t, h1.holds(sid))
		_, err = dir.Lookup(context.Background(), b, true)
		require.NoError(t, err, "the partners still find their session")

		paused.paused.Store(false)
		settle(claimWarmUp + 4*DefaultClaimInterval)
		got := r.act(t, b, "court:accept", map[string]any{})
		require.True(t, got.OK, got.Error)
	})
}

// ownedHookDir runs after, once armed, at the end of each Owned.
type ownedHookDir struct {
	Directory
	after atomic.Pointer[func(node string)]
}

func (d *ownedHookDir) Owned(ctx context.Context, node string) ([]string, error) {
	ids, err := d.Directory.Owned(ctx, node)
	if f := d.after.Load(); f != nil {
		(*f)(node)
	}
	return ids, err
}

// TestMigrateRacesSourceClaimRound: home-us-1 migrates a session of its
// rendezvous share to home-us-2 while its own claim round is between
// listing the sessions filed under it (the session among them) and reading
// the ones it holds (the session dropped by then). The round sees an orphan
// that is its own; it must not take the session back from the hand-off
// (seen as e2e.TestOperate's migration "taken over by home-us-1 instead of
// home-us-2"): home-us-2 acquires it at the next epoch.
func TestMigrateRacesSourceClaimRound(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		mem := directory.NewMemory()
		hooked := &ownedHookDir{Directory: mem}
		o := options{dir: hooked, store: store.NewMemory(), quiet: true, leaseTTL: DefaultLeaseTTL, claimInterval: DefaultClaimInterval}
		o.node = home1
		h1 := start(t, o)
		o.node, o.dir = home2, mem
		h2 := start(t, o)
		settle(claimWarmUp + DefaultClaimInterval)
		r := &router{dir: mem, homes: map[string]*harness{home1: h1, home2: h2}, first: h1}
		var sid, user string
		for i := range 32 { // half the sessions are home-us-1's share
			a, b := fmt.Sprintf("A-src-%d", i), fmt.Sprintf("B-src-%d", i)
			served := r.act(t, a, "court:serve", map[string]any{"partnerId": b, "coupleId": nil, "judgeType": "swift"})
			require.True(t, served.OK, served.Error)
			if id := served.State.Session.ID; directory.Rendezvous(id, []string{home1, home2}) == home1 {
				sid, user = id, b
				break
			}
		}
		require.NotEmpty(t, sid, "no session of home-us-1's share")
		require.True(t, h1.holds(sid))
		epoch := routeOf(t, mem, sid).Epoch

		var migrated atomic.Bool
		migrate := func(node string) {
			if node == home1 && migrated.CompareAndSwap(false, true) {
				require.NoError(t, h1.srv.Migrate(context.Background(), sid, home2, "us"))
			}
		}
		hooked.after.Store(&migrate)
		settle(DefaultClaimInterval)
		require.True(t, migrated.Load(), "home-us-1's claim round ran")
		hooked.after.Store(nil)
		settle(4 * DefaultClaimInterval)
		require.Equal(t, directory.Route{SessionID: sid, HomeRegion: "us", OwnerNode: home2,
			OwnerInc: h2.incarnation(), Epoch: epoch + 1}, routeOf(t, mem, sid), "home-us-2 took it at the next epoch")
		require.True(t, h2.holds(sid))
		require.False(t, h1.holds(sid), "home-us-1 did not take it back")
		got := r.act(t, user, "court:accept", map[string]any{})
		require.True(t, got.OK, got.Error)
	})
}
