package store_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

// legacyMigrate migrates pool as the hand-written runner before goose did:
// the files 0001..0005 applied and recorded in schema_migrations.
func legacyMigrate(t *testing.T, exec func(sql string, args ...any)) {
	t.Helper()
	exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`)
	for i, name := range []string{"0001_cases.sql", "0002_sessions.sql", "0003_outbox.sql",
		"0004_outbox_case_resolved.sql", "0005_retention.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		require.NoError(t, err)
		exec(string(body)) // goose's annotations are SQL comments
		exec(`INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, i+1, name)
	}
}

// TestMigrateCarriesOverLegacySchema: a database migrated by the runner
// before goose, holding data, is carried over: goose records the five
// versions, applies only the new ones, and no row is lost.
func TestMigrateCarriesOverLegacySchema(t *testing.T) {
	t.Parallel()
	pool := pgtest.Empty(t)
	ctx := t.Context()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	legacyMigrate(t, exec)
	exec(`INSERT INTO court_outbox (session_id, kind, payload) VALUES ('3f2504e0-4f89-41d3-9a0c-0305e82c3301', 'push', '{"n":1}')`)
	exec(`INSERT INTO cases (user_a_id, user_b_id, case_title) VALUES ('a', 'b', 'kept')`)

	require.NoError(t, store.Migrate(ctx, pool))
	require.NoError(t, store.Migrate(ctx, pool), "again: a no-op")

	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM court_outbox WHERE payload = '{"n":1}' AND dead_at IS NULL`))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM cases WHERE case_title = 'kept'`))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM goose_db_version WHERE version_id = 5`), "version 5 recorded once, not reapplied")
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM goose_db_version WHERE version_id = 6`))
	st, err := store.MigrationStatus(ctx, pool)
	require.NoError(t, err)
	require.Len(t, st, 9)
	for _, m := range st {
		require.True(t, m.Applied, m.Name)
	}
	require.Equal(t, "0009_live_by_id.sql", st[8].Name)
}

func TestMigrationStatusOfFreshSchema(t *testing.T) {
	t.Parallel()
	pool := pgtest.Empty(t)
	st, err := store.MigrationStatus(t.Context(), pool)
	require.NoError(t, err)
	require.Len(t, st, 9)
	for _, m := range st {
		require.False(t, m.Applied, m.Name)
	}
	require.NoError(t, store.Migrate(t.Context(), pool))
	st, err = store.MigrationStatus(t.Context(), pool)
	require.NoError(t, err)
	require.True(t, st[0].Applied)
	require.False(t, st[0].AppliedAt.IsZero())
}

// TestMigrationAddedBelowAppliedIsRefused is the hole of the old runner: a
// file numbered below the latest applied one, added later, was skipped
// without a word. goose refuses to migrate.
func TestMigrationAddedBelowAppliedIsRefused(t *testing.T) {
	t.Parallel()
	pool := pgtest.Empty(t)
	up := func(fsys fstest.MapFS) error {
		return store.WithProvider(t.Context(), pool, fsys, func(p *goose.Provider) error {
			_, err := p.Up(context.Background())
			return err
		})
	}
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte("-- +goose Up\n" + sql)} }
	require.NoError(t, up(fstest.MapFS{
		"0001_a.sql": file("CREATE TABLE a (x int);"),
		"0003_c.sql": file("CREATE TABLE c (x int);"),
	}))
	err := up(fstest.MapFS{
		"0001_a.sql": file("CREATE TABLE a (x int);"),
		"0002_b.sql": file("CREATE TABLE b (x int);"),
		"0003_c.sql": file("CREATE TABLE c (x int);"),
	})
	require.ErrorContains(t, err, "missing")
	require.Zero(t, count(t, pool, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'b'`))
}

// TestCheckSchemaRefusesAnUnmigratedSchema: a home refuses to start on a
// schema that misses this build's migrations, fresh or older, and says
// what to run; a migrated one passes.
func TestCheckSchemaRefusesAnUnmigratedSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fresh := pgtest.Empty(t)
	err := store.CheckSchema(ctx, fresh)
	require.ErrorContains(t, err, "at migration 0 and this build needs 9")
	require.ErrorContains(t, err, "courtd migrate")

	older := pgtest.Empty(t)
	legacyMigrate(t, func(sql string, args ...any) {
		t.Helper()
		_, err := older.Exec(ctx, sql, args...)
		require.NoError(t, err)
	})
	require.ErrorContains(t, store.CheckSchema(ctx, older), "at migration 5 and this build needs 9")

	require.NoError(t, store.Migrate(ctx, older))
	require.NoError(t, store.CheckSchema(ctx, older))
}

// TestMigrateBesideAConcurrentIndexBuild is a node migrating while another
// holds the schema's migration lock (goose's session lock) and builds an
// index concurrently, as migration 0009 does: the build waits for every
// transaction open when it starts, so a migrator that waited for the lock
// inside a transaction deadlocked with it. Both must finish.
func TestMigrateBesideAConcurrentIndexBuild(t *testing.T) {
	t.Parallel()
	pool := pgtest.Empty(t)
	ctx := t.Context()
	cfg := pool.Config()
	app := "migrate-beside-" + newID()[:8]
	cfg.ConnConfig.RuntimeParams["application_name"] = app
	migrator, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer migrator.Close()
	builder, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer builder.Release()
	var lockID int64
	require.NoError(t, builder.QueryRow(ctx, `SELECT hashtext('courtmesh.migrate:' || current_schema())::bigint`).Scan(&lockID))
	_, err = builder.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockID)
	require.NoError(t, err)
	_, err = builder.Exec(ctx, `CREATE TABLE build_beside (id int)`)
	require.NoError(t, err)

	migrated := make(chan error, 1)
	go func() { migrated <- store.Migrate(ctx, migrator) }()
	require.Eventually(t, func() bool { // the migrator has asked for the lock (and been refused)
		return count(t, pool, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1
			AND (query ILIKE '%advisory_xact_lock%' OR query ILIKE 'rollback')`, app) > 0
	}, 10*time.Second, 10*time.Millisecond)
	_, err = builder.Exec(ctx, `CREATE INDEX CONCURRENTLY build_beside_idx ON build_beside (id)`)
	require.NoError(t, err, "the index build")
	_, err = builder.Exec(ctx, `SELECT pg_advisory_unlock($1)`, lockID)
	require.NoError(t, err)
	require.NoError(t, <-migrated, "the migration")
	require.Equal(t, 9, count(t, pool, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`))
}
