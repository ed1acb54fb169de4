package outbox_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/home/outbox"
	"courtmesh/home/store/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const sessionID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"

// delivery is one request the webhook received.
type delivery struct {
	key  string
	body struct {
		ID        int64           `json:"id"`
		Kind      string          `json:"kind"`
		SessionID string          `json:"session_id"`
		Payload   json.RawMessage `json:"payload"`
	}
	at time.Time
}

// webhook is a test receiver; fail decides, per request, to answer 500.
type webhook struct {
	mu   sync.Mutex
	got  map[int64][]delivery // guarded by mu
	fail func(id int64, attempt int) bool
}

func newWebhook(t *testing.T, fail func(id int64, attempt int) bool) (*webhook, *httptest.Server) {
	w := &webhook{got: map[int64][]delivery{}, fail: fail}
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return w, srv
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	d := delivery{key: r.Header.Get("Idempotency-Key"), at: time.Now()}
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &d.body); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.got[d.body.ID] = append(w.got[d.body.ID], d)
	attempt := len(w.got[d.body.ID])
	w.mu.Unlock()
	if w.fail != nil && w.fail(d.body.ID, attempt) {
		http.Error(rw, "try later", http.StatusInternalServerError)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *webhook) deliveries(id int64) []delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]delivery(nil), w.got[id]...)
}

// insertRows inserts n push rows and returns their ids.
func insertRows(t *testing.T, pool *pgxpool.Pool, n int) []int64 {
	t.Helper()
	rows, err := pool.Query(t.Context(), `INSERT INTO court_outbox (session_id, kind, payload)
		SELECT $1, 'push', jsonb_build_object('userId', 'u' || i) FROM generate_series(1, $2) AS i RETURNING id`, sessionID, n)
	require.NoError(t, err)
	var ids []int64
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// run runs d until the test ends.
func run(t *testing.T, d *outbox.Dispatcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	<-d.Ready()
}

// checkFor calls f every few milliseconds until it returns nil, and fails
// the test with f's last error once total has passed.
func checkFor(t *testing.T, total time.Duration, f func() error) {
	t.Helper()
	deadline := time.After(total)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("not true after %v: %v", total, err)
		case <-tick.C:
		}
	}
}

// undelivered counts the rows not delivered yet.
func undelivered(t *testing.T, pool *pgxpool.Pool) func() error {
	return func() error {
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM court_outbox WHERE delivered_at IS NULL`).Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("%d rows undelivered", n)
		}
		return nil
	}
}

func newDispatcher(t *testing.T, cfg outbox.Config) *outbox.Dispatcher {
	t.Helper()
	cfg.PollInterval = 10 * time.Millisecond
	cfg.Logger = nil
	d, err := outbox.New(cfg)
	require.NoError(t, err)
	return d
}

func TestDeliversEachRowOnceWithIdempotencyKey(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	w, srv := newWebhook(t, nil)
	ids := insertRows(t, pool, 5)
	reg := prometheus.NewRegistry()
	d := newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(), Batch: 2, Registerer: reg})
	run(t, d)
	checkFor(t, 5*time.Second, undelivered(t, pool))
	for _, id := range ids {
		got := w.deliveries(id)
		require.Len(t, got, 1)
		require.Equal(t, fmt.Sprintf("outbox-%d", id), got[0].key)
		require.Equal(t, "push", got[0].body.Kind)
		require.Equal(t, sessionID, got[0].body.SessionID)
		require.Contains(t, string(got[0].body.Payload), `"userId"`)
	}
	require.Equal(t, 5.0, metric(t, reg, "court_outbox_delivered_total", "push"))
	require.Zero(t, metric(t, reg, "court_outbox_failures_total", "push"))
}

// metric returns the value of a counter with label kind, or of a gauge when
// kind is empty.
func metric(t *testing.T, reg *prometheus.Registry, name, kind string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if kind == "" {
				return m.GetGauge().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no metric %s{kind=%q}", name, kind)
	return 0
}

func TestRetriesFailuresWithBackoff(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	const fails = 2
	w, srv := newWebhook(t, func(_ int64, attempt int) bool { return attempt <= fails })
	ids := insertRows(t, pool, 3)
	reg := prometheus.NewRegistry()
	const minBackoff = 40 * time.Millisecond
	d := newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(),
		MinBackoff: minBackoff, MaxBackoff: time.Second, Registerer: reg})
	run(t, d)
	checkFor(t, 10*time.Second, undelivered(t, pool))
	for _, id := range ids {
		got := w.deliveries(id)
		require.Len(t, got, fails+1)
		for i := 1; i < len(got); i++ {
			require.Equal(t, got[0].key, got[i].key, "one idempotency key per row")
			// The i-th failure waits at least half of minBackoff*2^(i-1).
			require.GreaterOrEqual(t, got[i].at.Sub(got[i-1].at), minBackoff<<(i-1)/2)
		}
		var attempts int
		var lastErr string
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT attempts, last_error FROM court_outbox WHERE id = $1`, id).Scan(&attempts, &lastErr))
		require.Equal(t, fails, attempts)
		require.Contains(t, lastErr, "500")
	}
	require.Equal(t, 3.0, metric(t, reg, "court_outbox_delivered_total", "push"))
	require.Equal(t, float64(3*fails), metric(t, reg, "court_outbox_failures_total", "push"))
}

func TestConcurrentDispatchersDeliverEachRowOnce(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	w, srv := newWebhook(t, nil)
	ids := insertRows(t, pool, 200)
	for range 2 {
		run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(), Batch: 10, Concurrency: 4}))
	}
	checkFor(t, 10*time.Second, undelivered(t, pool))
	for _, id := range ids {
		require.Len(t, w.deliveries(id), 1, "row %d", id)
	}
}

func TestLogSinkMarksDelivered(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	insertRows(t, pool, 3)
	reg := prometheus.NewRegistry()
	run(t, newDispatcher(t, outbox.Config{DB: pool, Registerer: reg}))
	checkFor(t, 5*time.Second, undelivered(t, pool))
	checkFor(t, 5*time.Second, func() error {
		if v := metric(t, reg, "court_outbox_backlog", ""); v != 0 {
			return fmt.Errorf("backlog %v", v)
		}
		return nil
	})
}

func TestCloseStopsRun(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	d := newDispatcher(t, outbox.Config{DB: pool})
	done := make(chan error, 1)
	go func() { done <- d.Run(context.Background()) }()
	<-d.Ready()
	require.NoError(t, d.Close())
	require.NoError(t, d.Close())
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after Close")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]outbox.Config{
		"no DB":       {},
		"bad webhook": {DB: fakeDB{}, Webhook: "ftp://x"},
		"negative":    {DB: fakeDB{}, Batch: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := outbox.New(cfg)
			require.Error(t, err)
		})
	}
}

// fakeDB satisfies outbox.DB for tests that never reach the database.
type fakeDB struct{ outbox.DB }

// TestStopMidPostResendsWithSameKey is the crash between a POST and the
// commit that marks it: the row stays undelivered, unlocked, and the next
// dispatcher sends it again with the same Idempotency-Key.
func TestStopMidPostResendsWithSameKey(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	started := make(chan struct{})
	var once sync.Once
	w := &webhook{got: map[int64][]delivery{}}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			_, _ = io.Copy(io.Discard, r.Body) // so the server notices the client hang up
			close(started)
			select { // hang until the dispatcher gives up
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		w.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	ids := insertRows(t, pool, 1)

	d1 := newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client()})
	done := make(chan error, 1)
	go func() { done <- d1.Run(context.Background()) }()
	<-started
	require.NoError(t, d1.Close())
	require.NoError(t, <-done)
	var attempts int
	var delivered bool
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT attempts, delivered_at IS NOT NULL FROM court_outbox WHERE id = $1`, ids[0]).Scan(&attempts, &delivered))
	require.Zero(t, attempts, "a stop is not a failure")
	require.False(t, delivered)

	run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client()}))
	checkFor(t, 5*time.Second, undelivered(t, pool))
	got := w.deliveries(ids[0])
	require.Len(t, got, 1)
	require.Equal(t, fmt.Sprintf("outbox-%d", ids[0]), got[0].key)
}
