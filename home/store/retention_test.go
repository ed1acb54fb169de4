package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/home/store"
)

const retention = 30 * 24 * time.Hour

// history inserts versions from..to of sessionID's history, at age ago.
func history(t *testing.T, pool *pgxpool.Pool, sessionID string, from, to int, age time.Duration) {
	t.Helper()
	_, err := pool.Exec(t.Context(), `INSERT INTO court_transitions (session_id, version, phase, owner_epoch, node, event, at)
		SELECT $1, v, 'EVIDENCE', 1, 'n1', 'x', now() - $4::bigint * interval '1 microsecond' FROM generate_series($2::int, $3::int) AS v`,
		sessionID, from, to, age.Microseconds())
	require.NoError(t, err)
}

// outboxRows inserts n outbox rows created created ago, delivered delivered
// ago (never when delivered is negative), and returns the first id.
func outboxRows(t *testing.T, pool *pgxpool.Pool, n int, created, delivered time.Duration) int64 {
	t.Helper()
	deliveredMicros := delivered.Microseconds()
	if delivered < 0 {
		deliveredMicros = -1
	}
	var first int64
	err := pool.QueryRow(t.Context(), `WITH ins AS (
		INSERT INTO court_outbox (session_id, kind, payload, created_at, delivered_at, attempts)
		SELECT $1, 'push', '{}', now() - $3::bigint * interval '1 microsecond',
			CASE WHEN $4::bigint < 0 THEN NULL ELSE now() - $4::bigint * interval '1 microsecond' END,
			CASE WHEN $4::bigint < 0 THEN 7 ELSE 0 END
		FROM generate_series(1, $2::int) RETURNING id)
		SELECT min(id) FROM ins`, newID(), n, created.Microseconds(), deliveredMicros).Scan(&first)
	require.NoError(t, err)
	return first
}

// prunedRows reads court_store_pruned_rows_total{table}.
func prunedRows(t *testing.T, reg *prometheus.Registry, table string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if f.GetName() == "court_store_pruned_rows_total" && m.GetLabel()[0].GetValue() == table {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no court_store_pruned_rows_total{table=%q}", table)
	return 0
}

func newPruner(t *testing.T, pool *pgxpool.Pool, batch int, reg prometheus.Registerer) *store.Pruner {
	t.Helper()
	p, err := store.NewPruner(store.PrunerConfig{DB: pool, Retention: retention, Batch: batch, Registerer: reg})
	require.NoError(t, err)
	return p
}

// TestPruneDeletesOnlyOldRowsNoLongerNeeded: a round deletes the history of
// ended sessions and the delivered outbox rows older than the retention, in
// several batches, and keeps a live session's history however old, recent
// rows, and outbox rows not delivered (pending or failing) however old.
func TestPruneDeletesOnlyOldRowsNoLongerNeeded(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	old, recent := retention+time.Hour, retention-time.Hour

	live := create(t, st, newUser("c"), newUser("p"), 1) // writes version 1 of its history now
	history(t, pool, live.ID, 2, 6, old)
	endedKept := create(t, st, newUser("c"), newUser("p"), 1)
	_, err := pool.Exec(ctx, `UPDATE court_sessions SET ended_at = now() WHERE id = $1`, endedKept.ID)
	require.NoError(t, err)
	history(t, pool, endedKept.ID, 2, 6, old)
	gone := newID() // an ended session whose row was deleted
	history(t, pool, gone, 1, 7, old)
	history(t, pool, gone, 8, 9, recent)

	oldDelivered := outboxRows(t, pool, 5, old, old)
	outboxRows(t, pool, 2, recent, recent)
	lateDelivered := outboxRows(t, pool, 1, old, recent)
	pending := outboxRows(t, pool, 2, old, -1)
	outboxBefore := count(t, pool, `SELECT count(*) FROM court_outbox`)

	reg := prometheus.NewRegistry()
	p := newPruner(t, pool, 2, reg)
	n, err := p.Round(ctx)
	require.NoError(t, err)
	require.Equal(t, store.Pruned{Transitions: 5 + 7, Outbox: 5}, n)

	require.Equal(t, 6, rowsOf(t, pool, "court_transitions", live.ID), "a live session keeps its whole history")
	require.Equal(t, 1, rowsOf(t, pool, "court_transitions", endedKept.ID), "only the recent version 1 is left")
	require.Equal(t, 2, rowsOf(t, pool, "court_transitions", gone), "only the recent versions are left")
	require.Zero(t, count(t, pool, `SELECT count(*) FROM court_outbox WHERE id BETWEEN $1 AND $1 + 4`, oldDelivered))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM court_outbox WHERE id = $1`, lateDelivered),
		"retention counts from the delivery")
	require.Equal(t, 2, count(t, pool, `SELECT count(*) FROM court_outbox WHERE id >= $1 AND delivered_at IS NULL`, pending),
		"rows not delivered are never pruned")
	require.Equal(t, outboxBefore-5, count(t, pool, `SELECT count(*) FROM court_outbox`))
	got, err := st.Get(ctx, live.ID)
	require.NoError(t, err)
	sameSession(t, live, got)

	require.Equal(t, 12.0, prunedRows(t, reg, "court_transitions"))
	require.Equal(t, 5.0, prunedRows(t, reg, "court_outbox"))
	again, err := p.Round(ctx)
	require.NoError(t, err)
	require.Zero(t, again, "a second round finds nothing")
}

// TestConcurrentPrunersShareTheWork: two homes pruning at once delete each
// old row exactly once between them, never wait on each other, and leave
// recent rows.
func TestConcurrentPrunersShareTheWork(t *testing.T) {
	t.Parallel()
	_, pool := newStore(t)
	old := retention + time.Hour
	for range 50 {
		history(t, pool, newID(), 1, 40, old)
	}
	keep := newID()
	history(t, pool, keep, 1, 3, time.Minute)
	outboxRows(t, pool, 1500, old, old)
	outboxRows(t, pool, 10, time.Minute, time.Minute)

	a, b := newPruner(t, pool, 50, nil), newPruner(t, pool, 50, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // a deadlock would fail, not hang
	defer cancel()
	var na, nb store.Pruned
	var g errgroup.Group
	g.Go(func() (err error) { na, err = a.Round(ctx); return err })
	g.Go(func() (err error) { nb, err = b.Round(ctx); return err })
	require.NoError(t, g.Wait())
	require.Equal(t, int64(50*40), na.Transitions+nb.Transitions, "each old history row deleted exactly once")
	require.Equal(t, int64(1500), na.Outbox+nb.Outbox, "each old outbox row deleted exactly once")
	t.Logf("split: transitions %d/%d, outbox %d/%d", na.Transitions, nb.Transitions, na.Outbox, nb.Outbox)
	require.Equal(t, 3, count(t, pool, `SELECT count(*) FROM court_transitions`))
	require.Equal(t, 3, rowsOf(t, pool, "court_transitions", keep))
	require.Equal(t, 10, count(t, pool, `SELECT count(*) FROM court_outbox`))
}

// TestPrunerRunsOnItsInterval: Run prunes without being asked, and returns
// nil once its context ends.
func TestPrunerRunsOnItsInterval(t *testing.T) {
	t.Parallel()
	_, pool := newStore(t)
	history(t, pool, newID(), 1, 3, retention+time.Hour)
	p, err := store.NewPruner(store.PrunerConfig{DB: pool, Retention: retention, Interval: 20 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	require.Eventually(t, func() bool { return count(t, pool, `SELECT count(*) FROM court_transitions`) == 0 },
		5*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

func TestNewPrunerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	_, pool := newStore(t)
	for name, cfg := range map[string]store.PrunerConfig{
		"no db":          {Retention: retention},
		"retention < 1h": {DB: pool, Retention: 59 * time.Minute},
		"negative batch": {DB: pool, Batch: -1},
	} {
		_, err := store.NewPruner(cfg)
		require.Error(t, err, name)
	}
	p, err := store.NewPruner(store.PrunerConfig{DB: pool})
	require.NoError(t, err, "zero values are the defaults")
	require.NotNil(t, p)
}

// TestPruneDiscardedNotDead: old discarded outbox rows (--webhook none) are
// pruned like delivered ones; dead-lettered rows wait for an operator.
func TestPruneDiscardedNotDead(t *testing.T) {
	t.Parallel()
	_, pool := newStore(t)
	old := (retention + time.Hour).Microseconds()
	_, err := pool.Exec(t.Context(), `INSERT INTO court_outbox (session_id, kind, payload, created_at, discarded_at, dead_at)
		VALUES ($1, 'push', '{}', now() - $2::bigint * interval '1 microsecond', now() - $2::bigint * interval '1 microsecond', NULL),
		       ($1, 'push', '{}', now() - $2::bigint * interval '1 microsecond', NULL, now() - $2::bigint * interval '1 microsecond')`,
		newID(), old)
	require.NoError(t, err)
	n, err := newPruner(t, pool, 10, nil).Round(t.Context())
	require.NoError(t, err)
	require.Equal(t, store.Pruned{Outbox: 1}, n)
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM court_outbox WHERE dead_at IS NOT NULL`))
	require.Zero(t, count(t, pool, `SELECT count(*) FROM court_outbox WHERE discarded_at IS NOT NULL`))
}
