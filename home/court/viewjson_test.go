package court_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// trickyStrings exercise every escaping rule of json.Marshal.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>alert('x')</script> & more",
	"tab\tnew\nline\rcr\bback\fform\x00nul\x1fus\x7fdel", "unicode: héllo 日本 🎉",
	"separators \u2028 and \u2029", "invalid \xff\xfe utf8 \xe2\x80", "\xe2\x80\xa8", "ends in \xe2",
}

// rawValues are raw JSON values as they may reach a session: canonical,
// spaced like Postgres jsonb output, and with characters json.Marshal escapes.
var rawValues = []json.RawMessage{
	nil, {}, json.RawMessage(`null`), json.RawMessage(`"moderate"`), json.RawMessage(analysisJSON),
	json.RawMessage(resolutionsJSON), json.RawMessage(`{"a": 1, "b": [true, null, "x y"]}`),
	json.RawMessage(" {\n\t\"a\" : \"<b> & </b>\"\r\n} "), json.RawMessage(`{"s":"line\u2028sep \u003c"}`),
	json.RawMessage("{\"s\":\"raw \u2028 sep\"}"), json.RawMessage(`{"s":"esc \" \\ \/ q"}`),
	json.RawMessage(`[1.5e3,-0,{"k":{}}]`), json.RawMessage(`  null  `),
	json.RawMessage(primingJSON), json.RawMessage(`{ "userB" : [1, {"x":"}"}], "userA": "a\"b" }`),
	json.RawMessage(`{"userA":1,"userB":2,"userA":3,"us\u0065rB":"<x>"}`),
	json.RawMessage(`{"status":"success","_meta":{"primingContent":{"userA":{"p":"a"},"userB":{"p":"b"}},"x":[]}}`),
	json.RawMessage(`{"_meta":{"primingContent":"not an object"},"_meta":{"primingContent":{"userB":null}}}`),
}

// sessionShapes returns sessions at every step of the lifecycle, then n
// random variations of them.
func sessionShapes(t *testing.T, n int) []*court.Session {
	t.Helper()
	mismatch, _ := inMismatch(t)
	hybrid, v := inMismatch(t)
	require.NoError(t, hybrid.ApplyHybrid(v, json.RawMessage(hybridJSON)))
	closed := inVerdict(t)
	require.NoError(t, closed.AcceptVerdict("alice", "case-1", tm(9), d1))
	require.NoError(t, closed.AcceptVerdict("bob", "case-1", tm(9), d1))
	analyzing, _ := inAnalyzing(t)
	ended := newPending(t)
	require.NoError(t, ended.Dismiss("bob"))
	base := []*court.Session{newPending(t), inEvidence(t), analyzing, inPriming(t), inResolution(t),
		mismatch, hybrid, inVerdict(t), closed, ended}
	out := append([]*court.Session{nil}, base...)
	rng := rand.New(rand.NewPCG(1, 2))
	str := func() string { return trickyStrings[rng.IntN(len(trickyStrings))] }
	strPtr := func() *string {
		if rng.IntN(3) == 0 {
			return nil
		}
		return ptr(str())
	}
	raw := func() json.RawMessage { return rawValues[rng.IntN(len(rawValues))] }
	picks := func() *court.Picks {
		if rng.IntN(2) == 0 {
			return nil
		}
		return &court.Picks{UserA: strPtr(), UserB: strPtr()}
	}
	for range n {
		s := base[rng.IntN(len(base)-1)].Clone()
		s.ID, s.CoupleID, s.CreatorID = str(), str(), str()
		s.CaseID, s.SettlementRequested = strPtr(), strPtr()
		s.Creator.Evidence, s.Creator.Feelings, s.Partner.Evidence, s.Partner.Feelings = strPtr(), strPtr(), strPtr(), strPtr()
		s.Creator.VerdictAccepted, s.Partner.PrimingReady, s.Creator.JointReady = rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0
		s.Verdict, s.Analysis, s.Resolutions, s.AssessedIntensity = raw(), raw(), raw(), raw()
		s.PrimingContent, s.JointMenu, s.HybridResolution, s.FinalResolution = raw(), raw(), raw(), raw()
		s.UserAResolutionPick, s.UserBResolutionPick = strPtr(), strPtr()
		s.MismatchOriginal, s.MismatchPicks = picks(), picks()
		s.AddendumCount, s.CreatedAt, s.Version = rng.IntN(5), rng.Int64()-rng.Int64(), rng.Uint64()
		if rng.IntN(4) == 0 {
			s.ResolvedAt = ptr(rng.Int64N(1 << 50))
		}
		s.HybridResolutionPending = rng.IntN(2) == 0
		out = append(out, s)
	}
	return out
}

func TestStateEncoderMatchesJSON(t *testing.T) {
	t.Parallel()
	for i, s := range sessionShapes(t, 2000) {
		enc, err := court.NewStateEncoder(s)
		require.NoError(t, err)
		users := []string{"alice", "bob", "nobody"}
		if s != nil {
			users = append(users, s.CreatorID, s.PartnerID)
		}
		for _, u := range users {
			want, err := json.Marshal(court.View(s, u))
			require.NoError(t, err)
			require.Equal(t, string(want), string(enc.AppendState(nil, u)), "shape %d, user %q", i, u)
		}
		for _, u := range users[3:] {
			want, err := json.Marshal(court.Sanitize(s, u))
			require.NoError(t, err)
			got, err := court.AppendSanitized([]byte("prefix"), s, u)
			require.NoError(t, err)
			require.Equal(t, "prefix"+string(want), string(got), "shape %d", i)
		}
	}
}

func TestStateEncoderInvalidRaw(t *testing.T) {
	t.Parallel()
	s := inVerdict(t)
	s.Verdict = json.RawMessage(`{"status": `)
	_, err := json.Marshal(court.View(s, "alice"))
	require.Error(t, err)
	_, err = court.NewStateEncoder(s)
	require.Error(t, err)
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, []byte(s))
	}
	for _, raw := range rawValues {
		f.Add("x", []byte(raw))
	}
	f.Fuzz(func(t *testing.T, s string, raw []byte) {
		sess := &court.Session{ID: s, Phase: court.PhaseEvidence, CreatorID: "c", Creator: court.UserState{Evidence: &s}}
		if json.Valid(raw) {
			sess.Verdict, sess.PrimingContent = raw, raw
		}
		for _, u := range []string{"c", "p"} {
			want, err := json.Marshal(court.Sanitize(sess, u))
			if err != nil {
				t.Fatal(err)
			}
			got, err := court.AppendSanitized(nil, sess, u)
			if err != nil || string(got) != string(want) {
				t.Fatalf("%s: got %s, %v; want %s", u, got, err, want)
			}
			other := map[string]string{"c": "userB", "p": "userA"}[u]
			var view struct {
				PrimingContent map[string]json.RawMessage `json:"primingContent"`
				Verdict        struct {
					Meta struct {
						PrimingContent map[string]json.RawMessage `json:"primingContent"`
					} `json:"_meta"`
				} `json:"verdict"`
			}
			_ = json.Unmarshal(got, &view) // values of other shapes are not objects to check
			for _, pc := range []map[string]json.RawMessage{view.PrimingContent, view.Verdict.Meta.PrimingContent} {
				if v, ok := pc[other]; ok && string(v) != "null" {
					t.Fatalf("%s sees %s: %s", u, other, got)
				}
			}
		}
	})
}

// verdictSized returns a VERDICT session whose LLM outputs weigh about as
// much as real ones: a court:state of about 46 KiB.
func verdictSized(tb testing.TB) *court.Session {
	s := &court.Session{ID: "2f1c0b1e-7d0c-4c59-9a57-3c1f8d2b6a10", CoupleID: "alice-bob", CreatorID: "alice", PartnerID: "bob",
		Phase: court.PhaseVerdict, Creator: court.UserState{EvidenceSubmitted: true, Evidence: ptr("she said"), Feelings: ptr("sad")},
		Partner:           court.UserState{EvidenceSubmitted: true, Evidence: ptr("he said"), Feelings: ptr("angry"), VerdictAccepted: true},
		AssessedIntensity: json.RawMessage(`"moderate"`), UserAResolutionPick: ptr("resolution_1"),
		UserBResolutionPick: ptr("resolution_1"), CreatedAt: 1_700_000_000_000, Version: 12}
	text := strings.Repeat("We both want the evening to feel fair, calm & kind; let's talk it through. ", 18)
	res := make([]map[string]string, 3)
	for i := range res {
		res[i] = map[string]string{"id": fmt.Sprintf("resolution_%d", i+1), "title": "Take turns",
			"combinedDescription": text, "rationale": text, "howItMeetsNeeds": text}
	}
	enc := func(v any) json.RawMessage {
		b, err := json.Marshal(v)
		require.NoError(tb, err)
		return b
	}
	s.Resolutions = enc(res)
	s.Analysis = enc(map[string]any{"summary": text, "resolutions": res, "caseMetadata": map[string]string{"caseTitle": "The dishes"}})
	s.PrimingContent = enc(map[string]any{"userA": map[string]string{"a": text, "b": text}, "userB": map[string]string{"a": text, "b": text}})
	s.JointMenu = enc(map[string]string{"theSummary": text, "closingWisdom": text})
	s.Verdict = enc(map[string]any{"status": "success", "judgeContent": map[string]string{"theVerdict": text, "theRuling": text}})
	s.FinalResolution = enc(res[0])
	return s
}

// BenchmarkState encodes both users' states of a VERDICT-sized session, as
// notify does: with json.Marshal(View) per user, and with one StateEncoder.
func BenchmarkState(b *testing.B) {
	s := verdictSized(b)
	want, _ := json.Marshal(court.View(s, "alice"))
	b.Logf("court:state of %d bytes", len(want))
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, u := range s.Users() {
				if _, err := json.Marshal(court.View(s, u)); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoder", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			enc, err := court.NewStateEncoder(s)
			if err != nil {
				b.Fatal(err)
			}
			for _, u := range s.Users() {
				_ = enc.AppendState(make([]byte, 0, len(want)+64), u)
			}
		}
	})
}

// A session whose encodings are kept encodes each version as a fresh
// encoder does: the raw values a transition replaced (spaced, with
// characters json.Marshal escapes, or gone) are encoded again, not taken
// from the previous version; an older version encoded at the same time,
// as a state read does outside the session's lock, still gets its own.
func TestKeptEncodingsFollowReplacedValues(t *testing.T) {
	t.Parallel()
	prev := verdictSized(t)
	prev.KeepEncodings()
	next := prev.Clone()
	next.Analysis = json.RawMessage(`{ "summary": "a <b> & c" }`)
	next.Verdict = json.RawMessage(`{"status":"success","judgeContent":{"theVerdict":"new"}}`)
	next.JointMenu = nil
	next.Version++
	var wg sync.WaitGroup
	for range 4 {
		for _, s := range []*court.Session{prev, next, prev, next} {
			wg.Go(func() {
				enc, err := court.NewStateEncoder(s)
				require.NoError(t, err)
				for _, u := range s.Users() {
					want, err := json.Marshal(court.View(s, u))
					require.NoError(t, err)
					require.Equal(t, string(want), string(enc.AppendState(nil, u)), "version %d, %s", s.Version, u)
				}
			})
		}
	}
	wg.Wait()
}
