package court_test

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// fullSession returns a session with every field of it and of its parts set
// to a value that is not the zero value.
func fullSession() *court.Session {
	user := func(n string) court.UserState {
		return court.UserState{EvidenceSubmitted: true, Evidence: ptr(n + " <saw>"), Feelings: ptr(n + " & felt"),
			Needs: ptr(n + " needs \u2028"), VerdictAccepted: true, PrimingReady: true, JointReady: true}
	}
	return &court.Session{
		ID: "id", CoupleID: "a-b", CreatorID: "a", PartnerID: "b", Phase: court.PhaseResolution, CaseID: ptr("case"),
		JudgeType: "classic", CreatorLanguage: "en", PartnerLanguage: "fr", CaseLanguage: "de",
		Creator: user("a"), Partner: user("b"), Verdict: json.RawMessage(`{"v": 1}`),
		AddendumHistory: []court.Addendum{{UserID: "a", FromUser: "userA", Text: "<more>", SubmittedAt: 7}},
		AddendumCount:   1,
		VerdictHistory: []court.VerdictVersion{{Version: 2, Content: json.RawMessage(`{"v":2}`), AddendumBy: ptr("userA"),
			AddendumText: ptr("text"), CreatedAt: "2024-01-01T00:00:00Z"}},
		SettlementRequested: ptr("a"), SettlementRequestedAt: ptr(int64(-3)), CreatedAt: 1, PhaseStartedAt: 2,
		ResolvedAt: ptr(int64(3)), Analysis: json.RawMessage(analysisJSON), Resolutions: json.RawMessage(resolutionsJSON),
		AssessedIntensity: json.RawMessage(`"high"`), HistoricalContext: json.RawMessage(` [ "a" , 1 ] `),
		PrimingContent: json.RawMessage(primingJSON), JointMenu: json.RawMessage(`{}`),
		UserAResolutionPick: ptr("r1"), UserBResolutionPick: ptr("r2"), HybridResolution: json.RawMessage(hybridJSON),
		HybridResolutionPending: true, FinalResolution: json.RawMessage(`{"id":"r1"}`),
		MismatchOriginal: &court.Picks{UserA: ptr("r1"), UserB: ptr("r2")}, MismatchPicks: &court.Picks{UserA: ptr("r3"), UserB: ptr("r4")},
		MismatchLock: ptr("lock"), MismatchLockBy: ptr("a"), Version: 1 << 63, PhaseDeadline: 4, SettlementDeadline: 5,
		EndReason: court.EndTimeout, DeliberationVersion: 6, HybridVersion: 7,
	}
}

// TestFullSessionSetsEveryField keeps fullSession full: a field added to
// the session, or to one of its parts, fails here until fullSession sets
// it, and then TestAppendJSONMatchesMarshal until AppendJSON writes it.
func TestFullSessionSetsEveryField(t *testing.T) {
	t.Parallel()
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		require.False(t, v.IsZero(), "%s is not set", path)
		switch v.Kind() {
		case reflect.Pointer:
			check(path, v.Elem())
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Struct {
				check(path+"[0]", v.Index(0))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					check(path+"."+f.Name, v.Field(i))
				}
			}
		}
	}
	check("Session", reflect.ValueOf(fullSession()))
}

// TestAppendJSONMatchesMarshal checks AppendJSON against json.Marshal byte
// for byte: sessions at every step of the lifecycle and random variations
// of them (tricky strings, raw values spaced or to escape), each also with
// its histories, the values only the store's document holds and its
// omitted fields set, and the session with every field set.
func TestAppendJSONMatchesMarshal(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	str := func() string { return trickyStrings[rng.IntN(len(trickyStrings))] }
	raw := func() json.RawMessage { return rawValues[rng.IntN(len(rawValues))] }
	sessions := []*court.Session{fullSession(), {}}
	for _, s := range sessionShapes(t, 1000) {
		if s == nil {
			continue
		}
		more := s.Clone()
		more.PartnerID, more.JudgeType, more.CaseLanguage = str(), str(), str()
		more.Creator.Needs, more.Partner.Needs = ptr(str()), ptr("")
		more.AddendumHistory = append(more.AddendumHistory, court.Addendum{UserID: str(), FromUser: "userB", Text: str(), SubmittedAt: rng.Int64()})
		more.VerdictHistory = append(more.VerdictHistory, court.VerdictVersion{Version: rng.Int(), Content: raw(), AddendumText: ptr(str())})
		more.HistoricalContext, more.SettlementRequestedAt = raw(), ptr(rng.Int64())
		more.MismatchLock, more.MismatchLockBy, more.EndReason = ptr(str()), ptr(str()), court.EndReason(str())
		more.PhaseStartedAt, more.PhaseDeadline, more.SettlementDeadline = rng.Int64(), rng.Int64(), -rng.Int64()
		more.DeliberationVersion, more.HybridVersion = rng.Uint64(), rng.Uint64()
		none := s.Clone()
		none.AddendumHistory, none.VerdictHistory = nil, nil
		sessions = append(sessions, s, more, none)
	}
	for i, s := range sessions {
		raws := []*json.RawMessage{&s.Verdict, &s.Analysis, &s.Resolutions, &s.AssessedIntensity, &s.HistoricalContext,
			&s.PrimingContent, &s.JointMenu, &s.HybridResolution, &s.FinalResolution}
		for j := range s.VerdictHistory {
			raws = append(raws, &s.VerdictHistory[j].Content)
		}
		for _, r := range raws {
			if len(*r) == 0 {
				*r = nil // json.Marshal refuses an empty raw value (TestAppendJSONEmptyRawIsNull)
			}
		}
		want, err := json.Marshal(s)
		require.NoError(t, err, "session %d", i)
		got, err := court.AppendJSON([]byte("prefix"), s)
		require.NoError(t, err)
		require.Equal(t, "prefix"+string(want), string(got), "session %d", i)
	}
}

func TestAppendJSONInvalidRaw(t *testing.T) {
	t.Parallel()
	s := fullSession()
	s.HistoricalContext = json.RawMessage(`{"a": `)
	_, err := json.Marshal(s)
	require.Error(t, err)
	_, err = court.AppendJSON(nil, s)
	require.Error(t, err)
}

// TestAppendJSONEmptyRawIsNull: an empty raw value, which json.Marshal
// refuses, is null, as the session reads it.
func TestAppendJSONEmptyRawIsNull(t *testing.T) {
	t.Parallel()
	s := fullSession()
	s.HistoricalContext = json.RawMessage{}
	got, err := court.AppendJSON(nil, s)
	require.NoError(t, err)
	s.HistoricalContext = nil
	want, err := json.Marshal(s)
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
}

func BenchmarkAppendJSON(b *testing.B) {
	s := fullSession()
	s.Verdict, s.Analysis, s.Resolutions, s.PrimingContent, s.HybridResolution = nil, nil, nil, nil, nil
	s.VerdictHistory = nil
	b.Run("AppendJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := court.AppendJSON(nil, s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
