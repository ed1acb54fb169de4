package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/home/court"
	"courtmesh/home/store"
)

const envelope = `{"status":"success","judgeContent":{"ruling":"hug it out"},
	"_meta":{"analysis":{"caseMetadata":{"caseTitle":"Dishes","shortResolution":"Take turns"}}}}`

// inVerdict stores a session of creator and partner in VERDICT, the creator
// having accepted, and returns it.
func inVerdict(t *testing.T, st *store.Store, creator, partner string) *court.Session {
	t.Helper()
	s := create(t, st, creator, partner, 1)
	v := next(s, func(v *court.Session) {
		v.Phase = court.PhaseVerdict
		v.PhaseDeadline = time.Now().Add(time.Hour).UnixMilli()
		v.Creator = court.UserState{EvidenceSubmitted: true, Evidence: ptr("creator saw"), Feelings: ptr("creator felt"), Needs: ptr("creator needs"), VerdictAccepted: true}
		v.Partner = court.UserState{EvidenceSubmitted: true, Evidence: ptr("partner saw"), Feelings: ptr("partner felt")}
		v.Verdict = json.RawMessage(envelope)
		v.VerdictHistory = []court.VerdictVersion{
			{Version: 2, Content: json.RawMessage(envelope), AddendumBy: ptr("userB"), AddendumText: ptr("one more thing")},
			{Version: 1, Content: json.RawMessage(envelope)},
		}
	})
	require.NoError(t, st.Commit(t.Context(), commit(v, 1, "verdict_generated")))
	return v
}

func TestCloseSavesCaseOnce(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	creator, partner := newUser("zed"), newUser("amy") // sorted, the partner is user a
	v := inVerdict(t, st, creator, partner)

	errs := make([]error, 2)
	closed := make([]*court.Session, 2)
	var g errgroup.Group
	for i := range 2 {
		g.Go(func() error {
			closed[i] = v.Clone()
			if err := closed[i].AcceptVerdict(partner, newID(), time.Now(), durations); err != nil {
				return err
			}
			errs[i] = st.Commit(ctx, commit(closed[i], 1, "close", closed[i].TakeEffects()...))
			return nil
		})
	}
	require.NoError(t, g.Wait())
	won := 0
	if errs[0] != nil {
		won = 1
	}
	require.NoError(t, errs[won])
	require.ErrorIs(t, errs[1-won], store.ErrFenced)
	caseID := *closed[won].CaseID

	var userA, userB, aInput, bInput, aNeeds, status, title, short, sessStatus, sessCase string
	require.NoError(t, pool.QueryRow(ctx, `SELECT user_a_id, user_b_id, user_a_input, user_b_input, user_b_needs,
		status, case_title, short_resolution FROM cases WHERE id = $1`, caseID).
		Scan(&userA, &userB, &aInput, &bInput, &aNeeds, &status, &title, &short))
	require.Equal(t, []string{partner, creator, "partner saw", "creator saw", "creator needs", "RESOLVED", "Dishes", "Take turns"},
		[]string{userA, userB, aInput, bInput, aNeeds, status, title, short})
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM cases`))
	require.Equal(t, 2, count(t, pool, `SELECT count(*) FROM verdicts WHERE case_id = $1`, caseID))
	var by string
	var content json.RawMessage
	require.NoError(t, pool.QueryRow(ctx, `SELECT addendum_by, content FROM verdicts WHERE case_id = $1 AND version = 2`, caseID).Scan(&by, &content))
	require.Equal(t, "userB", by)
	require.Contains(t, string(content), `"ruling": "hug it out"`)
	require.Contains(t, string(content), `"isHybrid": false`)

	require.NoError(t, pool.QueryRow(ctx, `SELECT status, case_id::text FROM court_sessions WHERE id = $1`, v.ID).Scan(&sessStatus, &sessCase))
	require.Equal(t, []string{"CLOSED", caseID}, []string{sessStatus, sessCase})
	require.Equal(t, 2, rowsOf(t, pool, "court_session_users", v.ID), "users stay busy during the CLOSED hold")
	require.Equal(t, 3, rowsOf(t, pool, "court_outbox", v.ID), "the serve's push, one memory job, one case_resolved")

	// R20: the awards service hears of the case once, with both users.
	var announced court.CaseResolved
	require.NoError(t, pool.QueryRow(ctx, `SELECT payload FROM court_outbox WHERE session_id = $1 AND kind = 'case_resolved'`, v.ID).Scan(&announced))
	require.Equal(t, "case_resolved", announced.Event)
	require.Equal(t, []string{caseID, v.ID, creator, partner}, []string{announced.CaseID, announced.SessionID, announced.CreatorID, announced.PartnerID})
	require.Equal(t, 2, announced.Verdict.Version)
	require.Equal(t, "Dishes", *announced.Verdict.CaseTitle)
	require.Equal(t, "Take turns", *announced.Verdict.ShortResolution)

	removed(t, st, closed[won])
}

// removed ends the CLOSED hold of s and checks the row is kept, ended.
func removed(t *testing.T, st *store.Store, s *court.Session) {
	t.Helper()
	ctx := t.Context()
	r := s.Clone()
	require.NoError(t, r.Expire(time.UnixMilli(s.PhaseDeadline), "", durations))
	require.Equal(t, court.EndRemoved, r.EndReason)
	require.NoError(t, st.Commit(ctx, commit(r, 1, "removed", r.TakeEffects()...)))

	got, err := st.Get(ctx, s.ID)
	require.NoError(t, err, "the CLOSED row is kept")
	sameSession(t, r, got)
	refs, err := st.ActiveSessions(ctx, "")
	require.NoError(t, err)
	require.Empty(t, refs)
	_, err = st.Fence(ctx, s.ID, 9)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, st.Commit(ctx, commit(next(r, nil), 1, "late")), store.ErrFenced)
	create(t, st, s.PartnerID, s.CreatorID, 1) // both users are free again
}

func TestDismissClosedKeepsRow(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	creator, partner := newUser("c"), newUser("p")
	v := inVerdict(t, st, creator, partner)
	c := v.Clone()
	require.NoError(t, c.AcceptVerdict(partner, newID(), time.Now(), durations))
	require.NoError(t, st.Commit(ctx, commit(c, 1, "close", c.TakeEffects()...)))
	d := c.Clone()
	require.NoError(t, d.Dismiss(creator))
	require.NoError(t, st.Commit(ctx, commit(d, 1, "dismiss", d.TakeEffects()...)))

	var status string
	var ended bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT status, ended_at IS NOT NULL FROM court_sessions WHERE id = $1`, v.ID).Scan(&status, &ended))
	require.Equal(t, "CLOSED", status)
	require.True(t, ended)
	require.Zero(t, rowsOf(t, pool, "court_session_users", v.ID))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM cases`))
}
