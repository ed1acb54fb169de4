package outbox_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"courtmesh/home/outbox"
	"courtmesh/home/store/pgtest"
)

// BenchmarkDeliver delivers b.N rows, queued beforehand, to a webhook that
// accepts every POST, in rounds of outbox.DefaultBatch rows and of 4, and
// reports per delivered row the CPU of the dispatcher's Postgres backends
// (/proc/<pid>/schedstat) and the statements it sent: each round's begin,
// claim, outcomes and commit, and the backlog count after it.
func BenchmarkDeliver(b *testing.B) {
	for _, batch := range []int{outbox.DefaultBatch, 4} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) { benchmarkDeliver(b, batch) })
	}
}

func benchmarkDeliver(b *testing.B, batch int) {
	pool := pgtest.Pool(b)
	ctx := b.Context()
	_, err := pool.Exec(ctx, `INSERT INTO court_outbox (session_id, kind, payload)
		SELECT $1, 'push', jsonb_build_object('userId', 'u' || i) FROM generate_series(1, $2) AS i`, sessionID, b.N)
	require.NoError(b, err)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	// The dispatcher's pool of its own: only its backends are counted.
	cfg := pool.Config()
	var statements statementCounter
	cfg.ConnConfig.Tracer = &statements
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(b, err)
	defer db.Close()
	require.NoError(b, db.Ping(ctx)) // the connection's start-up is not counted
	d, err := outbox.New(outbox.Config{DB: db, Webhook: srv.URL, Client: srv.Client(), Secret: secret,
		Batch: batch, PollInterval: time.Hour, Registerer: prometheus.NewRegistry()})
	require.NoError(b, err)

	cpu0, sent0 := pgtest.BackendCPU(b, db), statements.n.Load()
	b.ResetTimer()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitDelivered(b, pool)
	b.StopTimer()
	// Shutdown lets the round in flight finish: a cancelled query would
	// close its connection, and its backend's CPU would go uncounted.
	require.NoError(b, d.Shutdown(ctx))
	require.NoError(b, <-done)
	b.ReportMetric(float64(pgtest.CPUSince(b, db, cpu0))/1e3/float64(b.N), "pg-cpu-us/row")
	b.ReportMetric(float64(statements.n.Load()-sent0)/float64(b.N), "statements/row")
}

// waitDelivered waits, at most a minute, until no row is left undelivered.
func waitDelivered(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		require.NoError(b, pool.QueryRow(b.Context(), `SELECT count(*) FROM court_outbox WHERE delivered_at IS NULL`).Scan(&n))
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d rows undelivered after a minute", n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// statementCounter counts the statements a pool sends, batched or not, and
// among them the UPDATEs of court_outbox.
type statementCounter struct{ n, updates atomic.Int64 }

func (s *statementCounter) count(sql string) {
	s.n.Add(1)
	if strings.HasPrefix(sql, "UPDATE court_outbox") {
		s.updates.Add(1)
	}
}

func (s *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	s.count(data.SQL)
	return ctx
}

func (s *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return ctx
}

func (s *statementCounter) TraceBatchQuery(_ context.Context, _ *pgx.Conn, data pgx.TraceBatchQueryData) {
	s.count(data.SQL)
}

func (s *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}
