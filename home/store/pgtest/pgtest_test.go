package pgtest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/home/store/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestPoolSchemaIsOwnAndDropped(t *testing.T) {
	t.Parallel()
	observer := pgtest.Empty(t) // skips (or fails with CI=true) when Postgres is unreachable
	var schema string
	t.Run("user", func(t *testing.T) { // not parallel: Run returns after its cleanup
		pool := pgtest.Pool(t)
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&schema))
		require.Regexp(t, `^test_[0-9a-f]{16}$`, schema)
		var n int
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*) FROM court_sessions`).Scan(&n))
		other := pgtest.Empty(t)
		var otherSchema string
		require.NoError(t, other.QueryRow(t.Context(), `SELECT current_schema()`).Scan(&otherSchema))
		require.NotEqual(t, schema, otherSchema)
	})
	var exists bool
	require.NoError(t, observer.QueryRow(context.Background(),
		`SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)`, schema).Scan(&exists))
	require.False(t, exists)
}
