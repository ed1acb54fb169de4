package court_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func applyAt(v uint64) func(*court.Session) error {
	return func(s *court.Session) error { return s.ApplyDeliberation(v, deliberation(), tm(4), d1) }
}

func failAt(v uint64, msg string) func(*court.Session) error {
	return func(s *court.Session) error { return s.FailDeliberation(v, msg, tm(4), d1) }
}

func TestApplyDeliberation(t *testing.T) {
	t.Parallel()
	s, v := inAnalyzing(t)
	refuseIs(t, s, court.ErrStaleResult, applyAt(v-1))
	refuseIs(t, s, court.ErrStaleResult, applyAt(0))
	bad := deliberation()
	bad.JointMenu = json.RawMessage(`{"oops"`)
	refuseIs(t, s, court.ErrBadJudgeResult, func(s *court.Session) error { return s.ApplyDeliberation(v, bad, tm(4), d1) })

	step(t, s, applyAt(v))
	require.Equal(t, court.PhasePriming, s.Phase)
	require.Equal(t, tm(4).Add(time.Hour).UnixMilli(), s.PhaseDeadline)
	require.JSONEq(t, analysisJSON, string(s.Analysis))
	require.JSONEq(t, `"none"`, string(s.HistoricalContext))
	require.Zero(t, s.DeliberationVersion)
	require.Empty(t, s.PendingJudgeCalls())
	require.Equal(t, []court.Effect{court.CountUsage{UserID: "alice", PartnerID: "bob", JudgeType: "swift", At: tm(4).UnixMilli()}},
		s.TakeEffects(), "a successful deliberation counts one case for the creator")
	refuseIs(t, s, court.ErrStaleResult, applyAt(v))
	refuseIs(t, s, court.ErrStaleResult, failAt(v, "late"))
}

// R8: a judge result for a session that was dismissed, settled, timed out
// or asked again is refused, so nothing is resurrected.
func TestR8StaleDeliberation(t *testing.T) {
	t.Parallel()
	for name, end := range map[string]func(*court.Session) error{
		"dismissed": func(s *court.Session) error { return s.Dismiss("alice") },
		"timed out": func(s *court.Session) error { return s.Expire(time.UnixMilli(s.PhaseDeadline), "", d1) },
		"settled": func(s *court.Session) error {
			if err := s.RequestSettlement("alice", tm(3), d1); err != nil {
				return err
			}
			return s.AcceptSettlement("bob")
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, v := inAnalyzing(t)
			require.NoError(t, end(s))
			require.True(t, s.Ended())
			refuseIs(t, s, court.ErrStaleResult, applyAt(v))
			refuseIs(t, s, court.ErrStaleResult, failAt(v, "x"))
			require.Empty(t, s.PendingJudgeCalls())
		})
	}
	t.Run("addendum asked again", func(t *testing.T) {
		t.Parallel()
		s := inVerdict(t)
		require.NoError(t, s.SubmitAddendum("alice", "one", tm(20), d1))
		first := s.DeliberationVersion
		require.NoError(t, s.FailDeliberation(first, "boom", tm(21), d1))
		require.NoError(t, s.SubmitAddendum("bob", "two", tm(22), d1))
		refuseIs(t, s, court.ErrStaleResult, applyAt(first))
		step(t, s, applyAt(s.DeliberationVersion))
	})
}

// A settlement request during ANALYZING moves the version on but the
// deliberation is still awaited.
func TestDeliberationSurvivesSettlementRequest(t *testing.T) {
	t.Parallel()
	s, v := inAnalyzing(t)
	step(t, s, func(s *court.Session) error { return s.RequestSettlement("bob", tm(3), d1) })
	require.Equal(t, []court.JudgeCall{{Kind: court.JudgeDeliberate, Version: v}}, s.PendingJudgeCalls())
	step(t, s, applyAt(v))
	require.Equal(t, court.PhasePriming, s.Phase)
}

// R11: an error verdict gets a VERDICT timer, which tosses it, and can
// never be accepted into a case.
func TestR11ErrorVerdict(t *testing.T) {
	t.Parallel()
	s, v := inAnalyzing(t)
	step(t, s, failAt(v, "Content flagged for safety. Counseling recommended."))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	require.JSONEq(t, `{"status":"error","error":"Content flagged for safety. Counseling recommended."}`, string(s.Verdict))
	require.Equal(t, tm(4).Add(time.Hour).UnixMilli(), s.PhaseDeadline)
	require.Equal(t, tm(4).UnixMilli(), *s.ResolvedAt)
	require.Empty(t, s.VerdictHistory)
	require.Empty(t, s.TakeEffects())
	require.Equal(t, "VERDICT", court.ViewPhase(s, "alice"))

	refuse(t, s, "Verdict unavailable. Please dismiss this case.", func(s *court.Session) error {
		return s.AcceptVerdict("alice", "case-1", tm(5), d1)
	})
	step(t, s, func(s *court.Session) error { return s.Expire(time.UnixMilli(s.PhaseDeadline), "case-1", d1) })
	require.True(t, s.Ended())
	require.Equal(t, court.EndTimeout, s.EndReason)
	require.Nil(t, s.CaseID)
	require.Equal(t, []court.Effect{memoryJob(s)}, s.TakeEffects(), "tossed: no SaveCase")

	s, v = inAnalyzing(t)
	step(t, s, failAt(v, ""))
	require.JSONEq(t, `{"status":"error","error":"Verdict generation failed"}`, string(s.Verdict))
}

func TestHybridStaleAfterPhaseChange(t *testing.T) {
	t.Parallel()
	s, hv := inMismatch(t)
	step(t, s, pickBy("alice", "resolution_1"))
	require.NoError(t, s.AcceptPartnerResolution("alice", tm(9), d1))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	refuseIs(t, s, court.ErrStaleResult, func(s *court.Session) error { return s.ApplyHybrid(hv, json.RawMessage(hybridJSON)) })
	refuseIs(t, s, court.ErrStaleResult, func(s *court.Session) error { return s.FailHybrid(hv) })
}
