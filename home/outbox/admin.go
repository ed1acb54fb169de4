package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Querier is the part of *pgxpool.Pool that List and Requeue use.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Row states, as List reports them.
const (
	StatePending   = "pending"
	StateDead      = "dead"
	StateDelivered = "delivered"
	StateDiscarded = "discarded"
)

// Entry is one outbox row as an operator sees it: never its payload.
type Entry struct {
	ID            int64     `json:"id"`
	Kind          string    `json:"kind"`
	SessionID     string    `json:"session_id"`
	State         string    `json:"state"`
	Attempts      int       `json:"attempts"`
	CreatedAt     time.Time `json:"created_at"`
	NextAttemptAt time.Time `json:"next_attempt_at"`
	LastError     string    `json:"last_error,omitempty"`
}

// List returns up to limit rows not delivered yet (pending and dead), or
// only the dead ones, oldest first.
func List(ctx context.Context, db Querier, deadOnly bool, limit int) ([]Entry, error) {
	where := `delivered_at IS NULL AND discarded_at IS NULL`
	if deadOnly {
		where = `dead_at IS NOT NULL`
	}
	rows, err := db.Query(ctx, `SELECT id, kind, session_id::text,
		CASE WHEN delivered_at IS NOT NULL THEN 'delivered' WHEN discarded_at IS NOT NULL THEN 'discarded'
		     WHEN dead_at IS NOT NULL THEN 'dead' ELSE 'pending' END,
		attempts, created_at, next_attempt_at, coalesce(last_error, '')
		FROM court_outbox WHERE `+where+` ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		err := r.Scan(&e.ID, &e.Kind, &e.SessionID, &e.State, &e.Attempts, &e.CreatedAt, &e.NextAttemptAt, &e.LastError)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	return entries, nil
}

// Requeue makes dead rows pending again, due now with their attempts reset:
// the given ids, or every dead row when ids is empty. It returns how many
// rows it requeued.
func Requeue(ctx context.Context, db Querier, ids []int64) (int64, error) {
	sql := `UPDATE court_outbox SET dead_at = NULL, attempts = 0, next_attempt_at = now() WHERE dead_at IS NOT NULL`
	args := []any{}
	if len(ids) > 0 {
		sql += ` AND id = ANY($1)`
		args = append(args, ids)
	}
	tag, err := db.Exec(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("outbox: requeue: %w", err)
	}
	return tag.RowsAffected(), nil
}
