package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Retention defaults (docs/decisions.md, "Retention of history and outbox
// rows").
const (
	// DefaultRetention is how long history and delivered outbox rows are
	// kept: long enough to answer a support question about last month.
	DefaultRetention = 30 * 24 * time.Hour
	// MinRetention is the shortest retention a Pruner accepts: far longer
	// than any live session or CLOSED hold.
	MinRetention = time.Hour
	// DefaultPruneInterval is the time between two pruning rounds.
	DefaultPruneInterval = 10 * time.Minute
	// DefaultPruneBatch bounds the rows one DELETE removes, so that no
	// statement holds many row locks or runs long.
	DefaultPruneBatch = 1000
)

// Tables the Pruner prunes, the table label of court_store_pruned_rows_total.
const (
	tableTransitions = "court_transitions"
	tableOutbox      = "court_outbox"
)

// The deletes pick their rows FOR UPDATE SKIP LOCKED: two homes pruning at
// once take disjoint rows and never wait for each other, so they can neither
// delete a row twice nor deadlock. They never touch a live session's history
// (its session row has no ended_at; the store reads it back through
// Transitions), nor an outbox row that is not delivered or discarded
// (pending, dead-lettered, or claimed by a dispatcher right now: delivered_at
// and discarded_at are set in the claiming transaction).
const (
	pruneTransitionsSQL = `WITH doomed AS (
		SELECT t.session_id, t.version FROM court_transitions t
		WHERE t.at < now() - $1::float8 * interval '1 second'
		  AND NOT EXISTS (SELECT 1 FROM court_sessions s WHERE s.id = t.session_id AND s.ended_at IS NULL)
		LIMIT $2
		FOR UPDATE OF t SKIP LOCKED)
	DELETE FROM court_transitions t USING doomed d
	WHERE t.session_id = d.session_id AND t.version = d.version`
	pruneOutboxSQL = `WITH doomed AS (
		SELECT id FROM court_outbox
		WHERE created_at < now() - $1::float8 * interval '1 second'
		  AND coalesce(delivered_at, discarded_at) < now() - $1::float8 * interval '1 second'
		LIMIT $2
		FOR UPDATE SKIP LOCKED)
	DELETE FROM court_outbox o USING doomed d WHERE o.id = d.id`
)

// PrunerConfig configures a Pruner.
type PrunerConfig struct {
	// DB is the Postgres pool. Required.
	DB DB
	// Retention is how long rows are kept. Zero means DefaultRetention; it
	// must be at least MinRetention.
	Retention time.Duration
	// Interval is the time between rounds. Zero means DefaultPruneInterval.
	Interval time.Duration
	// Batch bounds the rows of one DELETE. Zero means DefaultPruneBatch.
	Batch int
	// Logger logs; nil means discard.
	Logger *slog.Logger
	// Registerer registers the metrics; nil means they are not registered.
	Registerer prometheus.Registerer
}

// Pruner deletes history and delivered outbox rows older than the
// retention, a few batches every Interval. It is safe to run one on every
// home over the same tables.
type Pruner struct {
	cfg    PrunerConfig
	log    *slog.Logger
	pruned *prometheus.CounterVec
}

// Pruned counts the rows one round deleted.
type Pruned struct {
	Transitions, Outbox int64
}

// NewPruner returns a Pruner; it does no I/O.
func NewPruner(cfg PrunerConfig) (*Pruner, error) {
	if cfg.DB == nil {
		return nil, errors.New("store: PrunerConfig.DB is required")
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Retention < MinRetention {
		return nil, fmt.Errorf("store: retention %v is shorter than %v", cfg.Retention, MinRetention)
	}
	if cfg.Interval < 0 || cfg.Batch < 0 {
		return nil, errors.New("store: negative PrunerConfig value")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultPruneInterval
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultPruneBatch
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Pruner{cfg: cfg, log: log.With("component", "retention"),
		pruned: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "court_store_pruned_rows_total",
			Help: "Rows the retention job deleted, by table.",
		}, []string{"table"}),
	}
	p.pruned.WithLabelValues(tableTransitions)
	p.pruned.WithLabelValues(tableOutbox)
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(p.pruned); err != nil {
			return nil, fmt.Errorf("store: register retention metrics: %w", err)
		}
	}
	return p, nil
}

// Run prunes every Interval, starting at a random point of the first
// Interval so that homes started together spread their rounds, until ctx is
// cancelled; then it returns nil. A failed round is logged and retried at
// the next.
func (p *Pruner) Run(ctx context.Context) error {
	t := time.NewTimer(rand.N(p.cfg.Interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := p.Round(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.log.Warn("retention round failed", "err", err)
		case n.Transitions+n.Outbox > 0:
			p.log.Info("retention round", "transitions", n.Transitions, "outbox", n.Outbox)
		}
		t.Reset(p.cfg.Interval)
	}
}

// Round deletes, Batch rows per statement, every row older than the
// retention, and returns how many it deleted.
func (p *Pruner) Round(ctx context.Context) (Pruned, error) {
	var n Pruned
	var err error
	n.Transitions, err = p.prune(ctx, tableTransitions, pruneTransitionsSQL)
	if err != nil {
		return n, err
	}
	n.Outbox, err = p.prune(ctx, tableOutbox, pruneOutboxSQL)
	return n, err
}

// prune runs one table's DELETE until a batch comes back short.
func (p *Pruner) prune(ctx context.Context, table, sql string) (int64, error) {
	var total int64
	for {
		// Query, not Exec: DB is the store's narrow pool interface.
		rows, err := p.cfg.DB.Query(ctx, sql, p.cfg.Retention.Seconds(), p.cfg.Batch)
		if err != nil {
			return total, fmt.Errorf("store: prune %s: %w", table, err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("store: prune %s: %w", table, err)
		}
		n := rows.CommandTag().RowsAffected()
		total += n
		p.pruned.WithLabelValues(table).Add(float64(n))
		if n < int64(p.cfg.Batch) {
			return total, nil
		}
	}
}
