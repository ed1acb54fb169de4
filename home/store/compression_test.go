package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/store"
)

// TestBigValuesAreLZ4 checks that the big values a transition writes are
// compressed with lz4, not pglz (migration 0007), on a server built with
// lz4: pglz was a quarter of the Postgres CPU of a whole session.
func TestBigValuesAreLZ4(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	var lz4 bool
	require.NoError(t, pool.QueryRow(t.Context(),
		`SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'`).Scan(&lz4))
	if !lz4 {
		t.Skip("this Postgres is built without lz4")
	}
	prev := bigSession(t)
	require.NoError(t, st.Create(t.Context(), store.Create{Session: prev, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"}))
	next := prev.Clone()
	next.Version++
	next.Verdict = append(next.Verdict[:len(next.Verdict)-1:len(next.Verdict)-1], `,"note":"changed"}`...)
	require.NoError(t, st.Commit(t.Context(), store.Commit{Prev: prev.Version, Session: next, PrevSession: prev, Epoch: 1, Node: "n1", Event: "edit"}))
	for _, c := range []string{"verdict", "analysis", "doc"} {
		var method *string
		require.NoError(t, pool.QueryRow(t.Context(), `SELECT pg_column_compression(`+c+`) FROM court_sessions WHERE id = $1`, next.ID).Scan(&method))
		require.NotNil(t, method, "%s is stored compressed", c)
		require.Equal(t, "lz4", *method, c)
	}
}
