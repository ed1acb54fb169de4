package court_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func TestViewPhase(t *testing.T) {
	t.Parallel()
	type mod func(s *court.Session)
	inPhase := func(p court.Phase, mods ...mod) func(*court.Session) {
		return func(s *court.Session) {
			s.Phase = p
			for _, m := range mods {
				m(s)
			}
		}
	}
	creatorSubmitted := func(s *court.Session) { s.Creator.EvidenceSubmitted = true }
	partnerSubmitted := func(s *court.Session) { s.Partner.EvidenceSubmitted = true }
	creatorPrimed := func(s *court.Session) { s.Creator.PrimingReady = true }
	partnerPrimed := func(s *court.Session) { s.Partner.PrimingReady = true }
	creatorJoint := func(s *court.Session) { s.Creator.JointReady = true }
	partnerJoint := func(s *court.Session) { s.Partner.JointReady = true }
	creatorAccepted := func(s *court.Session) { s.Creator.VerdictAccepted = true }
	partnerAccepted := func(s *court.Session) { s.Partner.VerdictAccepted = true }
	pickA := func(id string) mod { return func(s *court.Session) { s.UserAResolutionPick = ptr(id) } }
	pickB := func(id string) mod { return func(s *court.Session) { s.UserBResolutionPick = ptr(id) } }
	final := func(s *court.Session) { s.FinalResolution = json.RawMessage(`{"id":"resolution_1"}`) }
	original := func(s *court.Session) {
		s.MismatchOriginal = &court.Picks{UserA: ptr("resolution_1"), UserB: ptr("resolution_2")}
	}

	for _, tc := range []struct {
		name             string
		set              func(*court.Session)
		creator, partner string
	}{
		{"pending", inPhase(court.PhasePending), "PENDING_CREATOR", "PENDING_PARTNER"},
		{"evidence none", inPhase(court.PhaseEvidence), "EVIDENCE", "EVIDENCE"},
		{"evidence creator", inPhase(court.PhaseEvidence, creatorSubmitted), "WAITING_EVIDENCE", "EVIDENCE"},
		{"evidence partner", inPhase(court.PhaseEvidence, partnerSubmitted), "EVIDENCE", "WAITING_EVIDENCE"},
		{"evidence both", inPhase(court.PhaseEvidence, creatorSubmitted, partnerSubmitted), "WAITING_EVIDENCE", "WAITING_EVIDENCE"},
		{"analyzing", inPhase(court.PhaseAnalyzing), "ANALYZING", "ANALYZING"},
		{"priming none", inPhase(court.PhasePriming), "PRIMING", "PRIMING"},
		{"priming creator", inPhase(court.PhasePriming, creatorPrimed), "WAITING_PRIMING", "PRIMING"},
		{"priming partner", inPhase(court.PhasePriming, partnerPrimed), "PRIMING", "WAITING_PRIMING"},
		{"priming both", inPhase(court.PhasePriming, creatorPrimed, partnerPrimed), "PRIMING", "PRIMING"},
		{"joint none", inPhase(court.PhaseJointReady), "JOINT_MENU", "JOINT_MENU"},
		{"joint creator", inPhase(court.PhaseJointReady, creatorJoint), "WAITING_JOINT", "JOINT_MENU"},
		{"joint partner", inPhase(court.PhaseJointReady, partnerJoint), "JOINT_MENU", "WAITING_JOINT"},
		{"joint both", inPhase(court.PhaseJointReady, creatorJoint, partnerJoint), "JOINT_MENU", "JOINT_MENU"},
		{"resolution none", inPhase(court.PhaseResolution), "RESOLUTION_SELECT", "RESOLUTION_SELECT"},
		{"resolution creator", inPhase(court.PhaseResolution, pickA("resolution_1")), "WAITING_RESOLUTION", "RESOLUTION_SELECT"},
		{"resolution partner", inPhase(court.PhaseResolution, pickB("resolution_1")), "RESOLUTION_SELECT", "WAITING_RESOLUTION"},
		{"resolution same", inPhase(court.PhaseResolution, pickA("resolution_1"), pickB("resolution_1")), "RESOLUTION_SELECT", "RESOLUTION_SELECT"},
		{"resolution differ", inPhase(court.PhaseResolution, pickA("resolution_1"), pickB("resolution_2")), "RESOLUTION_MISMATCH", "RESOLUTION_MISMATCH"},
		{"resolution differ final", inPhase(court.PhaseResolution, pickA("resolution_1"), pickB("resolution_2"), final), "RESOLUTION_SELECT", "RESOLUTION_SELECT"},
		{"resolution original", inPhase(court.PhaseResolution, original), "RESOLUTION_MISMATCH", "RESOLUTION_MISMATCH"},
		{"resolution original final", inPhase(court.PhaseResolution, original, final, pickA("resolution_1")), "RESOLUTION_MISMATCH", "RESOLUTION_MISMATCH"},
		{"verdict none", inPhase(court.PhaseVerdict), "VERDICT", "VERDICT"},
		{"verdict creator", inPhase(court.PhaseVerdict, creatorAccepted), "WAITING_ACCEPT", "VERDICT"},
		{"verdict partner", inPhase(court.PhaseVerdict, partnerAccepted), "VERDICT", "WAITING_ACCEPT"},
		{"verdict both", inPhase(court.PhaseVerdict, creatorAccepted, partnerAccepted), "VERDICT", "VERDICT"},
		{"closed", inPhase(court.PhaseClosed), "CLOSED", "CLOSED"},
		{"unknown", inPhase(court.Phase("WAITING")), "IDLE", "IDLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newPending(t)
			tc.set(s)
			require.Equal(t, tc.creator, court.ViewPhase(s, "alice"))
			require.Equal(t, tc.partner, court.ViewPhase(s, "bob"))
			st := court.View(s, "bob")
			require.Equal(t, string(s.Phase), st.Phase)
			require.Equal(t, tc.partner, st.MyViewPhase)
			require.Equal(t, court.Sanitize(s, "bob"), st.Session)
			require.Equal(t, court.Sanitize(s, "alice"), court.View(s, "alice").Session)
		})
	}
}

func TestViewOfEndedSessionIsIdle(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	require.NoError(t, s.Dismiss("bob"))
	require.Equal(t, court.IdleState(), court.View(s, "alice"))
}

func TestSanitizeValues(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	s.AddendumCount = 3
	s.CaseID = ptr("case-1")
	s.SettlementRequested = ptr("alice")
	s.Verdict = json.RawMessage(`{"status":"success"}`)
	s.Analysis = json.RawMessage{}
	s.JointMenu = json.RawMessage(`null`)
	s.HybridResolutionPending = true
	s.UserAResolutionPick = ptr("resolution_2")
	z := court.Sanitize(s, "alice")
	require.Equal(t, 0, z.AddendumRemaining)
	require.Equal(t, court.AddendumLimit, z.AddendumLimit)
	require.Equal(t, "case-1", *z.CaseID)
	require.Equal(t, "alice", *z.SettlementRequested)
	require.Equal(t, "resolution_2", *z.ResolutionPicks.UserA)
	require.Nil(t, z.ResolutionPicks.UserB)
	got, err := json.Marshal(z)
	require.NoError(t, err)
	require.Contains(t, string(got), `"verdict":{"status":"success"}`)
	require.Contains(t, string(got), `"analysis":null`)
	require.Contains(t, string(got), `"jointMenu":null`)
	require.Contains(t, string(got), `"hybridResolutionPending":true`)
}
