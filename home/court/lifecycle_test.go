package court_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// TestHappyPath runs the 12 actions of §7.3 plus the judge's result and the
// CLOSED removal, checking each version, view and effect, reloading the
// session from its document after every step.
func TestHappyPath(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	var effects []court.Effect
	run := func(fn func(*court.Session) error, phase court.Phase, alice, bob string) {
		t.Helper()
		step(t, s, fn)
		effects = append(effects, s.TakeEffects()...)
		require.Equal(t, phase, s.Phase)
		require.Equal(t, alice, court.View(s, "alice").MyViewPhase)
		require.Equal(t, bob, court.View(s, "bob").MyViewPhase)
		// The flow goes on from the document, as after a reload from the
		// store (nil raw values come back as JSON null).
		doc, err := json.Marshal(s)
		require.NoError(t, err)
		var back court.Session
		require.NoError(t, json.Unmarshal(doc, &back))
		again, err := json.Marshal(&back)
		require.NoError(t, err)
		require.JSONEq(t, string(doc), string(again))
		s = &back
	}
	effects = append(effects, s.TakeEffects()...)
	run(func(s *court.Session) error { return s.Accept("bob", tm(1), d1) }, court.PhaseEvidence, "EVIDENCE", "EVIDENCE")
	run(func(s *court.Session) error { return s.SubmitEvidence("bob", "e", "f", "n", tm(2), d1) }, court.PhaseEvidence, "EVIDENCE", "WAITING_EVIDENCE")
	run(func(s *court.Session) error { return s.SubmitEvidence("alice", "e", "f", "n", tm(3), d1) }, court.PhaseAnalyzing, "ANALYZING", "ANALYZING")
	v := s.DeliberationVersion
	run(applyAt(v), court.PhasePriming, "PRIMING", "PRIMING")
	run(func(s *court.Session) error { return s.MarkPrimingComplete("alice", tm(5), d1) }, court.PhasePriming, "WAITING_PRIMING", "PRIMING")
	run(func(s *court.Session) error { return s.MarkPrimingComplete("bob", tm(5), d1) }, court.PhaseJointReady, "JOINT_MENU", "JOINT_MENU")
	run(func(s *court.Session) error { return s.MarkJointReady("bob", tm(6), d1) }, court.PhaseJointReady, "JOINT_MENU", "WAITING_JOINT")
	run(func(s *court.Session) error { return s.MarkJointReady("alice", tm(6), d1) }, court.PhaseResolution, "RESOLUTION_SELECT", "RESOLUTION_SELECT")
	run(pickBy("alice", "resolution_3"), court.PhaseResolution, "WAITING_RESOLUTION", "RESOLUTION_SELECT")
	run(pickBy("bob", "resolution_3"), court.PhaseVerdict, "VERDICT", "VERDICT")
	run(func(s *court.Session) error { return s.AcceptVerdict("bob", "", tm(9), d1) }, court.PhaseVerdict, "VERDICT", "WAITING_ACCEPT")
	run(func(s *court.Session) error { return s.AcceptVerdict("alice", "case-1", tm(9), d1) }, court.PhaseClosed, "CLOSED", "CLOSED")
	require.Equal(t, uint64(13), s.Version)
	step(t, s, func(s *court.Session) error { return s.Expire(tm(9).Add(30*time.Second), "", d1) })
	require.Equal(t, court.IdleState(), court.View(s, "alice"))

	caseID := "case-1"
	require.Equal(t, []court.Effect{
		court.Notify{UserIDs: []string{"bob"}, Type: court.NotifyCourtSession, Title: "Court Session Request",
			Body: "Your partner wants to settle a dispute in Cat Court", SessionID: s.ID},
		court.Notify{UserIDs: []string{"alice", "bob"}, Type: court.NotifyEvidenceSubmitted, Title: "Evidence Complete",
			Body: "Both partners have submitted evidence. Judge Whiskers is analyzing...", SessionID: s.ID},
		court.JudgeCall{Kind: court.JudgeDeliberate, Version: v},
		court.CountUsage{UserID: "alice", PartnerID: "bob", JudgeType: "swift", At: tm(4).UnixMilli()},
		court.SaveCase{CaseID: caseID},
		court.MemoryJob{SessionID: s.ID, CaseID: &caseID, Case: court.CaseData(s)},
		resolvedOf(t, effects),
	}, effects)
	require.Equal(t, caseID, resolvedOf(t, effects).CaseID)
}
