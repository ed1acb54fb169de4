package home

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

func TestServeAndAccept(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)

	resp := h.serve(t, a, b)
	_, got := h.do(t, a, "court:register", `{}`)
	require.Equal(t, "PENDING_CREATOR", got.State.MyViewPhase)
	require.Equal(t, uint64(1), resp.Version)
	require.NotEmpty(t, resp.SessionID)

	evA, stA := h.mesh.last(t, edgeUS, a)
	evB, stB := h.mesh.last(t, edgeAsia, b)
	require.Equal(t, "PENDING_CREATOR", stA.MyViewPhase)
	require.Equal(t, "PENDING_PARTNER", stB.MyViewPhase)
	require.Equal(t, a+"-"+b, stB.Session.CoupleID)
	require.Equal(t, resp.SessionID, evA.SessionID)
	require.Equal(t, uint64(1), evB.Version)
	require.Equal(t, uint64(1), stB.Session.Version)
	require.Empty(t, h.mesh.states(t, edgeAsia, a), "no push where a has no socket")

	resp, got = h.do(t, b, "court:accept", `{}`)
	require.True(t, got.OK, got.Error)
	require.Equal(t, "EVIDENCE", got.State.MyViewPhase)
	require.Equal(t, uint64(2), resp.Version)
	_, stA = h.mesh.last(t, edgeUS, a)
	_, stB = h.mesh.last(t, edgeAsia, b)
	require.Equal(t, "EVIDENCE", stA.Phase)
	require.Equal(t, "EVIDENCE", stA.MyViewPhase)
	require.Equal(t, "EVIDENCE", stB.MyViewPhase)

	// b acted through edgeUS, so b's sockets there follow too.
	require.Len(t, h.mesh.states(t, edgeUS, b), 1)
	require.InDelta(t, 1, metricValue(t, h.srv.metrics.transitions.WithLabelValues("EVIDENCE")), 0)
	require.InDelta(t, 1, metricValue(t, h.srv.metrics.sessions), 0)
}

func TestAcceptRefusals(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)

	_, got := h.do(t, a, "court:accept", `{}`)
	require.Equal(t, ack{Error: "Not the intended partner"}, got)
	_, got = h.do(t, "stranger", "court:accept", `{}`)
	require.Equal(t, ack{Error: "No pending session found"}, got)

	_, got = h.do(t, b, "court:accept", `{}`)
	require.True(t, got.OK)
	_, got = h.do(t, b, "court:accept", `{}`)
	require.Equal(t, ack{Error: "Session not in PENDING phase"}, got)
	require.InDelta(t, 3, metricValue(t, h.srv.metrics.actions.WithLabelValues("court:accept", resultRejected)), 0)
}

func TestCancel(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)

	_, got := h.do(t, b, "court:cancel", `{}`)
	require.Equal(t, ack{Error: "Only creator can cancel"}, got)

	resp, got := h.do(t, a, "court:cancel", `{}`)
	require.True(t, got.OK)
	require.Equal(t, court.IdleState(), *got.State)
	require.Equal(t, uint64(2), resp.Version, "IDLE orders after the last state")
	for edge, user := range map[string]string{edgeUS: a, edgeAsia: b} {
		ev, st := h.mesh.last(t, edge, user)
		require.Equal(t, court.IdleState(), st)
		require.Equal(t, uint64(2), ev.Version)
		require.Equal(t, resp.SessionID, ev.SessionID)
	}
	_, err := h.dir.Lookup(context.Background(), a, true)
	require.ErrorIs(t, err, directory.ErrNotFound)
	require.InDelta(t, 0, metricValue(t, h.srv.metrics.sessions), 0)

	_, got = h.do(t, a, "court:cancel", `{}`)
	require.Equal(t, ack{Error: "No session found"}, got)
	h.serve(t, b, a) // both are free again
}

func TestDismiss(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)
	_, got := h.do(t, b, "court:accept", `{}`)
	require.True(t, got.OK)

	resp, _ := h.do(t, b, "court:dismiss", `{}`)
	require.JSONEq(t, `{"ok":true}`, string(resp.Ack))
	require.Nil(t, resp.CourtError)
	ev, st := h.mesh.last(t, edgeUS, a)
	require.Equal(t, court.IdleState(), st)
	require.Equal(t, uint64(3), ev.Version)
	_, st = h.mesh.last(t, edgeAsia, b)
	require.Equal(t, court.IdleState(), st)

	_, got = h.do(t, a, "court:dismiss", `{}`)
	require.Equal(t, ack{Error: "No session found"}, got)
}

func TestRegister(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)

	resp, _ := h.do(t, a, "court:register", fmt.Sprintf(`{"userId":%q}`, a))
	require.JSONEq(t, `{"ok":true,"state":{"phase":"IDLE","myViewPhase":"IDLE","session":null}}`, string(resp.Ack))
	require.Empty(t, resp.SessionID)

	served := h.serve(t, a, b)
	resp, got := h.do(t, b, "court:register", "")
	require.True(t, got.OK)
	require.Equal(t, "PENDING_PARTNER", got.State.MyViewPhase)
	require.Equal(t, served.SessionID, got.State.Session.ID)
	require.Equal(t, served.SessionID, resp.SessionID)
	require.Equal(t, uint64(1), resp.Version)
	require.NotContains(t, string(resp.Ack), "needs")

	_, got = h.do(t, b, protocol.ReadState, "")
	require.Equal(t, "PENDING_PARTNER", got.State.MyViewPhase)
}

// TestEveryRequestAcks is R1: every request, whatever its payload, is acked.
func TestEveryRequestAcks(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	for _, tc := range []struct {
		event, payload string
		user           string
		want           string // "" = ok
	}{
		{"court:accept", `{}`, a, "No pending session found"},
		{"court:accept", `null`, a, "No pending session found"},
		{"court:accept", ``, a, "No pending session found"},
		{"court:cancel", `{}`, a, "No session found"},
		{"court:cancel", ``, a, "No session found"},
		{"court:dismiss", `{}`, a, "No session found"},
		{"court:dismiss", `null`, a, "No session found"},
		{"court:register", `{}`, a, ""},
		{"court:serve", `"bob"`, a, "Invalid payload"},
		{"court:serve", `[1]`, a, "Invalid payload"},
		{"court:serve", `{"partnerId":7}`, a, "Invalid payload"},
		{"court:serve", `{}`, a, "partnerId required"},
		{"court:serve", ``, a, "partnerId required"},
		{"court:serve", `{"partnerId":""}`, a, "partnerId required"},
		{"court:serve", fmt.Sprintf(`{"partnerId":%q}`, a), a, "Invalid partnerId for current user"},
		{"court:accept", `"x"`, a, "Invalid payload"},
		{"court:submit_evidence", `{"evidence":"e","feelings":"f","needs":"n"}`, a, "No active session"},
		{"court:submit_evidence", `{"evidence":5}`, a, "Invalid payload"},
		{"court:resolution_pick", `{}`, a, "resolutionId required"},
		{"court:resolution_hybrid", `{}`, a, "No active session"},
		{"court:bogus", `{}`, a, "Unknown event"},
		{"", `{}`, a, "Unknown event"},
		{"court:register", `{}`, "", "Not registered"},
		{"court:serve", fmt.Sprintf(`{"partnerId":%q}`, b), a, ""},
		{"court:serve", fmt.Sprintf(`{"partnerId":%q}`, b), a, "One or both users already in a session"},
		{"court:serve", fmt.Sprintf(`{"partnerId":%q}`, a), "carol", "One or both users already in a session"},
	} {
		resp, got := h.do(t, tc.user, tc.event, tc.payload)
		if tc.want == "" {
			require.True(t, got.OK, "%s %s: %s", tc.event, tc.payload, got.Error)
			require.Nil(t, resp.CourtError)
			continue
		}
		require.Equal(t, ack{Error: tc.want}, got, "%s %s", tc.event, tc.payload)
	}
	require.InDelta(t, 2, metricValue(t, h.srv.metrics.actions.WithLabelValues(protocol.LabelOther, resultRejected)), 0)
}

func TestPendingTimeoutTossesOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, options{scale: 0.0001}) // PENDING: 60 ms
		a, b := h.pair(t)
		resp := h.serve(t, a, b)

		eventually(t, func() bool {
			return h.mesh.count(edgeUS, a) == 2 && h.mesh.count(edgeAsia, b) == 2
		}, "IDLE pushed to both")
		for edge, user := range map[string]string{edgeUS: a, edgeAsia: b} {
			ev, st := h.mesh.last(t, edge, user)
			require.Equal(t, court.IdleState(), st)
			require.Equal(t, resp.SessionID, ev.SessionID)
			require.Equal(t, uint64(2), ev.Version)
		}
		_, err := h.dir.Lookup(context.Background(), b, true)
		require.ErrorIs(t, err, directory.ErrNotFound)
		_, armed := h.srv.rt.timers.next()
		require.False(t, armed, "no timer left to fire again")
		require.InDelta(t, 1, metricValue(t, h.srv.metrics.fires.WithLabelValues(fireDone)), 0)
		require.InDelta(t, 1, metricValue(t, h.srv.metrics.transitions.WithLabelValues("IDLE")), 0)
		_, got := h.do(t, b, "court:register", `{}`)
		require.Equal(t, court.IdleState(), *got.State)
	})
}

func TestAcceptRearmsTimer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h := start(t, options{scale: 0.0001}) // PENDING 60 ms, EVIDENCE 360 ms
		a, b := h.pair(t)
		h.serve(t, a, b)
		_, got := h.do(t, b, "court:accept", `{}`)
		require.True(t, got.OK)
		accepted := time.Now()

		eventually(t, func() bool { return h.mesh.count(edgeUS, a) == 3 }, "EVIDENCE tossed")
		require.GreaterOrEqual(t, time.Since(accepted), 300*time.Millisecond, "the PENDING timer did not fire")
		_, st := h.mesh.last(t, edgeUS, a)
		require.Equal(t, court.IdleState(), st)
		require.InDelta(t, 1, metricValue(t, h.srv.metrics.fires.WithLabelValues(fireDone)), 0)
	})
}

func TestCrossedServes(t *testing.T) {
	t.Parallel()
	dir, st := directory.NewMemory(), store.NewMemory()
	h1 := start(t, options{dir: dir, store: st, node: "home-us-1"})
	h2 := start(t, options{dir: dir, store: st, node: "home-us-2"})
	for i := range 20 {
		a, b := fmt.Sprintf("A%d", i), fmt.Sprintf("B%d", i)
		homes := [2]*harness{h1, h1}
		if i%2 == 1 {
			homes[1] = h2 // the two serves reach different homes
		}
		var wg sync.WaitGroup
		resps := make([]*wire.Response, 2)
		errs := make([]error, 2)
		for j, users := range [2][2]string{{a, b}, {b, a}} {
			wg.Go(func() {
				resps[j], errs[j] = homes[j].srv.HandleRequest(context.Background(), &wire.Request{
					UserID: users[0], Event: "court:serve", Payload: []byte(fmt.Sprintf(`{"partnerId":%q}`, users[1])),
				})
			})
		}
		wg.Wait()
		acks := make([]ack, 2)
		for j := range acks {
			require.NoError(t, errs[j])
			require.NoError(t, json.Unmarshal(resps[j].Ack, &acks[j]))
		}
		require.NotEqual(t, acks[0].OK, acks[1].OK, "exactly one serve wins: %+v", acks)
		for _, got := range acks {
			if !got.OK {
				require.Equal(t, "One or both users already in a session", got.Error)
			}
		}
		ra, err := dir.Lookup(context.Background(), a, true)
		require.NoError(t, err)
		rb, err := dir.Lookup(context.Background(), b, true)
		require.NoError(t, err)
		require.Equal(t, ra.SessionID, rb.SessionID)
	}
}

func TestNotOwner(t *testing.T) {
	t.Parallel()
	dir, st := directory.NewMemory(), store.NewMemory()
	other := start(t, options{dir: dir, store: st, node: "home-us-2"})
	h := start(t, options{dir: dir, store: st})
	a, b := h.pair(t)
	other.serve(t, a, b)

	for _, ev := range []string{"court:register", "court:accept", "court:cancel", "court:dismiss"} {
		resp, err := h.srv.HandleRequest(context.Background(), &wire.Request{UserID: b, Event: ev, Payload: []byte(`{}`)})
		require.Nil(t, resp)
		var we *wire.Error
		require.ErrorAs(t, err, &we)
		require.Equal(t, wire.CodeNotOwner, we.Code)
	}
	require.InDelta(t, 1, metricValue(t, h.srv.metrics.actions.WithLabelValues("court:accept", resultNotOwner)), 0)
}

// TestLostSessionIsReleased: a route left in the directory for a session
// the store does not have (its creation never committed) is taken over by
// the claim loop, found missing in the store, and removed, so its users can
// serve again.
func TestLostSessionIsReleased(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := directory.NewMemory()
		h := start(t, options{dir: dir})
		a, b := h.pair(t)
		lost := "5b0e0a51-8a1c-4a47-9a4b-2f0c1b0e0a51"
		route := directory.Route{SessionID: lost, HomeRegion: "us", OwnerNode: "home-us-9", OwnerInc: "", Epoch: 1}
		require.NoError(t, dir.CreateSession(context.Background(), route, a, b))
		eventually(t, func() bool {
			_, err := dir.Lookup(context.Background(), a, true)
			return errors.Is(err, directory.ErrNotFound)
		}, "the lost route is removed")
		h.serve(t, a, b)
	})
}

// flakyStore is a store whose Commit fails while fail is set.
type flakyStore struct {
	Store
	mu   sync.Mutex
	fail bool
}

func (s *flakyStore) Commit(ctx context.Context, c store.Commit) error {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail {
		return errors.New("postgres: connection refused")
	}
	return s.Store.Commit(ctx, c)
}

func (s *flakyStore) setFail(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = v
}

func TestFailedCommitChangesNothing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &flakyStore{Store: store.NewMemory()}
		h := start(t, options{store: st})
		a, b := h.pair(t)
		h.serve(t, a, b)

		st.setFail(true)
		_, got := h.do(t, a, "court:cancel", `{}`)
		require.Equal(t, ack{Error: protocol.MsgStoreFailed}, got)
		require.Len(t, h.mesh.states(t, edgeAsia, b), 1, "nothing pushed")

		// The outcome of a failed commit is unknown, so the node reloads the
		// session from the store: it is back, unchanged, after a claim round.
		st.setFail(false)
		eventually(t, func() bool {
			resp, err := h.srv.HandleRequest(context.Background(), &wire.Request{UserID: b, Event: "court:register"})
			return err == nil && strings.Contains(string(resp.Ack), "PENDING_PARTNER")
		}, "the session is reloaded unchanged")
		resp, got := h.do(t, a, "court:cancel", `{}`)
		require.True(t, got.OK)
		require.Equal(t, uint64(2), resp.Version)
	})
}

// TestTimerRetriesFailedCommit: a timer whose commit fails fires again
// retryDelay later, until the commit goes through.
func TestTimerRetriesFailedCommit(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &flakyStore{Store: store.NewMemory()}
		h := start(t, options{store: st, scale: 0.0001})
		a, b := h.pair(t)
		st.setFail(true)
		h.serve(t, a, b)
		time.Sleep(2*retryDelay + time.Second)
		synctest.Wait()
		require.GreaterOrEqual(t, metricValue(t, h.srv.metrics.fires.WithLabelValues(fireFailed)), 2.0, "the timer retries")
		require.Equal(t, 1, h.mesh.count(edgeAsia, b), "nothing pushed while the commit fails")
		st.setFail(false)
		time.Sleep(retryDelay)
		synctest.Wait()
		require.Equal(t, 2, h.mesh.count(edgeAsia, b), "IDLE after the retry")
		require.InDelta(t, 1, metricValue(t, h.srv.metrics.fires.WithLabelValues(fireDone)), 0)
	})
}

func TestMetricsRegistered(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	families, err := h.reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	require.Subset(t, names, []string{"court_home_actions_total", "court_home_transitions_total", "court_home_sessions", "court_home_timer_fires_total"})
	_, err = New(Config{NodeID: "n", Region: "us", Directory: directory.NewMemory(), Store: store.NewMemory(),
		Judge: devJudge(t), Mesh: &fakeMesh{}, Registerer: h.reg})
	require.Error(t, err, "a second home on the same registerer")
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{NodeID: "n", Region: "us", Directory: directory.NewMemory(), Store: store.NewMemory(),
		Judge: devJudge(t), Mesh: &fakeMesh{}})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Run(context.Background()) }()
	<-srv.Ready()
	require.ErrorIs(t, srv.Run(context.Background()), ErrRunning)
	require.NoError(t, srv.Close())
	require.NoError(t, srv.Close())
	require.NoError(t, <-done)

	_, err = srv.HandleRequest(context.Background(), &wire.Request{UserID: "a", Event: "court:register"})
	var we *wire.Error
	require.ErrorAs(t, err, &we)
	require.Equal(t, wire.CodeShuttingDown, we.Code)
}

func TestConfig(t *testing.T) {
	t.Parallel()
	ok := Config{NodeID: "n", Region: "us", Directory: directory.NewMemory(), Store: store.NewMemory(),
		Judge: devJudge(t), Mesh: &fakeMesh{}}
	for name, mutate := range map[string]func(*Config){
		"node":      func(c *Config) { c.NodeID = "" },
		"region":    func(c *Config) { c.Region = "" },
		"directory": func(c *Config) { c.Directory = nil },
		"mesh":      func(c *Config) { c.Mesh = nil },
		"store":     func(c *Config) { c.Store = nil },
		"judge":     func(c *Config) { c.Judge = nil },
		"lease":     func(c *Config) { c.LeaseTTL = -1 },
		"scale":     func(c *Config) { c.TimerScale = -1 },
	} {
		c := ok
		mutate(&c)
		_, err := New(c)
		require.ErrorIs(t, err, ErrConfig, name)
	}
	srv, err := New(ok)
	require.NoError(t, err)
	require.Equal(t, court.DurationsFromScale(1), srv.rt.durations)
}

func TestSessionID(t *testing.T) {
	t.Parallel()
	id, err := newSessionID()
	require.NoError(t, err)
	require.Len(t, id, 36)
	require.Equal(t, byte('4'), id[14])
	require.Contains(t, "89ab", string(id[19]))
	require.Equal(t, 4, strings.Count(id, "-"))
}

// TestPlacedSessionIDStaysHere: a new session's id hashes to the node that
// created it, so it is not handed off at the next claim round.
func TestPlacedSessionIDStaysHere(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{NodeID: "home-us-2", Region: "us", Directory: directory.NewMemory(), Store: store.NewMemory(),
		Judge: devJudge(t), Mesh: &fakeMesh{}})
	require.NoError(t, err)
	live := []string{"home-us-1", "home-us-2", "home-us-3"}
	srv.own.live.Store(&live)
	for range 50 {
		id, err := srv.rt.placedSessionID()
		require.NoError(t, err)
		require.Equal(t, "home-us-2", directory.Rendezvous(id, live))
	}
}

// TestRetriedActionGetsTheSameAnswer: an edge that lost the answer to an
// action and sends it again (same request id) gets the first answer, not a
// second application or a refusal.
func TestRetriedActionGetsTheSameAnswer(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)
	req := &wire.Request{ID: "req-1", UserID: b, Event: "court:accept", Payload: []byte(`{}`), EdgeNode: edgeAsia}
	first, err := h.srv.HandleRequest(context.Background(), req)
	require.NoError(t, err)
	again, err := h.srv.HandleRequest(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Contains(t, string(again.Ack), `"ok":true`)
	other, err := h.srv.HandleRequest(context.Background(), &wire.Request{ID: "req-2", UserID: b, Event: "court:accept", Payload: []byte(`{}`)})
	require.NoError(t, err)
	require.Contains(t, string(other.Ack), "Session not in PENDING phase", "a new action is not deduplicated")
}

// lostAnswerStore applies a Commit and then reports an error, as when the
// connection to Postgres breaks after the commit reached it.
type lostAnswerStore struct {
	Store
	mu   sync.Mutex
	lose bool
}

func (s *lostAnswerStore) Commit(ctx context.Context, c store.Commit) error {
	err := s.Store.Commit(ctx, c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lose && err == nil {
		s.lose = false
		return errors.New("postgres: connection reset after commit")
	}
	return err
}

// TestLostCommitAnswerRecovers: a commit that went through although its
// answer was lost leaves the held copy behind the store; the next write is
// fenced, and the node must not strand the session: it releases it, takes it
// over again at the next epoch from the store, and the session goes on.
func TestLostCommitAnswerRecovers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := &lostAnswerStore{Store: store.NewMemory()}
		h := start(t, options{store: st})
		a, b := h.pair(t)
		h.serve(t, a, b)
		st.mu.Lock()
		st.lose = true
		st.mu.Unlock()
		_, got := h.do(t, b, "court:accept", `{}`)
		require.Equal(t, ack{Error: protocol.MsgStoreFailed}, got, "the answer was lost")
		eventually(t, func() bool {
			resp, err := h.srv.HandleRequest(context.Background(), &wire.Request{UserID: b, Event: protocol.ReadState})
			return err == nil && strings.Contains(string(resp.Ack), `"phase":"EVIDENCE"`)
		}, "the accept that did commit is the state once the session is reloaded")
		_, got = h.do(t, a, "court:submit_evidence", `{"evidence":"e","feelings":"f","needs":"n"}`)
		require.True(t, got.OK, got.Error)
	})
}

// TestIdleIsTheProtocols: the IDLE ack the home encodes is the one the
// edge answers by itself.
func TestIdleIsTheProtocols(t *testing.T) {
	t.Parallel()
	resp, err := ackState(nil, "")
	require.NoError(t, err)
	require.JSONEq(t, string(protocol.IdleAck), string(resp.Ack))
}
