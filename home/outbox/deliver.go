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

	"courtmesh/home/outbox/signature"
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

// errDiscarded marks a row the discard sink (`--webhook none`) dropped.
var errDiscarded = errors.New("outbox: discarded")

// maxErrorBody is how much of a failed answer's body goes into last_error.
const maxErrorBody = 512

const claimSQL = `SELECT id, kind, session_id::text, payload, attempts,
	(extract(epoch FROM clock_timestamp() - created_at) * 1e6)::bigint FROM court_outbox
	WHERE delivered_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL AND next_attempt_at <= now()
	ORDER BY next_attempt_at, id
	LIMIT $1
	FOR UPDATE SKIP LOCKED`

// round claims up to Batch due rows, sends them, and records each outcome in
// the claiming transaction. It returns the number of rows claimed.
func (d *Dispatcher) round(ctx context.Context) (int, error) {
	if d.mode == modeHold {
		return 0, nil // no webhook: rows wait for one (noteRound warns)
	}
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

// record queues each row's outcome in tx: the delivered rows and the
// discarded rows one statement each, a failed row one of its own (its
// backoff and error are its own).
func (d *Dispatcher) record(ctx context.Context, tx pgx.Tx, rows []row, results []error) error {
	// clock_timestamp, not now(): now() is when the claim began, before the POSTs.
	b := &pgx.Batch{}
	var delivered, discarded []int64
	for i, r := range rows {
		switch err := results[i]; {
		case err == nil:
			delivered = append(delivered, r.ID)
		case errors.Is(err, errStopping):
		case errors.Is(err, errDiscarded):
			discarded = append(discarded, r.ID)
		case d.dead(r):
			b.Queue(`UPDATE court_outbox SET attempts = attempts + 1, dead_at = clock_timestamp(), last_error = $2 WHERE id = $1`,
				r.ID, err.Error())
			d.log.Warn("outbox row dead-lettered: see courtctl outbox --dead", "outbox_id", r.ID, "kind", r.Kind,
				"attempts", r.attempts+1, "err", err)
		default:
			delay := d.backoff(r.attempts + 1)
			b.Queue(`UPDATE court_outbox SET attempts = attempts + 1,
				next_attempt_at = clock_timestamp() + $2 * interval '1 microsecond', last_error = $3 WHERE id = $1`,
				r.ID, delay.Microseconds(), err.Error())
			d.logFailure(r, err, delay)
		}
	}
	if len(delivered) > 0 {
		b.Queue(`UPDATE court_outbox SET delivered_at = clock_timestamp() WHERE id = ANY($1)`, delivered)
	}
	if len(discarded) > 0 {
		b.Queue(`UPDATE court_outbox SET discarded_at = clock_timestamp() WHERE id = ANY($1)`, discarded)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("outbox: record outcomes: %w", err)
	}
	return nil
}

// dead reports whether a failure of r is its last: it used MaxAttempts.
func (d *Dispatcher) dead(r row) bool { return r.attempts+1 >= d.cfg.MaxAttempts }

// count updates the counters once the outcomes are committed.
func (d *Dispatcher) count(rows []row, results []error) {
	for i, r := range rows {
		switch err := results[i]; {
		case err == nil:
			d.metrics.delivered.WithLabelValues(r.Kind).Inc()
			d.metrics.lag.WithLabelValues(r.Kind).Observe((r.age + time.Since(r.claimed)).Seconds())
		case errors.Is(err, errStopping):
		case errors.Is(err, errDiscarded):
			d.metrics.discarded.WithLabelValues(r.Kind).Inc()
		default:
			d.metrics.failures.WithLabelValues(r.Kind).Inc()
			if d.dead(r) {
				d.metrics.deadLettered.WithLabelValues(r.Kind).Inc()
			}
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

// post POSTs r to the webhook, signed (Standard Webhooks, with
// webhook-id equal to the Idempotency-Key); any 2xx answer is a delivery.
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
	id := "outbox-" + strconv.FormatInt(r.ID, 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	signature.SetHeaders(req.Header, d.cfg.Secret, id, time.Now(), body)
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

// discard is the sink of `--webhook none`: the row goes nowhere and is never
// logged (payloads hold both partners' private text).
func (d *Dispatcher) discard(context.Context, row) error { return errDiscarded }
