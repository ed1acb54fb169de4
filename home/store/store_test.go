package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

func TestMigrateIsIdempotentAndSafeConcurrently(t *testing.T) {
	t.Parallel()
	pool := pgtest.Empty(t)
	var g errgroup.Group
	for range 4 {
		g.Go(func() error { return store.Migrate(t.Context(), pool) })
	}
	require.NoError(t, g.Wait())
	require.NoError(t, store.Migrate(t.Context(), pool))
	require.Equal(t, 9, count(t, pool, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`))
	for _, table := range []string{"court_sessions", "court_session_users", "court_transitions", "cases", "verdicts", "court_outbox"} {
		require.Zero(t, count(t, pool, "SELECT count(*) FROM "+table), table)
	}
}

func TestCreateAndCommit(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	creator, partner := newUser("c"), newUser("p")
	s := newSession(t, creator, partner)
	effects := s.TakeEffects()
	require.Len(t, effects, 1)
	notify := effects[0].(court.Notify)
	require.Equal(t, []string{partner}, notify.UserIDs)
	require.NoError(t, st.Create(ctx, store.Create{Session: s, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve", Effects: effects}))

	got, err := st.Get(ctx, s.ID)
	require.NoError(t, err)
	sameSession(t, s, got)
	require.Equal(t, 2, rowsOf(t, pool, "court_session_users", s.ID))

	var status, coupleKey string
	var coupleNull, partnerJoined bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, couple_key, couple_id IS NULL, partner_joined
		FROM court_sessions WHERE id = $1`, s.ID).Scan(&status, &coupleKey, &coupleNull, &partnerJoined))
	require.Equal(t, "PENDING", status)
	require.Equal(t, creator+"-"+partner, coupleKey)
	require.True(t, coupleNull, "a composite couple id is not a uuid (R22)")
	require.False(t, partnerJoined)

	var payload store.Push
	require.NoError(t, pool.QueryRow(ctx, `SELECT payload FROM court_outbox WHERE session_id = $1 AND kind = 'push'`, s.ID).Scan(&payload))
	require.Equal(t, store.Push{UserID: partner, Type: court.NotifyCourtSession, Category: "court_sessions", Title: notify.Title, Body: notify.Body,
		Data: store.PushData{Type: court.NotifyCourtSession, Screen: "courtroom", SessionID: s.ID}}, payload)

	accepted := s.Clone()
	require.NoError(t, accepted.Accept(partner, time.Now(), durations))
	require.NoError(t, st.Commit(ctx, commit(accepted, 1, "accept")))
	got, err = st.Get(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, court.PhaseEvidence, got.Phase)
	require.EqualValues(t, 2, got.Version)

	hist, err := st.Transitions(ctx, s.ID)
	require.NoError(t, err)
	require.Len(t, hist, 2)
	require.Equal(t, store.TransitionRow{SessionID: s.ID, Version: 2, Phase: court.PhaseEvidence, OwnerEpoch: 1, Node: "n1", Event: "accept", At: hist[1].At}, hist[1])
	require.Equal(t, "serve", hist[0].Event)
}

func TestCommitRefusedBySQL(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	notify := court.Notify{UserIDs: []string{"x"}, Type: "evidence_submitted"}
	for _, tc := range []struct {
		name  string
		epoch uint64
		prev  func(v uint64) uint64
	}{
		{"stale epoch", 1, func(v uint64) uint64 { return v }},
		{"newer epoch than stored", 3, func(v uint64) uint64 { return v }},
		{"stale version", 2, func(v uint64) uint64 { return v - 1 }},
		{"future version", 2, func(v uint64) uint64 { return v + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := create(t, st, newUser("c"), newUser("p"), 2)
			n := next(s, func(n *court.Session) { n.Phase = court.PhaseEvidence })
			c := commit(n, tc.epoch, "accept", notify, court.SaveCase{CaseID: newID()})
			c.Prev = tc.prev(s.Version)
			n.Version = c.Prev + 1
			require.ErrorIs(t, st.Commit(t.Context(), c), store.ErrFenced)
			require.Equal(t, 1, rowsOf(t, pool, "court_transitions", s.ID), "no transition row")
			require.Equal(t, 1, rowsOf(t, pool, "court_outbox", s.ID), "only the serve's outbox row")
			require.Zero(t, count(t, pool, `SELECT count(*) FROM cases`), "no case row")
			got, err := st.Get(t.Context(), s.ID)
			require.NoError(t, err)
			sameSession(t, s, got)
		})
	}
}

func TestCrossedCreatesOneWins(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	for range 50 {
		a, b := newUser("a"), newUser("b")
		ab, ba := newSession(t, a, b), newSession(t, b, a)
		errs := make([]error, 2)
		var g errgroup.Group
		for i, s := range []*court.Session{ab, ba} {
			g.Go(func() error {
				errs[i] = st.Create(t.Context(), store.Create{Session: s, Epoch: 1, Node: "n1", Event: "serve"})
				return nil
			})
		}
		require.NoError(t, g.Wait())
		winner, loser := ab, ba
		if errs[0] != nil {
			winner, loser = ba, ab
			errs[0], errs[1] = errs[1], errs[0]
		}
		require.NoError(t, errs[0])
		require.ErrorIs(t, errs[1], store.ErrUserBusy)
		require.Equal(t, 2, rowsOf(t, pool, "court_session_users", winner.ID))
		require.Zero(t, rowsOf(t, pool, "court_sessions", loser.ID))
		require.Zero(t, rowsOf(t, pool, "court_transitions", loser.ID))
	}
}

func TestFence(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	s := create(t, st, newUser("c"), newUser("p"), 1)

	got, err := st.Fence(ctx, s.ID, 2)
	require.NoError(t, err)
	sameSession(t, s, got)
	for _, epoch := range []uint64{1, 2} {
		_, err = st.Fence(ctx, s.ID, epoch)
		require.ErrorIs(t, err, store.ErrFenced, "epoch %d", epoch)
	}
	_, err = st.Fence(ctx, newID(), 9)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Fence(ctx, "not-a-uuid", 9)
	require.ErrorIs(t, err, store.ErrNotFound)

	n := next(s, nil)
	require.ErrorIs(t, st.Commit(ctx, commit(n, 1, "timer")), store.ErrFenced, "the old owner is fenced")
	require.NoError(t, st.Commit(ctx, commit(n, 2, "timer")), "the new owner commits")
}

func TestFenceMany(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := t.Context()
	const n = 1000
	sessions := make([]*court.Session, n)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range sessions {
		g.Go(func() error {
			sessions[i] = newSession(t, newUser("c"), newUser("p"))
			return st.Create(ctx, store.Create{Session: sessions[i], Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"})
		})
	}
	require.NoError(t, g.Wait())
	want := make([]store.SessionEpoch, 0, n+2)
	for _, s := range sessions {
		want = append(want, store.SessionEpoch{ID: s.ID, Epoch: 2})
	}
	want = append(want, store.SessionEpoch{ID: newID(), Epoch: 2}, store.SessionEpoch{ID: "bad", Epoch: 2})

	start := time.Now()
	fenced, err := st.FenceMany(ctx, want)
	require.NoError(t, err)
	t.Logf("FenceMany of %d sessions: %v", n, time.Since(start))
	require.Len(t, fenced, n)
	sameSession(t, sessions[7], fenced[sessions[7].ID])

	again, err := st.FenceMany(ctx, want)
	require.NoError(t, err)
	require.Empty(t, again, "already at that epoch")
	require.ErrorIs(t, st.Commit(ctx, commit(next(sessions[0], nil), 1, "timer")), store.ErrFenced)

	refs, err := st.ActiveSessions(ctx, "us")
	require.NoError(t, err)
	require.Len(t, refs, n)
	require.EqualValues(t, 2, refs[0].OwnerEpoch)
	none, err := st.ActiveSessions(ctx, "asia")
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestTossDeletesRow(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	creator, partner := newUser("c"), newUser("p")
	s := create(t, st, creator, partner, 1)
	tossed := s.Clone()
	require.NoError(t, tossed.Dismiss(partner))
	effects := tossed.TakeEffects()
	require.Len(t, effects, 1)
	job := effects[0].(court.MemoryJob)
	require.NoError(t, st.Commit(ctx, commit(tossed, 1, "dismiss", effects...)))

	_, err := st.Get(ctx, s.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Zero(t, rowsOf(t, pool, "court_session_users", s.ID))
	require.Equal(t, 2, rowsOf(t, pool, "court_transitions", s.ID), "the history survives")
	var payload store.MemoryJob
	require.NoError(t, pool.QueryRow(ctx, `SELECT payload FROM court_outbox WHERE session_id = $1 AND kind = 'memory_job'`, s.ID).Scan(&payload))
	require.Equal(t, "case_extraction", payload.JobType)
	require.Nil(t, payload.CaseID)
	require.JSONEq(t, string(job.Case), string(payload.Case))

	require.ErrorIs(t, st.Commit(ctx, commit(next(tossed, nil), 1, "again")), store.ErrFenced)
	create(t, st, partner, creator, 1) // both users are free again
}

// The outbox rows of a transition, written in one statement, keep the order
// of its effects.
func TestOutboxRowsInEffectOrder(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	s := create(t, st, newUser("c"), newUser("p"), 1)
	n := next(s, func(n *court.Session) { n.Phase = court.PhaseEvidence })
	require.NoError(t, st.Commit(t.Context(), commit(n, 1, "accept",
		court.Notify{UserIDs: []string{"u1", "u2"}, Type: court.NotifyEvidenceSubmitted},
		court.MemoryJob{SessionID: s.ID},
		court.Notify{UserIDs: []string{"u3"}, Type: court.NotifyEvidenceSubmitted})))
	rows, err := pool.Query(t.Context(), `SELECT kind, coalesce(payload->>'userId', '') FROM court_outbox
		WHERE session_id = $1 ORDER BY id OFFSET 1`, s.ID)
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var kind, user string
		require.NoError(t, rows.Scan(&kind, &user))
		got = append(got, kind+":"+user)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"push:u1", "push:u2", "memory_job:", "push:u3"}, got)
}
