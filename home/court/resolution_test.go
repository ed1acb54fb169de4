package court_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func pickBy(u, id string) func(*court.Session) error {
	return func(s *court.Session) error { return s.SubmitResolutionPick(u, id, tm(8), d1) }
}

func TestResolutionPickGuards(t *testing.T) {
	t.Parallel()
	refuse(t, inPriming(t), "Not in RESOLUTION phase", pickBy("alice", "resolution_1"))
	s := inResolution(t)
	refuse(t, s, "User not authorized for this session", pickBy("mallory", "resolution_1"))
	refuse(t, s, "Invalid resolution ID", pickBy("alice", ""))
	refuse(t, s, "Resolution not found", pickBy("alice", "resolution_9"))
	refuse(t, s, "Resolution not found", pickBy("alice", "resolution_hybrid"))
	require.Equal(t, "resolutionId required", court.ErrResolutionIDRequired.Error())
}

func TestResolutionSamePick(t *testing.T) {
	t.Parallel()
	s := inResolution(t)
	step(t, s, pickBy("alice", "resolution_2"))
	require.Equal(t, "WAITING_RESOLUTION", court.ViewPhase(s, "alice"))
	step(t, s, pickBy("alice", "resolution_1")) // changed before the partner picked
	step(t, s, pickBy("bob", "resolution_1"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	require.JSONEq(t, `{"id":"resolution_1","title":"Take turns","description":"Alternate nights","rationale":"fair"}`, string(s.FinalResolution))
	require.Empty(t, s.TakeEffects(), "no judge call for a verdict")
	require.Equal(t, tm(8).UnixMilli(), *s.ResolvedAt)
	require.Equal(t, tm(8).Add(d1.Verdict).UnixMilli(), s.PhaseDeadline)
}

// TestResolutionPickAgain: picking again what one picked changes nothing,
// so a retried pick (its answer lost as an edge restarted) commits no
// second transition; a different pick still changes it.
func TestResolutionPickAgain(t *testing.T) {
	t.Parallel()
	s := inResolution(t)
	step(t, s, pickBy("alice", "resolution_1"))
	v := s.Version
	require.NoError(t, pickBy("alice", "resolution_1")(s))
	require.Equal(t, v, s.Version, "no new version")
	step(t, s, pickBy("alice", "resolution_2"))
	step(t, s, pickBy("bob", "resolution_2"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
}

func TestMismatchHybridAgree(t *testing.T) {
	t.Parallel()
	s, hv := inMismatch(t)
	require.Equal(t, &court.Picks{UserA: ptr("resolution_1"), UserB: ptr("resolution_2")}, s.MismatchOriginal)
	require.Equal(t, &court.Picks{}, s.MismatchPicks)
	require.True(t, s.HybridResolutionPending)
	require.Equal(t, "RESOLUTION_MISMATCH", court.ViewPhase(s, "alice"))
	require.Equal(t, []court.JudgeCall{{Kind: court.JudgeHybrid, Version: hv}}, s.PendingJudgeCalls())

	step(t, s, func(s *court.Session) error { return s.ApplyHybrid(hv, json.RawMessage(hybridJSON)) })
	require.False(t, s.HybridResolutionPending)
	require.Empty(t, s.PendingJudgeCalls())
	var h map[string]any
	require.NoError(t, json.Unmarshal(s.HybridResolution, &h))
	require.Equal(t, "resolution_hybrid", h["id"])
	require.Equal(t, true, h["isHybrid"])
	require.Equal(t, "Take turns with help", h["title"])

	// Bob picks the hybrid first: his pick is the lock Alice must match.
	step(t, s, pickBy("bob", "resolution_hybrid"))
	require.Equal(t, "RESOLUTION_MISMATCH", court.ViewPhase(s, "bob"))
	refuse(t, s, "You both need to pick the same resolution to continue.", pickBy("alice", "resolution_1"))
	// Bob may still change his own pick while Alice has none.
	step(t, s, pickBy("bob", "resolution_3"))
	step(t, s, pickBy("bob", "resolution_hybrid"))
	step(t, s, pickBy("alice", "resolution_hybrid"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	require.Equal(t, s.HybridResolution, s.FinalResolution)
	var v struct {
		JudgeContent struct {
			TheSentence map[string]string `json:"theSentence"`
		} `json:"judgeContent"`
		Meta struct {
			IsHybrid bool `json:"isHybrid"`
		} `json:"_meta"`
	}
	require.NoError(t, json.Unmarshal(s.Verdict, &v))
	require.True(t, v.Meta.IsHybrid)
	require.Equal(t, "Take turns with help", v.JudgeContent.TheSentence["title"])
	require.Empty(t, s.TakeEffects())
}

func TestMismatchOriginalAgree(t *testing.T) {
	t.Parallel()
	s, _ := inMismatch(t)
	step(t, s, pickBy("alice", "resolution_2"))
	refuse(t, s, "You both need to pick the same resolution to continue.", pickBy("bob", "resolution_1"))
	step(t, s, pickBy("bob", "resolution_2"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	require.Equal(t, "resolution_2", idOf(t, s.FinalResolution))
}

// R10: the hybrid is asked for once per mismatch, never again on a pick.
func TestR10OneHybridPerMismatch(t *testing.T) {
	t.Parallel()
	s, hv := inMismatch(t)
	step(t, s, pickBy("alice", "resolution_1"))
	step(t, s, pickBy("alice", "resolution_2"))
	require.Empty(t, s.TakeEffects(), "a mismatch pick asks no hybrid")
	noop(t, s, func(s *court.Session) error { return s.RequestHybrid("bob") })
	// The one hybrid still lands after the picks moved the version on.
	step(t, s, func(s *court.Session) error { return s.ApplyHybrid(hv, json.RawMessage(hybridJSON)) })
	hybrid := s.HybridResolution
	refuseIs(t, s, court.ErrStaleResult, func(s *court.Session) error {
		return s.ApplyHybrid(hv, json.RawMessage(`{"title":"v2"}`))
	})
	step(t, s, pickBy("alice", "resolution_hybrid"))
	require.Empty(t, s.TakeEffects())
	require.Equal(t, hybrid, s.HybridResolution, "a picked hybrid is never replaced")
	step(t, s, pickBy("bob", "resolution_hybrid"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	require.Equal(t, hybrid, s.FinalResolution)
}

func TestRequestHybrid(t *testing.T) {
	t.Parallel()
	s := inResolution(t)
	req := func(u string) func(*court.Session) error {
		return func(s *court.Session) error { return s.RequestHybrid(u) }
	}
	refuse(t, inPriming(t), "Not in RESOLUTION phase", req("alice"))
	refuse(t, s, "User not authorized for this session", req("mallory"))
	refuse(t, s, "Hybrid resolution is only available after different picks.", req("alice"))

	s, hv := inMismatch(t)
	noop(t, s, req("alice")) // pending
	step(t, s, func(s *court.Session) error { return s.FailHybrid(hv) })
	require.False(t, s.HybridResolutionPending)
	require.Empty(t, s.PendingJudgeCalls())
	refuseIs(t, s, court.ErrStaleResult, func(s *court.Session) error { return s.FailHybrid(hv) })

	step(t, s, req("bob"))
	require.True(t, s.HybridResolutionPending)
	again := s.Version
	require.Equal(t, []court.Effect{court.JudgeCall{Kind: court.JudgeHybrid, Version: again}}, s.TakeEffects())
	refuseIs(t, s, court.ErrStaleResult, func(s *court.Session) error {
		return s.ApplyHybrid(hv, json.RawMessage(hybridJSON))
	})
	refuseIs(t, s, court.ErrBadJudgeResult, func(s *court.Session) error {
		return s.ApplyHybrid(again, json.RawMessage(`["not","an","object"]`))
	})
	step(t, s, func(s *court.Session) error { return s.ApplyHybrid(again, json.RawMessage(hybridJSON)) })
	noop(t, s, req("alice")) // a hybrid exists
}

func TestAcceptPartnerResolution(t *testing.T) {
	t.Parallel()
	accept := func(u string) func(*court.Session) error {
		return func(s *court.Session) error { return s.AcceptPartnerResolution(u, tm(9), d1) }
	}
	refuse(t, inPriming(t), "Not in RESOLUTION phase", accept("alice"))
	s := inResolution(t)
	refuse(t, s, "User not authorized for this session", accept("mallory"))
	refuse(t, s, "Partner has not picked yet", accept("alice"))
	step(t, s, pickBy("bob", "resolution_3"))
	refuse(t, s, "Partner has not picked yet", accept("bob"))
	step(t, s, accept("alice"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	require.Equal(t, "resolution_3", idOf(t, s.FinalResolution))

	// During a mismatch it takes the partner's original pick, no lock.
	s, _ = inMismatch(t)
	step(t, s, pickBy("alice", "resolution_1"))
	step(t, s, accept("alice"))
	require.Equal(t, "resolution_2", idOf(t, s.FinalResolution))
	var v struct {
		Meta map[string]json.RawMessage `json:"_meta"`
	}
	require.NoError(t, json.Unmarshal(s.Verdict, &v))
	require.Equal(t, "resolution_1", idOf(t, v.Meta["userAResolutionPick"]))
	require.Equal(t, "resolution_2", idOf(t, v.Meta["userBResolutionPick"]))
	require.JSONEq(t, `false`, string(v.Meta["isHybrid"]))
}

func idOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(raw, &v))
	return v.ID
}

// A mismatch derived from two different picks only (as the original rebuilt
// it after a restart) gets its original picks recorded by the first pick.
func TestMismatchDerivedFromPicks(t *testing.T) {
	t.Parallel()
	s := inResolution(t)
	s.UserAResolutionPick, s.UserBResolutionPick = ptr("resolution_1"), ptr("resolution_3")
	require.True(t, court.MismatchActive(s))
	step(t, s, pickBy("bob", "resolution_1"))
	require.Equal(t, &court.Picks{UserA: ptr("resolution_1"), UserB: ptr("resolution_3")}, s.MismatchOriginal)
	require.Equal(t, &court.Picks{UserB: ptr("resolution_1")}, s.MismatchPicks)
	require.Empty(t, s.TakeEffects())
	step(t, s, pickBy("alice", "resolution_1"))
	require.Equal(t, court.PhaseVerdict, s.Phase)
}

func TestFindResolution(t *testing.T) {
	t.Parallel()
	s := inResolution(t)
	require.Nil(t, s.FindResolution(""))
	require.Equal(t, "resolution_2", idOf(t, s.FindResolution("resolution_2")))
	s.Resolutions = json.RawMessage(`{"not":"a list"}`)
	require.Nil(t, s.FindResolution("resolution_2"))
}
