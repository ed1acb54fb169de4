package appdata

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed sql/*.sql
var standInSQL embed.FS

// standIns are the app's objects in creation order: kind ("table" or
// "function"), name, and the file that creates it.
var standIns = []struct{ kind, name, file string }{
	{"table", "profiles", "sql/profiles.sql"},
	{"table", "usage_tracking", "sql/usage_tracking.sql"},
	{"function", "get_couple_usage", "sql/get_couple_usage.sql"},
	{"function", "increment_usage", "sql/increment_usage.sql"},
}

// StandIns creates, in db's current schema, each of the app's tables and
// functions that does not resolve yet (`courtd migrate --app-schema`), and
// returns the names it created. An existing object is never altered: on the
// real Supabase database this does nothing. It runs in one transaction under
// an advisory lock, so concurrent callers create each object once.
func StandIns(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("appdata: stand-ins: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('courtmesh appdata stand-ins'))`); err != nil {
		return nil, fmt.Errorf("appdata: stand-ins: lock: %w", err)
	}
	var created []string
	for _, o := range standIns {
		var exists bool
		q := `SELECT to_regclass($1) IS NOT NULL`
		if o.kind == "function" {
			q = `SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = $1 AND pg_function_is_visible(oid))`
		}
		if err := tx.QueryRow(ctx, q, o.name).Scan(&exists); err != nil {
			return nil, fmt.Errorf("appdata: stand-ins: look up %s: %w", o.name, err)
		}
		if exists {
			continue
		}
		body, err := standInSQL.ReadFile(o.file)
		if err != nil {
			return nil, fmt.Errorf("appdata: stand-ins: %w", err)
		}
		if _, err := tx.Exec(ctx, string(body)); err != nil {
			return nil, fmt.Errorf("appdata: stand-ins: create %s: %w", o.name, err)
		}
		created = append(created, o.name)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("appdata: stand-ins: commit: %w", err)
	}
	return created, nil
}
