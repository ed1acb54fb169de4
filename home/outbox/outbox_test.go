package outbox_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/home/outbox"
	"courtmesh/home/outbox/signature"
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

// secret is the webhook secret of the tests, and its written form.
var (
	secret        = []byte("courtmesh outbox test secret, 32+ bytes")
	secretWritten = signature.FormatSecret(secret)
)

// webhook is a test receiver that verifies every signature, as a real one
// would; fail decides, per request, to answer 500.
type webhook struct {
	mu   sync.Mutex
	got  map[int64][]delivery // guarded by mu
	bad  int                  // guarded by mu; requests whose signature failed
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
	key, err := signature.ParseSecret(secretWritten)
	if err != nil {
		panic(err)
	}
	id, err := signature.Verify(key, r.Header, b, time.Now(), 0)
	if err != nil || id != d.key {
		w.mu.Lock()
		w.bad++
		w.mu.Unlock()
		http.Error(rw, "bad signature", http.StatusUnauthorized)
		return
	}
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

func (w *webhook) badSignatures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bad
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
	if cfg.Webhook != "" && cfg.Secret == nil {
		cfg.Secret = secret
	}
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
	checkMetric(t, reg, "court_outbox_delivered_total", "push", 5)
	require.Zero(t, metric(t, reg, "court_outbox_failures_total", "push"))
	require.Zero(t, w.badSignatures())
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
	checkMetric(t, reg, "court_outbox_delivered_total", "push", 3)
	require.Equal(t, float64(3*fails), metric(t, reg, "court_outbox_failures_total", "push"))
}

// TestRoundRecordsEachOutcome: rounds whose rows succeed and fail mark
// only the delivered ones delivered; the failed ones wait for their retry.
func TestRoundRecordsEachOutcome(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	ids := insertRows(t, pool, 6)
	failing := map[int64]bool{ids[1]: true, ids[2]: true, ids[4]: true}
	var broken atomic.Bool
	broken.Store(true)
	w, srv := newWebhook(t, func(id int64, _ int) bool { return failing[id] && broken.Load() })
	run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(),
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}))
	// Each failing row failed at least twice: the good rows were recorded
	// by now, in rounds where the failing ones failed.
	checkFor(t, 5*time.Second, func() error {
		for id := range failing {
			if n := len(w.deliveries(id)); n < 2 {
				return fmt.Errorf("row %d sent %d times", id, n)
			}
		}
		return nil
	})
	rows, err := pool.Query(t.Context(), `SELECT id, delivered_at IS NOT NULL, attempts > 0 FROM court_outbox ORDER BY id`)
	require.NoError(t, err)
	got := map[int64][2]bool{}
	for rows.Next() {
		var id int64
		var delivered, failed bool
		require.NoError(t, rows.Scan(&id, &delivered, &failed))
		got[id] = [2]bool{delivered, failed}
	}
	require.NoError(t, rows.Err())
	want := map[int64][2]bool{}
	for _, id := range ids {
		want[id] = [2]bool{!failing[id], failing[id]}
	}
	require.Equal(t, want, got, "{delivered, failed} of each row")
	for _, id := range ids {
		if !failing[id] {
			require.Len(t, w.deliveries(id), 1, "row %d", id)
		}
	}
	broken.Store(false)
	checkFor(t, 5*time.Second, undelivered(t, pool))
}

// TestRoundMarksDeliveredInOneStatement: a round's delivered rows are
// marked by one UPDATE, not one per row.
func TestRoundMarksDeliveredInOneStatement(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	insertRows(t, pool, 20) // one round: fewer than DefaultBatch
	_, srv := newWebhook(t, nil)
	cfg := pool.Config()
	var statements statementCounter
	cfg.ConnConfig.Tracer = &statements
	db, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(db.Close)
	run(t, newDispatcher(t, outbox.Config{DB: db, Webhook: srv.URL, Client: srv.Client()}))
	checkFor(t, 5*time.Second, undelivered(t, pool))
	require.EqualValues(t, 1, statements.updates.Load())
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

// logBuffer collects a dispatcher's logs.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// rowStates counts the rows by state.
func rowStates(t *testing.T, pool *pgxpool.Pool) map[string]int {
	t.Helper()
	entries, err := outbox.List(t.Context(), pool, false, 1000)
	require.NoError(t, err)
	got := map[string]int{}
	for _, e := range entries {
		got[e.State]++
	}
	return got
}

// TestNoWebhookHoldsRows: a home without a webhook keeps rows pending, says
// so in a Warn and a metric, and never logs a payload; a dispatcher with a
// webhook delivers them later.
func TestNoWebhookHoldsRows(t *testing.T) {
	pool := pgtest.Pool(t)
	old := *outbox.HoldWarnEvery
	*outbox.HoldWarnEvery = 0
	t.Cleanup(func() { *outbox.HoldWarnEvery = old })
	insertRows(t, pool, 3)
	reg := prometheus.NewRegistry()
	var logs logBuffer
	held := newDispatcher(t, outbox.Config{DB: pool, Registerer: reg, Logger: logs.logger()})
	run(t, held)
	checkFor(t, 5*time.Second, func() error {
		if v := metric(t, reg, "court_outbox_backlog", ""); v != 3 {
			return fmt.Errorf("backlog %v", v)
		}
		return nil
	})
	require.Equal(t, 1.0, gauge(t, reg, "court_outbox_sink", "mode", "hold"))
	require.Equal(t, map[string]int{outbox.StatePending: 3}, rowStates(t, pool))
	checkFor(t, 5*time.Second, func() error {
		if !strings.Contains(logs.String(), "level=WARN msg=\"no webhook configured") {
			return errors.New("no Warn yet")
		}
		return nil
	})
	require.NotContains(t, logs.String(), "userId", "payloads are never logged")

	w, srv := newWebhook(t, nil)
	run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client()}))
	checkFor(t, 5*time.Second, undelivered(t, pool))
	require.Zero(t, w.badSignatures())
}

// TestWebhookNoneDiscards: `--webhook none` marks rows discarded, counts
// them, and logs none of them.
func TestWebhookNoneDiscards(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	insertRows(t, pool, 4)
	reg := prometheus.NewRegistry()
	var logs logBuffer
	run(t, newDispatcher(t, outbox.Config{DB: pool, Discard: true, Registerer: reg, Logger: logs.logger()}))
	checkFor(t, 5*time.Second, func() error {
		if v := metric(t, reg, "court_outbox_discarded_total", "push"); v != 4 {
			return fmt.Errorf("discarded %v", v)
		}
		return nil
	})
	var discarded int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM court_outbox WHERE discarded_at IS NOT NULL AND delivered_at IS NULL`).Scan(&discarded))
	require.Equal(t, 4, discarded)
	require.Equal(t, 1.0, gauge(t, reg, "court_outbox_sink", "mode", "discard"))
	require.NotContains(t, logs.String(), "userId")
	require.NotContains(t, logs.String(), "outbox_id")
}

// TestDeadLetter: a row that keeps failing is dead-lettered after
// MaxAttempts, shows in the metrics and in List, is never sent again, and
// Requeue sends it once the receiver is fixed.
func TestDeadLetter(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	var broken atomic.Bool
	broken.Store(true)
	w, srv := newWebhook(t, func(int64, int) bool { return broken.Load() })
	ids := insertRows(t, pool, 2)
	reg := prometheus.NewRegistry()
	run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(), Registerer: reg,
		MaxAttempts: 3, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}))
	checkFor(t, 10*time.Second, func() error {
		if v := metric(t, reg, "court_outbox_dead", ""); v != 2 {
			return fmt.Errorf("dead %v", v)
		}
		return nil
	})
	checkMetric(t, reg, "court_outbox_dead_lettered_total", "push", 2)
	require.Zero(t, metric(t, reg, "court_outbox_backlog", ""))
	dead, err := outbox.List(t.Context(), pool, true, 10)
	require.NoError(t, err)
	require.Len(t, dead, 2)
	for _, e := range dead {
		require.Equal(t, outbox.StateDead, e.State)
		require.Equal(t, 3, e.Attempts)
		require.Contains(t, e.LastError, "500")
	}
	time.Sleep(100 * time.Millisecond) // several poll rounds: nothing more is sent
	for _, id := range ids {
		require.Len(t, w.deliveries(id), 3)
	}

	broken.Store(false)
	n, err := outbox.Requeue(t.Context(), pool, ids[:1])
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	checkFor(t, 5*time.Second, func() error {
		if got := rowStates(t, pool); got[outbox.StateDead] != 1 || got[outbox.StatePending] != 0 {
			return fmt.Errorf("states %v", got)
		}
		return nil
	})
	require.Len(t, w.deliveries(ids[0]), 4)
	n, err = outbox.Requeue(t.Context(), pool, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	checkFor(t, 5*time.Second, undelivered(t, pool))
}

// TestWrongSecretIsRefusedByReceiver: bodies signed with another key fail
// the receiver's check and are retried, not delivered.
func TestWrongSecretIsRefusedByReceiver(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	w, srv := newWebhook(t, nil)
	insertRows(t, pool, 1)
	reg := prometheus.NewRegistry()
	run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(), Registerer: reg,
		Secret: []byte("another secret of enough length!")}))
	checkFor(t, 5*time.Second, func() error {
		if w.badSignatures() == 0 {
			return errors.New("nothing received yet")
		}
		return nil
	})
	require.Equal(t, map[string]int{outbox.StatePending: 1}, rowStates(t, pool))
}

// checkMetric waits until metric(name, kind) is want: the counters follow
// the commit that the tests watch in the table, a moment later.
func checkMetric(t *testing.T, reg *prometheus.Registry, name, kind string, want float64) {
	t.Helper()
	checkFor(t, 5*time.Second, func() error {
		if v := metric(t, reg, name, kind); v != want {
			return fmt.Errorf("%s{kind=%q} is %v, want %v", name, kind, v, want)
		}
		return nil
	})
}

// gauge returns the value of a gauge with one label.
func gauge(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no metric %s{%s=%q}", name, label, value)
	return 0
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
		"no DB":               {},
		"bad webhook":         {DB: fakeDB{}, Webhook: "ftp://x", Secret: secret},
		"no secret":           {DB: fakeDB{}, Webhook: "http://x"},
		"discard and webhook": {DB: fakeDB{}, Webhook: "http://x", Secret: secret, Discard: true},
		"negative":            {DB: fakeDB{}, Batch: -1},
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
