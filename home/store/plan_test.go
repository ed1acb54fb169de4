package store_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

// TestFencedWritesFindTheirRowByID: a home that starts on a fresh schema
// plans its statements while court_sessions is nearly empty and never
// analyzed, and each pool connection keeps the generic plan it made then
// until something invalidates it (an ANALYZE, which never comes where
// autovacuum is off, as on this machine). Whatever was planned then, a
// fenced commit and a claim must find their row by id, not walk every live
// session: with the live-session index keyed by home_region (migration
// 0002), that plan read every live session's index entry on every commit,
// and the benchmark's Postgres spent about a third of its CPU there
// (docs/performance.md, issue 11).
func TestFencedWritesFindTheirRowByID(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := pgtest.Pool(t).Config()
	cfg.MaxConns = 1 // one backend: its cached plans and its statistics are the test's
	one, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(one.Close)
	st, err := store.New(store.Config{DB: one})
	require.NoError(t, err)

	s := create(t, st, newUser("c"), newUser("p"), 1)
	flip := func(n int) {
		for range n {
			s = next(s, func(n *court.Session) { n.Creator.VerdictAccepted = !n.Creator.VerdictAccepted })
			require.NoError(t, st.Commit(ctx, commit(s, 1, "accept_verdict")))
		}
	}
	flip(8) // past Postgres's five custom plans: the generic one is made on a one-row table
	const live = 200
	for range live {
		create(t, st, newUser("c"), newUser("p"), 1)
	}
	claimed := create(t, st, newUser("c"), newUser("p"), 1)

	const commits = 20
	before := sessionIndexReads(t, one)
	flip(commits)
	perCommit := float64(sessionIndexReads(t, one)-before) / commits
	// One entry, or a few: the row's versions that were not HOT updates
	// leave entries of their own until a scan marks them dead. Never one
	// per live session.
	const few = live / 10
	require.Less(t, perCommit, float64(few), "a fenced commit read %.1f index entries of court_sessions with %d sessions live", perCommit, live)

	before = sessionIndexReads(t, one)
	for epoch := uint64(2); epoch < 10; epoch++ {
		_, err := st.Fence(ctx, claimed.ID, epoch)
		require.NoError(t, err)
	}
	perClaim := float64(sessionIndexReads(t, one)-before) / 8
	require.Less(t, perClaim, float64(few), "a claim read %.1f index entries of court_sessions with %d sessions live", perClaim, live)
}

// sessionIndexReads returns the index entries of court_sessions read so far,
// with the one backend's own counts flushed first.
func sessionIndexReads(t *testing.T, one *pgxpool.Pool) int64 {
	t.Helper()
	_, err := one.Exec(t.Context(), `SELECT pg_stat_force_next_flush()`)
	require.NoError(t, err)
	var n int64
	require.NoError(t, one.QueryRow(t.Context(), `SELECT coalesce(sum(idx_tup_read), 0)::bigint
		FROM pg_stat_user_indexes WHERE relid = 'court_sessions'::regclass`).Scan(&n))
	return n
}
