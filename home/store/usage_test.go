package store_test

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"courtmesh/appdata"
	"courtmesh/home/court"
	"courtmesh/home/store"
)

// A CountUsage effect runs the app's increment_usage in the transaction of
// its transition: a retry of the same commit, refused by the fence, does not
// count again, and a fenced commit counts nothing.
func TestCountUsageOncePerTransition(t *testing.T) {
	t.Parallel()
	st, pool, s, creator, partner := sessionOfProfiles(t)
	ctx := t.Context()

	next := s.Clone()
	require.NoError(t, next.Accept(partner, time.Now(), durations))
	use := court.CountUsage{UserID: creator, PartnerID: partner, JudgeType: "swift", At: time.Now().UnixMilli()}
	c := commit(next, 1, "judge_deliberate", use)
	require.NoError(t, st.Commit(ctx, c))
	require.ErrorIs(t, st.Commit(ctx, c), store.ErrFenced, "the retry is refused")
	stale := commit(next.Clone(), 0, "judge_deliberate", use)
	require.ErrorIs(t, st.Commit(ctx, stale), store.ErrFenced, "an old owner is refused")
	require.Equal(t, 1, count(t, pool, `SELECT swift_count FROM usage_tracking WHERE user_id = $1 AND period_start = $2`,
		creator, appdata.PeriodStart(time.Now())))

	_, err := st.Get(ctx, s.ID)
	require.NoError(t, err)
	bad := next.Clone()
	require.NoError(t, bad.RequestSettlement(partner, time.Now(), durations))
	require.NoError(t, st.Commit(ctx, commit(bad, 1, "x", court.CountUsage{UserID: "not-a-uuid", JudgeType: "swift"})),
		"a count that cannot be made never blocks the transition")
}

// A count whose increment_usage fails after writing rolls back its own
// write only: the transition, its history and its outbox rows commit.
func TestFailingCountKeepsTheTransition(t *testing.T) {
	t.Parallel()
	st, pool, s, creator, partner := sessionOfProfiles(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, `CREATE OR REPLACE FUNCTION increment_usage(p_user_id uuid, p_period_start date, p_type text)
		RETURNS void LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO usage_tracking (user_id, period_start, swift_count) VALUES (p_user_id, p_period_start, 1);
			RAISE EXCEPTION 'boom';
		END $$`)
	require.NoError(t, err)

	next := s.Clone()
	require.NoError(t, next.Accept(partner, time.Now(), durations))
	outbox := count(t, pool, `SELECT count(*) FROM court_outbox`)
	use := court.CountUsage{UserID: creator, PartnerID: partner, JudgeType: "swift", At: time.Now().UnixMilli()}
	notify := court.Notify{UserIDs: []string{creator}, Type: "court_session", Title: "t", Body: "b"}
	require.NoError(t, st.Commit(ctx, commit(next, 1, "judge_deliberate", notify, use)))

	got, err := st.Get(ctx, s.ID)
	require.NoError(t, err)
	require.Equal(t, next.Version, got.Version, "the transition committed")
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM court_transitions WHERE session_id = $1 AND version = $2`, s.ID, int64(next.Version)))
	require.Equal(t, outbox+1, count(t, pool, `SELECT count(*) FROM court_outbox`), "its outbox row committed")
	require.Zero(t, count(t, pool, `SELECT count(*) FROM usage_tracking`), "the count's own write is rolled back")
}

// sessionOfProfiles returns a store with the app's stand-in tables and a
// session created by two users who have profiles, as in production.
func sessionOfProfiles(t *testing.T) (*store.Store, *pgxpool.Pool, *court.Session, string, string) {
	t.Helper()
	st, pool := newStore(t)
	ctx := t.Context()
	_, err := appdata.StandIns(ctx, pool)
	require.NoError(t, err)
	creator, partner := newID(), newID()
	_, err = pool.Exec(ctx, `INSERT INTO profiles (id) VALUES ($1), ($2)`, creator, partner)
	require.NoError(t, err)
	return st, pool, create(t, st, creator, partner, 1), creator, partner
}
