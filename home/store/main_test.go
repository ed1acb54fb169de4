package store_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var durations = court.DurationsFromScale(1)

// newStore returns a store over a fresh migrated schema, and its pool.
func newStore(t testing.TB) (*store.Store, *pgxpool.Pool) {
	t.Helper()
	pool := pgtest.Pool(t)
	st, err := store.New(store.Config{DB: pool})
	require.NoError(t, err)
	return st, pool
}

// newID returns a random uuid v4.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// newUser returns a random user id with a readable prefix.
func newUser(prefix string) string { return prefix + "-" + newID()[:8] }

// newSession returns a new PENDING session of creator and partner.
func newSession(t *testing.T, creator, partner string) *court.Session {
	t.Helper()
	s, err := court.NewSession(newID(), creator, partner, "", "", time.Now(), durations)
	require.NoError(t, err)
	return s
}

// create stores a new session of creator and partner at epoch.
func create(t *testing.T, st *store.Store, creator, partner string, epoch uint64) *court.Session {
	t.Helper()
	s := newSession(t, creator, partner)
	require.NoError(t, st.Create(t.Context(), store.Create{Session: s, Epoch: epoch, Node: "n1", HomeRegion: "us", Event: "serve", Effects: s.TakeEffects()}))
	return s
}

// sameSession checks that got is want, as the store keeps it: its JSON.
func sameSession(t *testing.T, want, got *court.Session) {
	t.Helper()
	require.NotNil(t, got)
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g))
}

// next returns a copy of s one version on, changed by f.
func next(s *court.Session, f func(*court.Session)) *court.Session {
	n := s.Clone()
	n.Version++
	if f != nil {
		f(n)
	}
	return n
}

// commit is a Commit of s's successor n at epoch.
func commit(n *court.Session, epoch uint64, event string, effects ...court.Effect) store.Commit {
	return store.Commit{Prev: n.Version - 1, Session: n, Epoch: epoch, Node: "n1", Event: event, Effects: effects}
}

// count runs a count query.
func count(t *testing.T, pool *pgxpool.Pool, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// rowsOf counts the rows of table whose session_id (or id) is sessionID.
func rowsOf(t *testing.T, pool *pgxpool.Pool, table, sessionID string) int {
	t.Helper()
	key := "session_id"
	if table == "court_sessions" {
		key = "id"
	}
	return count(t, pool, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s = $1", table, key), sessionID)
}

func ptr[T any](v T) *T { return &v }
