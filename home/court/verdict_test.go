package court_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

const verdictGolden = `{
 "status": "success",
 "judgeContent": {
  "theSummary": "You both care.",
  "theSentence": {"title": "Hire help", "description": "Get a cleaner", "rationale": "time"},
  "closingStatement": "Be kind."
 },
 "_meta": {
  "analysis": ` + analysisJSON + `,
  "assessedIntensity": "moderate",
  "resolutions": ` + resolutionsJSON + `,
  "primingContent": ` + primingJSON + `,
  "jointMenu": ` + menuJSON + `,
  "finalResolution": {"id":"resolution_2","title":"Hire help","combinedDescription":"Get a cleaner","rationale":"time"},
  "isHybrid": false,
  "userAResolutionPick": {"id":"resolution_2","title":"Hire help","combinedDescription":"Get a cleaner","rationale":"time"},
  "userBResolutionPick": {"id":"resolution_2","title":"Hire help","combinedDescription":"Get a cleaner","rationale":"time"},
  "hybridResolution": null
 }
}`

func TestVerdictEnvelope(t *testing.T) {
	t.Parallel()
	s := inResolution(t)
	pickBoth(t, s, "resolution_2", "resolution_2")
	require.JSONEq(t, verdictGolden, string(s.Verdict))
	require.Equal(t, []string{"status", "judgeContent", "_meta"}, topKeys(t, s.Verdict))
	require.Len(t, s.VerdictHistory, 1)
	h := s.VerdictHistory[0]
	require.Equal(t, 1, h.Version)
	require.Equal(t, s.Verdict, h.Content)
	require.Nil(t, h.AddendumBy)
	require.Nil(t, h.AddendumText)
	require.Equal(t, "2023-11-14T22:21:20.000Z", h.CreatedAt)
}

func TestVerdictDefaults(t *testing.T) {
	t.Parallel()
	s, v := inAnalyzing(t)
	r := deliberation()
	r.JointMenu = json.RawMessage(`{"theSummary":""}`)
	r.Resolutions = json.RawMessage(`[{"id":"resolution_1"}]`)
	step(t, s, func(s *court.Session) error { return s.ApplyDeliberation(v, r, tm(4), d1) })
	for _, u := range []string{"alice", "bob"} {
		require.NoError(t, s.MarkPrimingComplete(u, tm(5), d1))
	}
	for _, u := range []string{"alice", "bob"} {
		require.NoError(t, s.MarkJointReady(u, tm(6), d1))
	}
	pickBoth(t, s, "resolution_1", "resolution_1")
	var env struct {
		JudgeContent json.RawMessage `json:"judgeContent"`
	}
	require.NoError(t, json.Unmarshal(s.Verdict, &env))
	require.JSONEq(t, `{"theSummary":"Resolution found.","theSentence":{"title":"Resolution"},
		"closingStatement":"May this resolution bring you closer together."}`, string(env.JudgeContent))
}

func TestAcceptVerdict(t *testing.T) {
	t.Parallel()
	accept := func(u, caseID string) func(*court.Session) error {
		return func(s *court.Session) error { return s.AcceptVerdict(u, caseID, tm(10), d1) }
	}
	refuse(t, inResolution(t), "Not in VERDICT phase", accept("alice", "c"))
	s := inVerdict(t)
	s.TakeEffects()
	refuse(t, s, "User not authorized for this session", accept("mallory", "c"))
	step(t, s, accept("alice", ""))
	require.Equal(t, "WAITING_ACCEPT", court.ViewPhase(s, "alice"))
	require.Equal(t, "VERDICT", court.ViewPhase(s, "bob"))
	require.Empty(t, s.TakeEffects())
	noop(t, s, accept("alice", "c"))
	refuseIs(t, s, court.ErrNoCaseID, accept("bob", ""))

	step(t, s, accept("bob", "case-7"))
	require.Equal(t, court.PhaseClosed, s.Phase)
	require.Equal(t, "case-7", *s.CaseID)
	require.Equal(t, tm(10).Add(30*time.Second).UnixMilli(), s.PhaseDeadline)
	caseID := "case-7"
	require.Equal(t, []court.Effect{
		court.SaveCase{CaseID: "case-7"},
		court.MemoryJob{SessionID: s.ID, CaseID: &caseID, Case: court.CaseData(s)},
		court.CaseResolved{Event: "case_resolved", CaseID: "case-7", SessionID: s.ID, CoupleID: "alice-bob",
			CreatorID: "alice", PartnerID: "bob", JudgeType: court.DefaultJudgeType, ResolvedAt: tm(10).UnixMilli(),
			Verdict: court.VerdictSummary{Version: 1, CaseTitle: ptr("The dishes"), SeverityLevel: ptr("moderate"),
				ShortResolution: ptr("Take turns"), Summary: ptr("You both care."), Title: ptr("Take turns")}},
	}, s.TakeEffects(), "R20: the closed case is announced with both users and the verdict summary")
	require.Equal(t, "CLOSED", court.View(s, "bob").MyViewPhase)
}

// R9: a second accept after the close (a retry, or racing the VERDICT
// timer) is refused, so the case is saved once.
func TestR9NoSecondClose(t *testing.T) {
	t.Parallel()
	s := inVerdict(t)
	require.NoError(t, s.AcceptVerdict("alice", "", tm(10), d1))
	require.NoError(t, s.AcceptVerdict("bob", "case-1", tm(10), d1))
	s.TakeEffects()
	for _, u := range []string{"alice", "bob"} {
		refuse(t, s, "Not in VERDICT phase", func(s *court.Session) error { return s.AcceptVerdict(u, "case-2", tm(11), d1) })
	}
	// A timer firing after the close never saves a case either: CLOSED's
	// timer only removes the session.
	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.Expire(tm(10), "case-3", d1) })
	step(t, s, func(s *court.Session) error { return s.Expire(tm(11), "case-3", d1) })
	require.Empty(t, s.TakeEffects())
	require.Equal(t, "case-1", *s.CaseID)
}

func TestAddendum(t *testing.T) {
	t.Parallel()
	add := func(u, text string) func(*court.Session) error {
		return func(s *court.Session) error { return s.SubmitAddendum(u, text, tm(20), d1) }
	}
	refuse(t, inResolution(t), "Addendum only allowed in VERDICT phase", add("alice", "x"))
	s := inVerdict(t)
	refuse(t, s, "User not authorized for this session", add("mallory", "x"))
	require.NoError(t, s.AcceptVerdict("alice", "", tm(10), d1))

	long := strings.Repeat("z", 2100)
	step(t, s, add("bob", long))
	require.Equal(t, court.PhaseAnalyzing, s.Phase)
	require.Equal(t, tm(20).Add(5*time.Minute).UnixMilli(), s.PhaseDeadline)
	require.Equal(t, 1, s.AddendumCount)
	require.Equal(t, court.Addendum{UserID: "bob", FromUser: "userB", Text: long[:2000], SubmittedAt: tm(20).UnixMilli()}, s.AddendumHistory[0])
	require.Equal(t, []court.Effect{court.JudgeCall{Kind: court.JudgeDeliberate, Version: s.Version}}, s.TakeEffects())
	// Everything the pipeline made is gone; the evidence and history stay.
	require.False(t, s.Creator.VerdictAccepted)
	require.Nil(t, s.Verdict)
	require.Nil(t, s.Analysis)
	require.Nil(t, s.FinalResolution)
	require.Nil(t, s.UserAResolutionPick)
	require.Nil(t, s.ResolvedAt)
	require.Equal(t, "she said", *s.Creator.Evidence)
	require.Len(t, s.VerdictHistory, 1)
	require.Equal(t, 1, court.Sanitize(s, "alice").AddendumRemaining)

	// The flow runs again to a second verdict version.
	redo(t, s)
	require.Len(t, s.VerdictHistory, 2)
	v2 := s.VerdictHistory[1]
	require.Equal(t, 2, v2.Version)
	require.Equal(t, "userB", *v2.AddendumBy)
	require.Equal(t, long[:2000], *v2.AddendumText)

	step(t, s, add("alice", "second"))
	require.Equal(t, "userA", s.AddendumHistory[1].FromUser)
	redo(t, s)
	require.Equal(t, "second", *s.VerdictHistory[2].AddendumText)
	refuse(t, s, "Addendum limit reached for this case.", add("alice", "third"))
	require.Zero(t, court.Sanitize(s, "alice").AddendumRemaining)
}

// redo takes a session from ANALYZING to VERDICT again.
func redo(t *testing.T, s *court.Session) {
	t.Helper()
	step(t, s, func(s *court.Session) error {
		return s.ApplyDeliberation(s.DeliberationVersion, deliberation(), tm(21), d1)
	})
	for _, u := range []string{"alice", "bob"} {
		require.NoError(t, s.MarkPrimingComplete(u, tm(22), d1))
	}
	for _, u := range []string{"alice", "bob"} {
		require.NoError(t, s.MarkJointReady(u, tm(23), d1))
	}
	pickBoth(t, s, "resolution_3", "resolution_3")
	require.Equal(t, court.PhaseVerdict, s.Phase)
}

// The store's verdict_history is what json.Marshal writes of the history:
// [] for none, a missing or spaced verdict, addenda with characters it
// escapes.
func TestAppendVerdictHistoryMatchesMarshal(t *testing.T) {
	t.Parallel()
	by, text := "alice", "more <info> & \u2028 \"quoted\"\n"
	for _, h := range [][]court.VerdictVersion{
		nil,
		{{Version: 1, Content: json.RawMessage(`{"status":"success","x":[1,2]}`), CreatedAt: "2023-11-14T22:21:20.000Z"}},
		{{Version: 1, CreatedAt: "t"},
			{Version: 2, Content: json.RawMessage(`{ "status": "success", "s": "<b>" }`), AddendumBy: &by, AddendumText: &text, CreatedAt: "t2"}},
	} {
		want, err := json.Marshal(append([]court.VerdictVersion{}, h...))
		require.NoError(t, err)
		require.Equal(t, string(want), string(court.AppendVerdictHistory([]byte("x"), h)[1:]))
	}
}
