package appdata_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"courtmesh/appdata"
	"courtmesh/home/store/pgtest"
)

const (
	alice = "a11ce000-0000-4000-8000-0000000000a1"
	bob   = "b0b00000-0000-4000-8000-0000000000b2"
	carol = "ca201000-0000-4000-8000-0000000000c3"
)

// appDB is a schema the store migrated (Increment's statement calls its
// court_count_usage), with the stand-ins and a couple alice+bob (free tier,
// alice consents) and carol (gold, no partner).
func appDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	db := pgtest.Pool(t)
	created, err := appdata.StandIns(t.Context(), db)
	require.NoError(t, err)
	require.Equal(t, []string{"profiles", "usage_tracking", "get_couple_usage", "increment_usage"}, created)
	exec(t, db, `INSERT INTO profiles (id, display_name, ai_insights_consent, subscription_tier, preferred_language)
		VALUES ($1, 'Alice', true, 'free', 'fr'), ($2, 'Bob', false, 'free', NULL), ($3, 'Carol', true, 'pause_gold', 'en')`, alice, bob, carol)
	exec(t, db, `UPDATE profiles SET partner_id = $2 WHERE id = $1`, alice, bob)
	exec(t, db, `UPDATE profiles SET partner_id = $1 WHERE id = $2`, alice, bob)
	return db
}

func exec(t *testing.T, db *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	_, err := db.Exec(t.Context(), sql, args...)
	require.NoError(t, err)
}

func TestStandInsNeverTouchExisting(t *testing.T) {
	t.Parallel()
	db := pgtest.Empty(t)
	// An app schema of its own shape: an extra column, no default.
	exec(t, db, `CREATE TABLE profiles (id uuid PRIMARY KEY, partner_id uuid, ai_insights_consent boolean,
		subscription_tier text, subscription_expires_at timestamptz, preferred_language text, display_name text, extra int NOT NULL)`)
	exec(t, db, `CREATE FUNCTION increment_usage(p_user_id uuid, p_period_start date, p_type text) RETURNS void LANGUAGE sql AS 'SELECT 1'`)
	created, err := appdata.StandIns(t.Context(), db)
	require.NoError(t, err)
	require.Equal(t, []string{"usage_tracking", "get_couple_usage"}, created)
	var cols int
	require.NoError(t, db.QueryRow(t.Context(), `SELECT count(*) FROM information_schema.columns WHERE table_name = 'profiles' AND table_schema = current_schema()`).Scan(&cols))
	require.Equal(t, 8, cols, "the existing profiles table is untouched")
	var body string
	require.NoError(t, db.QueryRow(t.Context(), `SELECT prosrc FROM pg_proc WHERE proname = 'increment_usage' AND pg_function_is_visible(oid)`).Scan(&body))
	require.Equal(t, "SELECT 1", body, "the existing function is untouched")
	created, err = appdata.StandIns(t.Context(), db)
	require.NoError(t, err)
	require.Empty(t, created)
}

func TestOpenDetectsTheAppTables(t *testing.T) {
	t.Parallel()
	bare := pgtest.Empty(t)
	_, err := appdata.Open(t.Context(), appdata.Config{DB: bare, Require: true})
	require.ErrorIs(t, err, appdata.ErrNotConfigured)
	src, err := appdata.Open(t.Context(), appdata.Config{DB: bare})
	require.NoError(t, err)
	require.False(t, src.Configured())
	p, err := src.Profile(t.Context(), alice)
	require.NoError(t, err)
	require.Equal(t, appdata.Profile{ID: alice, AIConsent: true, Tier: appdata.TierGold}, p, "Supabase not configured: consent, gold, no partner")

	src, err = appdata.Open(t.Context(), appdata.Config{DB: appDB(t), Require: true})
	require.NoError(t, err)
	require.True(t, src.Configured())
}

func TestProfilesCachedAndInvalidated(t *testing.T) {
	t.Parallel()
	db := appDB(t)
	now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
	src, err := appdata.Open(t.Context(), appdata.Config{DB: db, ProfileTTL: time.Minute, Now: func() time.Time { return now }})
	require.NoError(t, err)
	p, err := src.Profile(t.Context(), alice)
	require.NoError(t, err)
	require.Equal(t, appdata.Profile{ID: alice, PartnerID: bob, AIConsent: true, Tier: "free", Language: "fr", DisplayName: "Alice"}, p)
	b, err := src.Profile(t.Context(), bob)
	require.NoError(t, err)
	require.False(t, b.AIConsent)
	require.Empty(t, b.Language)

	exec(t, db, `UPDATE profiles SET ai_insights_consent = false WHERE id = $1`, alice)
	p, _ = src.Profile(t.Context(), alice)
	require.True(t, p.AIConsent, "a cached read within the TTL")
	now = now.Add(time.Minute)
	p, _ = src.Profile(t.Context(), alice)
	require.False(t, p.AIConsent, "re-read after the TTL")
	exec(t, db, `UPDATE profiles SET ai_insights_consent = true WHERE id = $1`, alice)
	src.Invalidate(alice)
	p, _ = src.Profile(t.Context(), alice)
	require.True(t, p.AIConsent, "re-read after Invalidate")

	none, err := src.Profile(t.Context(), "00000000-0000-4000-8000-000000000000")
	require.NoError(t, err)
	require.Equal(t, appdata.Profile{ID: "00000000-0000-4000-8000-000000000000", Tier: "free"}, none, "no row: no partner, no consent, free")

	exec(t, db, `UPDATE profiles SET subscription_tier = 'pause_gold', subscription_expires_at = $2 WHERE id = $1`, carol, now.Add(-time.Hour))
	src.Invalidate(carol)
	c, err := src.Profile(t.Context(), carol)
	require.NoError(t, err)
	require.Equal(t, appdata.TierGold, c.Tier)
	require.Equal(t, appdata.TierFree, c.EffectiveTier(now), "an expired gold tier is free")
}

// increment runs Increment's statement inside a transaction that commits
// or not.
func increment(t *testing.T, db *pgxpool.Pool, user, partner, typ string, at time.Time, commit bool) {
	t.Helper()
	st, err := appdata.Increment(user, partner, typ, at)
	require.NoError(t, err)
	tx, err := db.Begin(t.Context())
	require.NoError(t, err)
	_, err = tx.Exec(t.Context(), st.SQL, st.Args...)
	require.NoError(t, err)
	_, err = tx.Exec(t.Context(), `SELECT 1`) // the transaction is still usable
	require.NoError(t, err)
	if commit {
		require.NoError(t, tx.Commit(t.Context()))
	} else {
		require.NoError(t, tx.Rollback(t.Context()))
	}
}

func TestCoupleUsageRPCAndFallback(t *testing.T) {
	t.Parallel()
	for _, withRPC := range []bool{true, false} {
		t.Run(map[bool]string{true: "rpc", false: "table fallback"}[withRPC], func(t *testing.T) {
			t.Parallel()
			db := appDB(t)
			if !withRPC {
				exec(t, db, `DROP FUNCTION get_couple_usage(uuid, date)`)
				exec(t, db, `DROP FUNCTION increment_usage(uuid, date, text)`)
			}
			now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
			src, err := appdata.Open(t.Context(), appdata.Config{DB: db, Now: func() time.Time { return now }})
			require.NoError(t, err)
			increment(t, db, alice, bob, "swift", now, true)
			increment(t, db, bob, alice, "wise", now, true)
			increment(t, db, bob, alice, "wise", now, false) // rolled back: not counted
			increment(t, db, alice, bob, "swift", now.AddDate(0, -1, 0), true)
			increment(t, db, carol, "", "classic", now, true)
			for _, u := range []string{alice, bob} {
				partner := map[string]string{alice: bob, bob: alice}[u]
				got, err := src.CoupleUsage(t.Context(), u, partner, true)
				require.NoError(t, err)
				require.Equal(t, appdata.Usage{Swift: 1, Wise: 1}, got, "the couple's usage this month, seen by %s", u)
			}
			got, err := src.CoupleUsage(t.Context(), carol, "", true)
			require.NoError(t, err)
			require.Equal(t, appdata.Usage{Classic: 1}, got)

			var couple string
			require.NoError(t, db.QueryRow(t.Context(), `SELECT couple_id FROM usage_tracking WHERE user_id = $1 AND period_start = '2026-11-01'`, bob).Scan(&couple))
			require.Equal(t, alice+"-"+bob, couple, "couple_id is the sorted pair")

			increment(t, db, alice, bob, "swift", now, true)
			cached, err := src.CoupleUsage(t.Context(), alice, bob, false)
			require.NoError(t, err)
			require.Equal(t, 1, cached.Swift, "the serve check reads the cache")
			src.Invalidate(alice)
			fresh, err := src.CoupleUsage(t.Context(), alice, bob, false)
			require.NoError(t, err)
			require.Equal(t, 2, fresh.Swift)
		})
	}
}

// noticed is one connection to db's schema that collects the server's
// notices (RAISE WARNING and the like).
type noticed struct {
	conn *pgx.Conn
	mu   sync.Mutex
	got  []string // guarded by mu; "SEVERITY: message"
}

func newNoticed(t *testing.T, db *pgxpool.Pool) *noticed {
	t.Helper()
	n := &noticed{}
	cfg := db.Config().ConnConfig.Copy()
	cfg.OnNotice = func(_ *pgconn.PgConn, m *pgconn.Notice) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.got = append(n.got, m.Severity+": "+m.Message)
	}
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	n.conn = conn
	return n
}

func (n *noticed) notices() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.got...)
}

// countIn runs Increment's statement for alice and bob after the
// transaction's own write (alice's display name set to name), and commits.
func (n *noticed) countIn(t *testing.T, name string) {
	t.Helper()
	st, err := appdata.Increment(alice, bob, "swift", time.Now())
	require.NoError(t, err)
	tx, err := n.conn.Begin(t.Context())
	require.NoError(t, err)
	_, err = tx.Exec(t.Context(), `UPDATE profiles SET display_name = $2 WHERE id = $1`, alice, name)
	require.NoError(t, err)
	_, err = tx.Exec(t.Context(), st.SQL, st.Args...)
	require.NoError(t, err, "a failed count never fails its statement")
	require.NoError(t, tx.Commit(t.Context()))
}

// A failing increment_usage rolls back only the count, never the
// transaction it runs in, and says so in a warning.
func TestIncrementNeverBreaksTheTransaction(t *testing.T) {
	t.Parallel()
	db := appDB(t)
	// It writes the count, then fails: the count's write is rolled back.
	exec(t, db, `CREATE OR REPLACE FUNCTION increment_usage(p_user_id uuid, p_period_start date, p_type text)
		RETURNS void LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO usage_tracking (user_id, period_start, swift_count) VALUES (p_user_id, p_period_start, 1);
			RAISE EXCEPTION 'boom';
		END $$`)
	n := newNoticed(t, db)
	for _, name := range []string{"first", "second"} { // the second runs the function's cached plans
		n.countIn(t, name)
		var got string
		require.NoError(t, db.QueryRow(t.Context(), `SELECT display_name FROM profiles WHERE id = $1`, alice).Scan(&got))
		require.Equal(t, name, got, "the transaction committed")
	}
	var rows int
	require.NoError(t, db.QueryRow(t.Context(), `SELECT count(*) FROM usage_tracking`).Scan(&rows))
	require.Zero(t, rows, "the count's own writes are rolled back")
	require.Equal(t, []string{"WARNING: courtmesh: usage not counted for " + alice + ": boom",
		"WARNING: courtmesh: usage not counted for " + alice + ": boom"}, n.notices())

	// A count Increment would refuse is a warning too.
	_, err := n.conn.Exec(t.Context(), `SELECT court_count_usage('{"user": "nope"}')`)
	require.NoError(t, err)
	require.Len(t, n.notices(), 3)
	require.Contains(t, n.notices()[2], `WARNING: courtmesh: usage not counted for nope: invalid input syntax for type uuid`)

	for _, bad := range [][3]string{{"x'; DROP TABLE profiles; --", bob, "swift"}, {alice, "nope", "swift"}, {alice, bob, "swift'"}, {alice, bob, "plan"}} {
		_, err := appdata.Increment(bad[0], bad[1], bad[2], time.Now())
		require.Error(t, err, "%q", bad)
	}
}

// Without the app's usage table ("Supabase not configured") a count does
// nothing, not even a warning.
func TestIncrementWithoutTheUsageTable(t *testing.T) {
	t.Parallel()
	db := pgtest.Pool(t)
	exec(t, db, `CREATE TABLE profiles (id uuid PRIMARY KEY, display_name text)`)
	exec(t, db, `INSERT INTO profiles (id) VALUES ($1)`, alice)
	n := newNoticed(t, db)
	n.countIn(t, "first")
	require.Empty(t, n.notices())
}

// The upsert takes over from increment_usage dropped after a count on the
// same connection, whose cached plan called it.
func TestIncrementFallsBackOnTheSameConnection(t *testing.T) {
	t.Parallel()
	db := appDB(t)
	n := newNoticed(t, db)
	n.countIn(t, "first")
	exec(t, db, `DROP FUNCTION increment_usage(uuid, date, text)`)
	n.countIn(t, "second")
	require.Empty(t, n.notices())
	var swift int
	require.NoError(t, db.QueryRow(t.Context(), `SELECT swift_count FROM usage_tracking WHERE user_id = $1`, alice).Scan(&swift))
	require.Equal(t, 2, swift)
}

func TestPeriodStart(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("UTC+9", 9*3600)
	// 1 Dec 02:00 in UTC+9 is still November in UTC.
	require.Equal(t, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), appdata.PeriodStart(time.Date(2026, 12, 1, 2, 0, 0, 0, loc)))
	require.Equal(t, alice+"-"+bob, appdata.CoupleKey(bob, alice))
	require.Equal(t, alice, appdata.CoupleKey(alice, ""))
}

// The statement of a count does not depend on the count: a driver that
// caches prepared statements per text (pgx) prepares it once per
// connection, not once per count.
func TestIncrementStatementIsConstant(t *testing.T) {
	t.Parallel()
	a, err := appdata.Increment(alice, bob, "swift", time.Now())
	require.NoError(t, err)
	b, err := appdata.Increment(carol, "", "wise", time.Now().AddDate(0, -1, 0))
	require.NoError(t, err)
	require.Equal(t, a.SQL, b.SQL)
	require.NotEqual(t, a.Args, b.Args, "the count is in the arguments")
}
