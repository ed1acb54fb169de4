package court_test

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// closedWithAddendum runs creator and partner through a case with one
// addendum by the partner, and closes it.
func closedWithAddendum(t *testing.T, creator, partner string) *court.Session {
	t.Helper()
	s, err := court.NewSession("sess-1", creator, partner, "", "", t0, d1)
	require.NoError(t, err)
	both := []string{creator, partner}
	require.NoError(t, s.Accept(partner, tm(1), d1))
	require.NoError(t, s.SubmitEvidence(creator, "c-facts", "c-feel", "c-need", tm(2), d1))
	require.NoError(t, s.SubmitEvidence(partner, "p-facts", "p-feel", "p-need", tm(2), d1))
	for round := range 2 {
		require.NoError(t, s.ApplyDeliberation(s.DeliberationVersion, deliberation(), tm(3), d1))
		for _, u := range both {
			require.NoError(t, s.MarkPrimingComplete(u, tm(4), d1))
		}
		for _, u := range both {
			require.NoError(t, s.MarkJointReady(u, tm(5), d1))
		}
		require.NoError(t, s.SubmitResolutionPick(creator, "resolution_1", tm(6), d1))
		require.NoError(t, s.SubmitResolutionPick(partner, "resolution_1", tm(6), d1))
		if round == 0 {
			require.NoError(t, s.SubmitAddendum(partner, "one more thing", tm(7), d1))
		}
	}
	require.NoError(t, s.AcceptVerdict(creator, "", tm(8), d1))
	require.NoError(t, s.AcceptVerdict(partner, "case-1", tm(8), d1))
	require.Equal(t, court.PhaseClosed, s.Phase)
	return s
}

func TestCaseRow(t *testing.T) {
	t.Parallel()
	// The creator sorts last: user a of the case is the partner (R21).
	s := closedWithAddendum(t, "zed", "amy")
	rec := court.CaseRow(s)
	require.Equal(t, "amy", rec.UserAID)
	require.Equal(t, "zed", rec.UserBID)
	require.Equal(t, "p-facts", rec.UserAInput)
	require.Equal(t, "p-feel", rec.UserAFeelings)
	require.Equal(t, "p-need", rec.UserANeeds)
	require.Equal(t, "c-facts", rec.UserBInput)
	require.Equal(t, "c-feel", rec.UserBFeelings)
	require.Equal(t, "c-need", rec.UserBNeeds)
	require.Equal(t, "RESOLVED", rec.Status)
	require.Equal(t, "en", rec.CaseLanguage)
	require.Equal(t, "The dishes", *rec.CaseTitle)
	require.Equal(t, "moderate", *rec.SeverityLevel)
	require.Nil(t, rec.PrimaryHissTag)
	require.Equal(t, "Take turns", *rec.ShortResolution)

	require.Len(t, rec.Verdicts, 2)
	v1, v2 := rec.Verdicts[0], rec.Verdicts[1]
	require.Equal(t, 1, v1.Version)
	require.Nil(t, v1.AddendumBy)
	require.Nil(t, v1.AddendumText)
	require.Equal(t, 2, v2.Version)
	require.Equal(t, "userB", *v2.AddendumBy, "relative to the creator")
	require.Equal(t, "one more thing", *v2.AddendumText)

	var content map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(v2.Content, &content))
	require.ElementsMatch(t, []string{"theSummary", "theSentence", "closingStatement", "_meta"}, slices.Collect(maps.Keys(content)))
	var meta map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(content["_meta"], &meta))
	require.JSONEq(t, analysisJSON, string(meta["analysis"]))
	require.JSONEq(t, `false`, string(meta["isHybrid"]))
	require.Equal(t, "resolution_1", idOf(t, meta["finalResolution"]))
	require.Contains(t, meta, "userAResolutionPick")
}

func TestCaseRowFallbacks(t *testing.T) {
	t.Parallel()
	s := closedWithAddendum(t, "alice", "bob")
	rec := court.CaseRow(s)
	require.Equal(t, "alice", rec.UserAID)
	require.Equal(t, "c-facts", rec.UserAInput)

	// No caseMetadata: the short resolution is the final resolution's title.
	s.Analysis = json.RawMessage(`{"summary":"s"}`)
	s.VerdictHistory = nil
	s.Verdict = json.RawMessage(`{"status":"success","judgeContent":{"theSummary":"x"},"_meta":{"isHybrid":true}}`)
	rec = court.CaseRow(s)
	require.Nil(t, rec.CaseTitle)
	require.Equal(t, "Take turns", *rec.ShortResolution)
	require.Len(t, rec.Verdicts, 1)
	require.Equal(t, 1, rec.Verdicts[0].Version)
	require.JSONEq(t, `{"theSummary":"x","_meta":{"analysis":null,"assessedIntensity":null,"resolutions":null,
		"primingContent":null,"jointMenu":null,"isHybrid":true,
		"finalResolution":{"id":"resolution_1","title":"Take turns","description":"Alternate nights","rationale":"fair"}}}`,
		string(rec.Verdicts[0].Content))
}

func TestCaseData(t *testing.T) {
	t.Parallel()
	s := closedWithAddendum(t, "zed", "amy")
	require.JSONEq(t, `{
		"participants": {
			"userA": {"id":"zed","name":null,"language":"en"},
			"userB": {"id":"amy","name":null,"language":"en"}
		},
		"submissions": {
			"userA": {"cameraFacts":"c-facts","theStoryIamTellingMyself":"c-feel","unmetNeeds":"c-need","selectedPrimaryEmotion":"","coreNeed":""},
			"userB": {"cameraFacts":"p-facts","theStoryIamTellingMyself":"p-feel","unmetNeeds":"p-need","selectedPrimaryEmotion":"","coreNeed":""}
		},
		"addendumHistory": [{"userId":"amy","fromUser":"userB","text":"one more thing","submittedAt":1700000420000}],
		"language": "en"
	}`, string(court.CaseData(s)))

	p := newPending(t)
	require.JSONEq(t, `{
		"participants": {"userA": {"id":"alice","name":null,"language":"en"}, "userB": {"id":"bob","name":null,"language":"en"}},
		"submissions": {
			"userA": {"cameraFacts":null,"theStoryIamTellingMyself":null,"unmetNeeds":"","selectedPrimaryEmotion":"","coreNeed":""},
			"userB": {"cameraFacts":null,"theStoryIamTellingMyself":null,"unmetNeeds":"","selectedPrimaryEmotion":"","coreNeed":""}
		},
		"addendumHistory": [], "language": "en"
	}`, string(court.CaseData(p)))
}

// BenchmarkCloseCase is the transition that closes a case of realistic size
// (the verdict envelope repeats the analysis, resolutions, priming and
// menu: about 30 KiB) and the case record the store then writes: what the
// home spends on the LLM outputs at the end of every session.
func BenchmarkCloseCase(b *testing.B) {
	big := verdictSized(b) // its LLM outputs, as the judge would give them
	d := court.Deliberation{Analysis: big.Analysis, Resolutions: big.Resolutions,
		AssessedIntensity: big.AssessedIntensity, PrimingContent: big.PrimingContent, JointMenu: big.JointMenu}
	s, err := court.NewSession("sess-1", "alice", "bob", "", "", t0, d1)
	require.NoError(b, err)
	require.NoError(b, s.Accept("bob", tm(1), d1))
	require.NoError(b, s.SubmitEvidence("alice", "a-facts", "a-feel", "a-need", tm(2), d1))
	require.NoError(b, s.SubmitEvidence("bob", "b-facts", "b-feel", "b-need", tm(2), d1))
	require.NoError(b, s.ApplyDeliberation(s.DeliberationVersion, d, tm(3), d1))
	for _, u := range []string{"alice", "bob"} {
		require.NoError(b, s.MarkPrimingComplete(u, tm(4), d1))
	}
	for _, u := range []string{"alice", "bob"} {
		require.NoError(b, s.MarkJointReady(u, tm(5), d1))
	}
	require.NoError(b, s.SubmitResolutionPick("alice", "resolution_1", tm(6), d1))
	require.NoError(b, s.SubmitResolutionPick("bob", "resolution_1", tm(6), d1))
	require.NoError(b, s.AcceptVerdict("alice", "", tm(8), d1))
	s.TakeEffects()
	b.ReportAllocs()
	for b.Loop() {
		next := s.Clone()
		if err := next.AcceptVerdict("bob", "0b8c4f6e-2f55-4f0e-a1c2-5d7e9b3a1c00", tm(9), d1); err != nil {
			b.Fatal(err)
		}
		next.TakeEffects()
		if rec := court.CaseRow(next); len(rec.Verdicts) != 1 || next.Phase != court.PhaseClosed {
			b.Fatalf("not closed: %s, %d verdicts", next.Phase, len(rec.Verdicts))
		}
	}
	b.ReportMetric(float64(len(s.Verdict)), "verdict-bytes")
}
