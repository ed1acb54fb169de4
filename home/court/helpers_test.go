package court_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// A judge result as the pipeline returns it.
const (
	analysisJSON    = `{"caseMetadata":{"caseTitle":"The dishes","severityLevel":"moderate","primaryHissTag":null,"shortResolution":"Take turns"},"summary":"s"}`
	resolutionsJSON = `[{"id":"resolution_1","title":"Take turns","description":"Alternate nights","rationale":"fair"},` +
		`{"id":"resolution_2","title":"Hire help","combinedDescription":"Get a cleaner","rationale":"time"},` +
		`{"id":"resolution_3","title":"Talk","description":"Weekly check-in"}]`
	primingJSON = `{"userA":{"p":"a"},"userB":{"p":"b"}}`
	menuJSON    = `{"theSummary":"You both care.","closingWisdom":"Be kind."}`
	hybridJSON  = `{"title":"Take turns with help","description":"Alternate, and a cleaner monthly","rationale":"both","fromUserA":"turns","fromUserB":"help"}`
)

func deliberation() court.Deliberation {
	return court.Deliberation{
		Analysis:          json.RawMessage(analysisJSON),
		Resolutions:       json.RawMessage(resolutionsJSON),
		AssessedIntensity: json.RawMessage(`"moderate"`),
		HistoricalContext: json.RawMessage(`"none"`),
		PrimingContent:    json.RawMessage(primingJSON),
		JointMenu:         json.RawMessage(menuJSON),
	}
}

// step runs a transition that must succeed and change s: one new version.
func step(t *testing.T, s *court.Session, fn func(*court.Session) error) {
	t.Helper()
	before := s.Version
	require.NoError(t, fn(s))
	require.Equal(t, before+1, s.Version, "one version per transition")
}

// refuse runs a transition that must fail with want and change nothing.
func refuse(t *testing.T, s *court.Session, want string, fn func(*court.Session) error) {
	t.Helper()
	s.TakeEffects()
	snapshot := s.Clone()
	require.EqualError(t, fn(s), want)
	require.Equal(t, snapshot, s, "a refused call changes nothing")
	require.Empty(t, s.TakeEffects())
}

// refuseIs is refuse for a caller error.
func refuseIs(t *testing.T, s *court.Session, want error, fn func(*court.Session) error) {
	t.Helper()
	s.TakeEffects()
	snapshot := s.Clone()
	require.ErrorIs(t, fn(s), want)
	require.Equal(t, snapshot, s, "a refused call changes nothing")
	require.Empty(t, s.TakeEffects())
}

// noop runs a call that is accepted but has nothing to change.
func noop(t *testing.T, s *court.Session, fn func(*court.Session) error) {
	t.Helper()
	s.TakeEffects()
	snapshot := s.Clone()
	require.NoError(t, fn(s))
	require.Equal(t, snapshot, s)
	require.Empty(t, s.TakeEffects())
}

// tm is t0 plus n minutes: the flow's clock.
func tm(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }

// inEvidence returns a session in EVIDENCE.
func inEvidence(t *testing.T) *court.Session {
	t.Helper()
	s := newPending(t)
	step(t, s, func(s *court.Session) error { return s.Accept("bob", tm(1), d1) })
	s.TakeEffects()
	return s
}

// inAnalyzing returns a session in ANALYZING and its deliberation's version.
func inAnalyzing(t *testing.T) (*court.Session, uint64) {
	t.Helper()
	s := inEvidence(t)
	step(t, s, func(s *court.Session) error { return s.SubmitEvidence("alice", "she said", "sad", "calm", tm(2), d1) })
	step(t, s, func(s *court.Session) error { return s.SubmitEvidence("bob", "he said", "angry", "rest", tm(3), d1) })
	s.TakeEffects()
	return s, s.Version
}

// inPriming returns a session in PRIMING.
func inPriming(t *testing.T) *court.Session {
	t.Helper()
	s, v := inAnalyzing(t)
	step(t, s, func(s *court.Session) error { return s.ApplyDeliberation(v, deliberation(), tm(4), d1) })
	return s
}

// inResolution returns a session in RESOLUTION.
func inResolution(t *testing.T) *court.Session {
	t.Helper()
	s := inPriming(t)
	for _, u := range []string{"alice", "bob"} {
		step(t, s, func(s *court.Session) error { return s.MarkPrimingComplete(u, tm(5), d1) })
	}
	for _, u := range []string{"alice", "bob"} {
		step(t, s, func(s *court.Session) error { return s.MarkJointReady(u, tm(6), d1) })
	}
	require.Equal(t, court.PhaseResolution, s.Phase)
	s.TakeEffects()
	return s
}

// inVerdict returns a session in VERDICT, both having picked resolution_1.
func inVerdict(t *testing.T) *court.Session {
	t.Helper()
	s := inResolution(t)
	pickBoth(t, s, "resolution_1", "resolution_1")
	require.Equal(t, court.PhaseVerdict, s.Phase)
	return s
}

// inMismatch returns a session in a resolution mismatch and the version of
// its hybrid call.
func inMismatch(t *testing.T) (*court.Session, uint64) {
	t.Helper()
	s := inResolution(t)
	pickBoth(t, s, "resolution_1", "resolution_2")
	require.True(t, court.MismatchActive(s))
	require.Equal(t, []court.Effect{court.JudgeCall{Kind: court.JudgeHybrid, Version: s.Version}}, s.TakeEffects())
	return s, s.Version
}

// pickBoth has alice then bob pick; effects are left in s.
func pickBoth(t *testing.T, s *court.Session, a, b string) {
	t.Helper()
	s.TakeEffects()
	step(t, s, func(s *court.Session) error { return s.SubmitResolutionPick("alice", a, tm(7), d1) })
	step(t, s, func(s *court.Session) error { return s.SubmitResolutionPick("bob", b, tm(8), d1) })
}

// memoryJob is the toss memory job of s.
func memoryJob(s *court.Session) court.MemoryJob {
	return court.MemoryJob{SessionID: s.ID, Case: court.CaseData(s)}
}

// resolvedOf returns the CaseResolved among effects.
func resolvedOf(t *testing.T, effects []court.Effect) court.CaseResolved {
	t.Helper()
	for _, e := range effects {
		if r, ok := e.(court.CaseResolved); ok {
			return r
		}
	}
	t.Fatal("no CaseResolved effect")
	return court.CaseResolved{}
}
