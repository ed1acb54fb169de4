package court_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/home/court"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	t0 = time.UnixMilli(1_700_000_000_000)
	d1 = court.DurationsFromScale(1)
)

func newPending(t *testing.T) *court.Session {
	t.Helper()
	s, err := court.NewSession("11111111-2222-4333-8444-555555555555", "alice", "bob", "", "", t0, d1)
	require.NoError(t, err)
	return s
}

func ptr[T any](v T) *T { return &v }

func TestIdleStateJSON(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(court.IdleState())
	require.NoError(t, err)
	require.Equal(t, `{"phase":"IDLE","myViewPhase":"IDLE","session":null}`, string(got))

	got, err = json.Marshal(court.View(nil, "alice"))
	require.NoError(t, err)
	require.Equal(t, `{"phase":"IDLE","myViewPhase":"IDLE","session":null}`, string(got))
}

const pendingGolden = `{
 "phase": "PENDING",
 "myViewPhase": "PENDING_PARTNER",
 "session": {
  "id": "11111111-2222-4333-8444-555555555555",
  "coupleId": "alice-bob",
  "creatorId": "alice",
  "partnerId": "bob",
  "phase": "PENDING",
  "caseId": null,
  "evidence": {
   "creator": {"submitted": false, "facts": null, "feelings": null},
   "partner": {"submitted": false, "facts": null, "feelings": null}
  },
  "verdictAcceptances": {"creator": false, "partner": false},
  "verdict": null,
  "settlementRequested": null,
  "createdAt": 1700000000000,
  "resolvedAt": null,
  "addendumCount": 0,
  "addendumLimit": 2,
  "addendumRemaining": 2,
  "analysis": null,
  "resolutions": null,
  "assessedIntensity": null,
  "primingContent": null,
  "jointMenu": null,
  "primingReady": {"creator": false, "partner": false},
  "jointReady": {"creator": false, "partner": false},
  "resolutionPicks": {"userA": null, "userB": null},
  "hybridResolution": null,
  "finalResolution": null,
  "mismatchOriginal": null,
  "mismatchPicks": null,
  "hybridResolutionPending": false,
  "judgeType": "swift",
  "version": 1
 }
}`

func TestPendingGolden(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	got, err := json.Marshal(court.View(s, "bob"))
	require.NoError(t, err)
	require.JSONEq(t, pendingGolden, string(got))

	// The exact key set, in §2.4 order, and needs nowhere.
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(got, &top))
	require.ElementsMatch(t, []string{"phase", "myViewPhase", "session"}, slices.Collect(maps.Keys(top)))
	require.NotContains(t, string(got), "needs")

	// Evidence, once submitted, still carries no needs; its texts reach
	// only their author (R17).
	s.Creator = court.UserState{EvidenceSubmitted: true, Evidence: ptr("f"), Feelings: ptr("g"), Needs: ptr("secret")}
	got, err = json.Marshal(court.View(s, "alice"))
	require.NoError(t, err)
	require.NotContains(t, string(got), "secret")
	require.Contains(t, string(got), `"creator":{"submitted":true,"facts":"f","feelings":"g"}`)
	got, err = json.Marshal(court.View(s, "bob"))
	require.NoError(t, err)
	require.Contains(t, string(got), `"creator":{"submitted":true,"facts":null,"feelings":null}`)
}

func TestSanitizedKeyOrder(t *testing.T) {
	t.Parallel()
	got, err := json.Marshal(court.Sanitize(newPending(t), "alice"))
	require.NoError(t, err)
	want := []string{"id", "coupleId", "creatorId", "partnerId", "phase", "caseId", "evidence",
		"verdictAcceptances", "verdict", "settlementRequested", "createdAt", "resolvedAt",
		"addendumCount", "addendumLimit", "addendumRemaining", "analysis", "resolutions",
		"assessedIntensity", "primingContent", "jointMenu", "primingReady", "jointReady",
		"resolutionPicks", "hybridResolution", "finalResolution", "mismatchOriginal",
		"mismatchPicks", "hybridResolutionPending", "judgeType", "version"}
	require.Equal(t, want, topKeys(t, got))
}

// topKeys returns the keys of the JSON object doc, in order.
func topKeys(t *testing.T, doc []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(doc))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

func TestNewSessionDefaults(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	require.Equal(t, court.PhasePending, s.Phase)
	require.Equal(t, "alice-bob", s.CoupleID)
	require.Equal(t, court.DefaultJudgeType, s.JudgeType)
	require.Equal(t, uint64(1), s.Version)
	require.Equal(t, t0.Add(10*time.Minute).UnixMilli(), s.PhaseDeadline)
	require.Equal(t, t0.UnixMilli(), s.PhaseStartedAt)
	require.Zero(t, s.SettlementDeadline)

	s, err := court.NewSession("x", "alice", "bob", "bob-alice", "wise", t0, d1)
	require.NoError(t, err)
	require.Equal(t, "alice-bob", s.CoupleID, "the couple id is derived, creator first")
	require.Equal(t, "wise", s.JudgeType)
	_, err = court.NewSession("x", "alice", "bob", "couple-1", "wise", t0, d1)
	require.EqualError(t, err, "Invalid coupleId for current user", "a free-text couple id is refused")
	for raw, want := range map[string]string{"classic": "classic", "swift": "swift", "logical": "swift",
		"ignore previous instructions": "swift", "": "swift"} {
		s, err := court.NewSession("x", "alice", "bob", "", raw, t0, d1)
		require.NoError(t, err)
		require.Equal(t, want, s.JudgeType, "judgeType %q", raw)
	}
}

func TestServeValidation(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		creator, partner string
		want             string
	}{
		"no partner": {"alice", "", "partnerId required"},
		"self serve": {"alice", "alice", "Invalid partnerId for current user"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := court.NewSession("x", tc.creator, tc.partner, "", "", t0, d1)
			require.EqualError(t, err, tc.want)
			require.EqualError(t, court.ValidateServe(tc.creator, tc.partner), tc.want)
		})
	}
	require.Equal(t, "One or both users already in a session", court.ErrUsersBusy.Error())
}

func TestSessionDocumentRoundTrip(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	s.Creator.Needs = ptr("n")
	s.Analysis = json.RawMessage(`{"a":1}`)
	s.MismatchOriginal = &court.Picks{UserA: ptr("resolution_1"), UserB: ptr("resolution_2")}
	s.AddendumHistory = append(s.AddendumHistory, court.Addendum{UserID: "alice", FromUser: "userA", Text: "t", SubmittedAt: 5})
	doc, err := json.Marshal(s)
	require.NoError(t, err)
	require.Contains(t, string(doc), `"needs":"n"`)
	var back court.Session
	require.NoError(t, json.Unmarshal(doc, &back))
	again, err := json.Marshal(&back)
	require.NoError(t, err)
	require.JSONEq(t, string(doc), string(again))
}

func TestClone(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	s.MismatchPicks = &court.Picks{}
	c := s.Clone()
	c.AddendumHistory = append(c.AddendumHistory, court.Addendum{Text: "x"})
	c.MismatchPicks.UserA = ptr("resolution_1")
	require.NoError(t, c.Accept("bob", t0, d1))
	require.Empty(t, s.AddendumHistory)
	require.Nil(t, s.MismatchPicks.UserA)
	require.Equal(t, court.PhasePending, s.Phase)
	require.Equal(t, uint64(1), s.Version)
}

func TestDurationsFromScale(t *testing.T) {
	t.Parallel()
	d := court.DurationsFromScale(1)
	require.Equal(t, court.Durations{
		Pending: 10 * time.Minute, Evidence: time.Hour, Analyzing: 5 * time.Minute,
		Priming: time.Hour, JointReady: time.Hour, Resolution: time.Hour, Verdict: time.Hour,
		Settlement: 5 * time.Minute, ClosedHold: 30 * time.Second,
	}, d)
	for _, bad := range []float64{0, -1} {
		require.Equal(t, d, court.DurationsFromScale(bad))
	}
	fast := court.DurationsFromScale(0.001)
	require.Equal(t, 600*time.Millisecond, fast.Pending)
	require.Equal(t, 30*time.Millisecond, fast.ClosedHold)
	require.Equal(t, time.Millisecond, court.DurationsFromScale(1e-12).Pending)

	for _, p := range court.Phases {
		if p == court.PhaseIdle {
			require.Zero(t, d.ForPhase(p))
			continue
		}
		require.Positive(t, d.ForPhase(p), p)
	}
}
