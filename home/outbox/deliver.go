package outbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"
)

// row is a claimed outbox row.
type row struct {
	ID        int64           `json:"id"`
	Kind      string          `json:"kind"`
	SessionID string          `json:"session_id"`
	Payload   json.RawMessage `json:"payload"`
	attempts  int
	// age is how old the row was when claimed (by the database's clock),
	// claimed when (by this node's): its lag at delivery is their sum.
	age     time.Duration
	claimed time.Time
}

// errStopping marks a POST cut short because Run is stopping: the row is
// neither delivered nor failed.
var errStopping = errors.New("outbox: stopping")

// maxErrorBody is how much of a failed answer's body goes into last_error.
const maxErrorBody = 512

const claimSQL = `SELECT id, kind, session_id::text, payload, attempts,
	(extract(epoch FROM clock_timestamp() - created_at) * 1e6)::bigint FROM court_outbox
	WHERE delivered_at IS NULL AND next_attempt_at <= now()
	ORDER BY next_attempt_at, id
	LIMIT $1
	FOR UPDATE SKIP LOCKED`

// round claims up to Batch due rows, sends them, and records each outcome in
// the claiming transaction. It returns the number of rows claimed.
func (d *Dispatcher) round(ctx context.Context) (int, error) {
	tx, err := d.cfg.DB.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("outbox: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	rows, err := tx.Query(ctx, claimSQL, d.cfg.Batch)
	if err != nil {
		return 0, fmt.Errorf("outbox: claim: %w", err)
	}
	claimed, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var ageMicros int64
		err := r.Scan(&x.ID, &x.Kind, &x.SessionID, &x.Payload, &x.attempts, &ageMicros)
		x.age, x.claimed = time.Duration(ageMicros)*time.Microsecond, time.Now()
		return x, err
	})
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	results := d.sendAll(ctx, claimed)
	// Record even when ctx is done: a POST that went through must be marked.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if err := d.record(rctx, tx, claimed, results); err != nil {
		return len(claimed), err
	}
	if err := tx.Commit(rctx); err != nil {
		return len(claimed), fmt.Errorf("outbox: commit: %w", err)
	}
	d.count(claimed, results)
	return len(claimed), nil
}

// sendAll sends the rows, Concurrency at a time, and returns each outcome.
func (d *Dispatcher) sendAll(ctx context.Context, rows []row) []error {
	results := make([]error, len(rows))
	var g errgroup.Group
	g.SetLimit(d.cfg.Concurrency)
	for i, r := range rows {
		g.Go(func() error {
			results[i] = d.send(ctx, r)
			if results[i] != nil && ctx.Err() != nil {
				results[i] = errStopping
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil
	return results
}

// record queues each row's outcome in tx.
func (d *Dispatcher) record(ctx context.Context, tx pgx.Tx, rows []row, results []error) error {
	// clock_timestamp, not now(): now() is when the claim began, before the POSTs.
	b := &pgx.Batch{}
	for i, r := range rows {
		switch err := results[i]; {
		case err == nil:
			b.Queue(`UPDATE court_outbox SET delivered_at = clock_timestamp() WHERE id = $1`, r.ID)
		case errors.Is(err, errStopping):
		default:
			delay := d.backoff(r.attempts + 1)
			b.Queue(`UPDATE court_outbox SET attempts = attempts + 1,
				next_attempt_at = clock_timestamp() + $2 * interval '1 microsecond', last_error = $3 WHERE id = $1`,
				r.ID, delay.Microseconds(), err.Error())
			d.logFailure(r, err, delay)
		}
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox: record outcomes: %w", err)
	}
	return nil
}

// count updates the counters once the outcomes are committed.
func (d *Dispatcher) count(rows []row, results []error) {
	for i, r := range rows {
		switch {
		case results[i] == nil:
			d.metrics.delivered.WithLabelValues(r.Kind).Inc()
			d.metrics.lag.WithLabelValues(r.Kind).Observe((r.age + time.Since(r.claimed)).Seconds())
		case !errors.Is(results[i], errStopping):
			d.metrics.failures.WithLabelValues(r.Kind).Inc()
		}
	}
}

// logFailure logs a row's first failure at Warn and later ones at Debug.
func (d *Dispatcher) logFailure(r row, err error, delay time.Duration) {
	level := d.log.Debug
	if r.attempts == 0 {
		level = d.log.Warn
	}
	level("outbox delivery failed", "outbox_id", r.ID, "kind", r.Kind, "attempt", r.attempts+1, "retry_in", delay, "err", err)
}

// post POSTs r to the webhook; any 2xx answer is a delivery.
func (d *Dispatcher) post(ctx context.Context, r row) error {
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.PostTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.Webhook, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "outbox-"+strconv.FormatInt(r.ID, 10))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// logSink is the development sink: it logs r and reports it delivered.
func (d *Dispatcher) logSink(_ context.Context, r row) error {
	d.log.Info("outbox row (log-only sink)", "outbox_id", r.ID, "kind", r.Kind, "session_id", r.SessionID, "payload", string(r.Payload))
	return nil
}
