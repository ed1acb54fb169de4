// Package pgtest gives tests a fresh schema on the real Postgres at
// DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). A test that
// cannot reach it fails when CI=true and is skipped otherwise; it never
// passes silently.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"courtmesh/home/store"
)

// DefaultURL is the Postgres tests use when DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Bounds of the schema setup and cleanup.
const (
	connectTimeout = 5 * time.Second
	cleanupTimeout = 10 * time.Second
	maxConns       = 8
)

// URL returns DATABASE_URL, or DefaultURL when it is unset.
func URL() string {
	if u := os.Getenv("DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Pool returns a pool whose search_path is a new schema of its own, with the
// store's migrations applied. The pool is closed and the schema dropped when
// t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := Empty(t)
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if err := store.Migrate(ctx, pool); err != nil {
		t.Fatalf("pgtest: migrate: %v", err)
	}
	return pool
}

// Empty is Pool without the migrations.
func Empty(t testing.TB) *pgxpool.Pool {
	t.Helper()
	schema := "test_" + randomHex()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	admin, err := pgx.Connect(ctx, URL())
	if err != nil {
		unreachable(t, err)
	}
	defer admin.Close(ctx) //nolint:errcheck // best effort
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: create schema: %v", err)
	}
	t.Cleanup(func() { dropSchema(t, schema) })
	cfg, err := pgxpool.ParseConfig(URL())
	if err != nil {
		t.Fatalf("pgtest: parse DATABASE_URL: %v", err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close) // runs before dropSchema (cleanups run last first)
	return pool
}

// unreachable fails t when CI=true and skips it otherwise.
func unreachable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("pgtest: postgres unreachable with CI=true: %v", err)
	}
	t.Skipf("pgtest: postgres unreachable (set DATABASE_URL): %v", err)
}

func dropSchema(t testing.TB, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, URL())
	if err != nil {
		t.Logf("pgtest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx) //nolint:errcheck // best effort
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		t.Logf("pgtest: drop schema %s: %v", schema, err)
	}
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
