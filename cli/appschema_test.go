package cli

import (
	"net/url"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
	"courtmesh/home/store/pgtest"
)

// courtd home refuses to start on a database without the app's tables
// (profiles, usage_tracking) unless told --require-app-schema=false, and
// says how to fix it.
func TestHomeRefusesToStartWithoutTheAppSchema(t *testing.T) {
	out, code := startHomeOn(t, pgtest.Pool(t)) // courtmesh's own tables only
	require.Equal(t, exitError, code, out)
	require.Contains(t, out, "courtd migrate --app-schema", "the error says what to do")
	require.Contains(t, out, "--require-app-schema=false")
}

// courtd home refuses to start on a schema that misses this build's
// migrations (its usage counts would fail), and says what to run.
func TestHomeRefusesToStartOnAnUnmigratedSchema(t *testing.T) {
	out, code := startHomeOn(t, pgtest.Empty(t))
	require.Equal(t, exitError, code, out)
	require.Contains(t, out, "this build needs")
	require.Contains(t, out, "run `courtd migrate` first", "the error says what to do")
}

// startHomeOn runs courtd home on pool's schema, with the real Redis and a
// fresh certificate, and returns its output and exit code.
func startHomeOn(t *testing.T, pool *pgxpool.Pool) (string, int) {
	t.Helper()
	var schema string
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema))
	u, err := url.Parse(pgtest.URL())
	require.NoError(t, err)
	q := u.Query()
	q.Set("options", "-csearch_path="+schema)
	u.RawQuery = q.Encode()
	t.Setenv(envDatabaseURL, u.String())
	t.Setenv("REDIS_URL", redistest.URL())
	t.Setenv("COURT_REDIS_PREFIX", redistest.Prefix(t))

	dir := t.TempDir()
	out, code := run(t, NewCourtctlCmd(), "ca", "create", "--dir", filepath.Join(dir, "ca"))
	require.Equal(t, exitOK, code, out)
	out, code = run(t, NewCourtctlCmd(), "cert", "create", "--ca-dir", filepath.Join(dir, "ca"),
		"--node", "home-t", "--role", "home", "--region", "us", "--out", filepath.Join(dir, "home-t"))
	require.Equal(t, exitOK, code, out)

	return run(t, NewCourtdCmd(), "home", "--node-id", "home-t", "--region", "us",
		"--tls-dir", filepath.Join(dir, "home-t"), "--judge", "dev", "--webhook", "none", "--mesh-addr", "127.0.0.1:0")
}
