package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Version tables: goose's, and the one the hand-written runner kept before
// it (version, name, applied_at), read once to carry a database over.
const (
	gooseTable  = "goose_db_version"
	legacyTable = "schema_migrations"
)

// Migrate applies the embedded migrations (goose, SQL files
// migrations/NNNN_name.sql) that the current schema has not applied yet,
// each in its own transaction (but those marked NO TRANSACTION, which build
// an index concurrently), under an advisory lock scoped to the current
// schema, so nodes starting together apply each migration once. Running it
// again is a no-op. goose refuses a migration numbered below one already
// applied that was added later. A schema migrated by the runner before goose
// (schema_migrations) is carried over first: goose's table records the
// versions it lists, and nothing is applied twice.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return withProvider(ctx, pool, migrationsFS(), func(p *goose.Provider) error {
		if _, err := p.Up(ctx); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		return nil
	})
}

// CheckSchema returns an error unless the current schema has applied every
// embedded migration. A home of this build uses what they create (a usage
// count calls court_count_usage), so it refuses to start on a schema that
// `courtd migrate` has not brought up to it, naming the command to run,
// instead of failing transitions one by one. A schema ahead of the build
// (a newer release migrated it) passes: migrations never take away what an
// earlier build uses.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool) error {
	return withProvider(ctx, pool, migrationsFS(), func(p *goose.Provider) error {
		current, target, err := p.GetVersions(ctx)
		if err != nil {
			return fmt.Errorf("store: schema version: %w", err)
		}
		if current < target {
			return fmt.Errorf("store: the database schema is at migration %d and this build needs %d: run `courtd migrate` first", current, target)
		}
		return nil
	})
}

// MigrationState is one migration as MigrationStatus reports it.
type MigrationState struct {
	Version int64  `json:"version"`
	Name    string `json:"name"`
	Applied bool   `json:"applied"`
	// AppliedAt is zero while pending.
	AppliedAt time.Time `json:"applied_at,omitzero"`
}

// MigrationStatus lists every embedded migration and whether the current
// schema has applied it. It changes nothing but a carry-over (see Migrate).
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool) ([]MigrationState, error) {
	var out []MigrationState
	err := withProvider(ctx, pool, migrationsFS(), func(p *goose.Provider) error {
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("store: migration status: %w", err)
		}
		for _, s := range st {
			out = append(out, MigrationState{Version: s.Source.Version, Name: path.Base(s.Source.Path),
				Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
		}
		return nil
	})
	return out, err
}

func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	return sub
}

// withProvider carries a legacy schema over, then calls f with a goose
// provider on pool and fsys, locked per schema.
func withProvider(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, f func(*goose.Provider) error) error {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	lockID, err := carryOver(ctx, db)
	if err != nil {
		return err
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(lockID), lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true), goose.WithTableName(gooseTable))
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return errors.Join(f(p), p.Close())
}

// Waiting for the schema's migration lock in carryOver: how often it tries,
// and for how long (goose's session lock waits as long).
const (
	lockRetry    = 100 * time.Millisecond
	lockAttempts = 3000
)

// carryOver, in one transaction under the schema's migration lock, records
// in goose's table every version the legacy runner applied, if goose's table
// does not exist yet and the legacy one does. It returns the schema's lock
// id, which goose's session lock then uses.
//
// It tries the lock instead of waiting for it, in a new transaction each
// time: a transaction left open while it waits is one that a concurrent
// migrator's CREATE INDEX CONCURRENTLY (0009), run under goose's session
// lock on the same key, waits for, while this one waits for that lock, and
// Postgres ends the pair with "deadlock detected".
func carryOver(ctx context.Context, db *sql.DB) (lockID int64, err error) {
	for range lockAttempts {
		id, locked, err := tryCarryOver(ctx, db)
		if err != nil || locked {
			return id, err
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("store: migrate: lock: %w", ctx.Err())
		case <-time.After(lockRetry):
		}
	}
	return 0, fmt.Errorf("store: migrate: lock: the schema's migration lock stayed held for %s", lockRetry*lockAttempts)
}

// tryCarryOver is one attempt of carryOver; locked is false, and nothing
// done, when another migrator holds the lock.
func tryCarryOver(ctx context.Context, db *sql.DB) (lockID int64, locked bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("store: migrate: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if err := tx.QueryRowContext(ctx, `SELECT hashtext('courtmesh.migrate:' || current_schema())::bigint`).Scan(&lockID); err != nil {
		return 0, false, fmt.Errorf("store: migrate: lock id: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, lockID).Scan(&locked); err != nil {
		return 0, false, fmt.Errorf("store: migrate: lock: %w", err)
	}
	if !locked {
		return lockID, false, nil
	}
	gs, err := database.NewStore(database.DialectPostgres, gooseTable)
	if err != nil {
		return 0, false, fmt.Errorf("store: migrate: %w", err)
	}
	var hasGoose, hasLegacy bool
	if err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1),
		EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $2)`,
		gooseTable, legacyTable).Scan(&hasGoose, &hasLegacy); err != nil {
		return 0, false, fmt.Errorf("store: migrate: find version tables: %w", err)
	}
	if hasGoose || !hasLegacy {
		return lockID, true, nil
	}
	versions, err := legacyVersions(ctx, tx)
	if err != nil {
		return 0, false, err
	}
	if err := gs.CreateVersionTable(ctx, tx); err != nil {
		return 0, false, fmt.Errorf("store: migrate: carry over: %w", err)
	}
	for _, v := range append([]int64{0}, versions...) { // goose's table starts at version 0
		if err := gs.Insert(ctx, tx, database.InsertRequest{Version: v}); err != nil {
			return 0, false, fmt.Errorf("store: migrate: carry over version %d: %w", v, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("store: migrate: carry over: commit: %w", err)
	}
	return lockID, true, nil
}

func legacyVersions(ctx context.Context, tx *sql.Tx) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM `+legacyTable+` ORDER BY version`)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: read %s: %w", legacyTable, err)
	}
	defer rows.Close()
	var vs []int64
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: migrate: read %s: %w", legacyTable, err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: migrate: read %s: %w", legacyTable, err)
	}
	return vs, nil
}
