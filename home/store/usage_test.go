package store_test

import (
	"testing"
	"time"

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
	st, pool := newStore(t)
	ctx := t.Context()
	_, err := appdata.StandIns(ctx, pool)
	require.NoError(t, err)
	creator, partner := newID(), newID()
	_, err = pool.Exec(ctx, `INSERT INTO profiles (id) VALUES ($1), ($2)`, creator, partner)
	require.NoError(t, err)
	s := create(t, st, creator, partner, 1)

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

	_, err = st.Get(ctx, s.ID)
	require.NoError(t, err)
	bad := next.Clone()
	require.NoError(t, bad.RequestSettlement(partner, time.Now(), durations))
	require.NoError(t, st.Commit(ctx, commit(bad, 1, "x", court.CountUsage{UserID: "not-a-uuid", JudgeType: "swift"})),
		"a count that cannot be made never blocks the transition")
}
