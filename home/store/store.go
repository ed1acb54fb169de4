package store

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jackc/pgx/v5"
)

// Errors.
var (
	// ErrFenced means the write carried a stale owner epoch or version: the
	// session has a newer owner, moved on, ended or is gone. Nothing was written.
	ErrFenced = errors.New("store: fenced: stale owner epoch or version")
	// ErrUserBusy means a user of a new session is already in a live one.
	ErrUserBusy = errors.New("store: user already in a session")
	// ErrNotFound means no such session, or it has ended.
	ErrNotFound = errors.New("store: session not found")
)

// DB is the part of *pgxpool.Pool the store uses.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Config configures a Store.
type Config struct {
	// DB is the Postgres pool, usually a *pgxpool.Pool. Required.
	DB DB
	// Logger logs; nil means discard.
	Logger *slog.Logger
	// CommitGroups is how many groups of commits the store writes at once
	// (committer): a commit that finds that many in flight joins the next
	// group. Zero means DefaultCommitGroups.
	CommitGroups int
}

// DefaultCommitGroups is the number of commit groups in flight when
// Config.CommitGroups is zero: on this project's 2-core bench machine one
// group at a time cost the most throughput, two kept most of the CPU saved
// and lost none (docs/performance.md, "Group commit").
const DefaultCommitGroups = 2

// Store reads and writes court sessions with fencing. It is safe for
// concurrent use.
type Store struct {
	db      DB
	log     *slog.Logger
	commits *committer
}

// New returns a Store over cfg.DB. It does no I/O; run Migrate first.
func New(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("store: Config.DB is required")
	}
	groups := cfg.CommitGroups
	if groups <= 0 {
		groups = DefaultCommitGroups
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Store{db: cfg.DB, log: log.With("component", "store"), commits: &committer{db: cfg.DB, slots: groups}}, nil
}
