package loadgen

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// stateDoc is a court:state shaped like the servers' (and the peer's, whose
// key order differs): the fields the load generator reads among large LLM
// texts full of quotes, escapes, braces and brackets.
func stateDoc(tb testing.TB, pick *string, order int) []byte {
	tb.Helper()
	text := strings.Repeat(`He said "no {more} [dishes]" \ twice, é ✓. `, 200)
	session := map[string]any{
		"id": "0b9c6c0e-3f8e-4d7a-9b7c-1c1a2b3c4d5e", "version": 7,
		"analysis":           map[string]any{"summary": text, "resolutions": []any{map[string]any{"id": "resolution_1", "text": text}, []any{1.5e3, true, nil}}},
		"evidence":           map[string]any{"creator": map[string]any{"submitted": true, "text": text}, "partner": map[string]any{"submitted": false}},
		"primingReady":       map[string]bool{"creator": true, "partner": false},
		"jointReady":         map[string]bool{"creator": false, "partner": true},
		"verdictAcceptances": map[string]bool{"creator": true, "partner": true},
		"resolutionPicks":    map[string]any{"userA": pick, "userB": nil},
		"verdict":            map[string]any{"theVerdict": text, "empty": map[string]any{}, "list": []any{}},
	}
	var doc any = map[string]any{"phase": "VERDICT", "myViewPhase": "VERDICT_REVIEW", "session": session, "caseId": nil, "n": -0.5}
	b, err := json.Marshal(doc)
	require.NoError(tb, err)
	if order == 1 { // another key order and whitespace, as JSON.stringify with spaces would give
		b, err = json.MarshalIndent(doc, "", "  ")
		require.NoError(tb, err)
		s := string(b)
		i := strings.Index(s, `"phase"`)
		s = s[:i] + `"extra": [ {"phase": "WRONG"} ], ` + s[i:] // a nested "phase" must not be taken
		b = []byte(s)
	}
	return b
}

func TestDecodeStateReadsWhatFullDecodingReads(t *testing.T) {
	pick := "resolution_2"
	for _, p := range []*string{&pick, nil} {
		for order := range 2 {
			doc := stateDoc(t, p, order)
			var want State
			require.NoError(t, json.Unmarshal(doc, &want))
			got, err := decodeState(doc)
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.Equal(t, "VERDICT", got.Phase)
			require.True(t, got.Session.Evidence.Creator.Submitted)
			require.True(t, got.Session.PrimingReady.Creator)
			require.EqualValues(t, 7, got.Session.Version)
		}
	}
	got, err := decodeState([]byte(`{"phase":"IDLE","myViewPhase":"IDLE","session":null}`))
	require.NoError(t, err)
	require.Equal(t, State{Phase: "IDLE", MyViewPhase: "IDLE"}, got)
}

func TestDecodeStateRejectsBrokenDocuments(t *testing.T) {
	doc := stateDoc(t, nil, 0)
	for _, bad := range [][]byte{doc[:len(doc)/2], doc[:len(doc)-1], []byte(`[1]`), []byte(`{"phase" "x"}`), []byte(`{"phase":"x" "y":1}`), []byte(`{"phase":"unterminated}`), nil} {
		_, err := decodeState(bad)
		require.Error(t, err, "%.60s", bad)
	}
}

func TestDecodeEventSplitsNameAndArgument(t *testing.T) {
	name, arg, err := decodeEvent([]byte(`["court:state",{"phase":"IDLE","x":"a,]b"},2]`))
	require.NoError(t, err)
	require.Equal(t, stateEventName, string(name))
	require.JSONEq(t, `{"phase":"IDLE","x":"a,]b"}`, string(arg))
	_, _, err = decodeEvent([]byte(`["court:state"]`))
	require.Error(t, err)
}

// BenchmarkDecodeState compares the load generator's reading of one large
// court:state with a full json.Unmarshal into the same State.
func BenchmarkDecodeState(b *testing.B) {
	doc := stateDoc(b, nil, 0)
	b.Logf("court:state of %d bytes", len(doc))
	b.Run("scan", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeState(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		b.ReportAllocs()
		for b.Loop() {
			var st State
			if err := json.Unmarshal(doc, &st); err != nil {
				b.Fatal(err)
			}
		}
	})
}
