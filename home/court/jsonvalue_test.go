package court

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// The readers of raw session values give what json.Unmarshal gives, on the
// compact JSON the package and the judge write and on the spaced JSON
// Postgres' jsonb gives back.
func TestMembersMatchUnmarshal(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		`{"a":1,"b":"x\"}","c":{"d":[1,{"e":"]"}]},"f":null,"g":true,"h":-1.5e3}`,
		`{"a": 1, "b": "x\\", "c": {"d": [1, {"e": "]"}]}, "f": null, "g" : false , "h": 2 }`,
		` { "dup": 1, "dup": 2, "k\u00e9y": "v", "\u0041": [ ] } `,
		`{}`, `{ }`, `null`, `[1,2]`, `"s"`, `12`, ``,
	} {
		var want map[string]json.RawMessage
		if json.Unmarshal([]byte(raw), &want) != nil {
			want = nil
		}
		got := members(json.RawMessage(raw))
		require.Equal(t, len(want), len(got), raw)
		for k, v := range want {
			require.Equal(t, string(v), string(got[k]), "%s: member %q", raw, k)
		}
	}
}

func TestElementsMatchUnmarshal(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`[{"id":"a"},"x,]",3,[1,[2]],null]`, `[ {"id": "a"} , 2 ]`, `[]`, `[ ]`, `null`, `{"a":1}`} {
		var want []json.RawMessage
		if json.Unmarshal([]byte(raw), &want) != nil {
			want = nil
		}
		got := elements(json.RawMessage(raw))
		require.Equal(t, len(want), len(got), raw)
		for i := range want {
			require.Equal(t, string(want[i]), string(got[i]), raw)
		}
	}
}

func TestStringMemberMatchesUnmarshal(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`{"id":"x"}`, `{"ID":"x"}`, `{"id":5}`, `{"id":"a\u0062"}`, `{"other":"x"}`, `null`, `[1]`, `{"id": "sp" }`} {
		var want struct {
			ID string `json:"id"`
		}
		if json.Unmarshal([]byte(raw), &want) != nil {
			want.ID = ""
		}
		require.Equal(t, want.ID, stringMember(json.RawMessage(raw), "id"), raw)
	}
}

// appendObject writes what json.Marshal writes for the same members.
func TestAppendObjectMatchesMarshal(t *testing.T) {
	t.Parallel()
	m := map[string]json.RawMessage{"b": json.RawMessage(`{"x": [1, 2]}`), "a<": json.RawMessage(`"<&>"`),
		"c": nil, "d": json.RawMessage(`"plain"`)}
	want, err := json.Marshal(m)
	require.NoError(t, err)
	require.Equal(t, string(want), string(appendObject(nil, m)))
}

// Unterminated input stops the readers; it never panics nor loops.
func TestMembersOfTruncatedJSON(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`{"a`, `{"a":`, `{"a":"x`, `{"a":{"b":1`, `[1,"x`, `{"a" "b"}`} {
		_ = members(json.RawMessage(raw))
		_ = elements(json.RawMessage(raw))
	}
}

// marshalledVerdict is the T10 verdict as encoding/json wrote it from these
// structs before appendVerdict: the reference appendVerdict must equal byte
// for byte.
type marshalledVerdict struct {
	Status       string `json:"status"`
	JudgeContent struct {
		TheSummary  json.RawMessage `json:"theSummary"`
		TheSentence struct {
			Title       json.RawMessage `json:"title"`
			Description json.RawMessage `json:"description,omitempty"`
			Rationale   json.RawMessage `json:"rationale,omitempty"`
		} `json:"theSentence"`
		ClosingStatement json.RawMessage `json:"closingStatement"`
	} `json:"judgeContent"`
	Meta struct {
		Analysis            json.RawMessage `json:"analysis"`
		AssessedIntensity   json.RawMessage `json:"assessedIntensity"`
		Resolutions         json.RawMessage `json:"resolutions"`
		PrimingContent      json.RawMessage `json:"primingContent"`
		JointMenu           json.RawMessage `json:"jointMenu"`
		FinalResolution     json.RawMessage `json:"finalResolution"`
		IsHybrid            bool            `json:"isHybrid"`
		UserAResolutionPick json.RawMessage `json:"userAResolutionPick"`
		UserBResolutionPick json.RawMessage `json:"userBResolutionPick"`
		HybridResolution    json.RawMessage `json:"hybridResolution"`
	} `json:"_meta"`
}

// The hand-written verdict is what json.Marshal wrote: on compact values,
// on spaced ones (a session read back from jsonb), with characters it
// escapes, with missing values and a sentence without description or
// rationale.
func TestAppendVerdictMatchesMarshal(t *testing.T) {
	t.Parallel()
	spaced := json.RawMessage(`{ "summary": "a <b> & c", "list": [ 1, 2 ], "s": "\u2028" }`)
	compact := json.RawMessage(`{"id":"resolution_1","title":"T","rationale":"r"}`)
	for i, c := range []struct {
		s Session
		p verdictParts
	}{
		{Session{Analysis: compact, AssessedIntensity: json.RawMessage(`"high"`), Resolutions: json.RawMessage(`[1]`),
			PrimingContent: compact, JointMenu: compact, HybridResolution: compact},
			verdictParts{summary: json.RawMessage(`"x"`), title: json.RawMessage(`"t"`), desc: json.RawMessage(`"d"`),
				rat: json.RawMessage(`"r"`), closing: json.RawMessage(`"c"`), final: compact, pickA: compact, pickB: compact, isHybrid: true}},
		{Session{Analysis: spaced, Resolutions: json.RawMessage(`null`), JointMenu: spaced},
			verdictParts{summary: spaced, title: json.RawMessage(`"<t>"`), closing: json.RawMessage(`"c & d"`), final: spaced}},
		{Session{}, verdictParts{summary: json.RawMessage(`""`), title: json.RawMessage(`0`), rat: spaced, closing: json.RawMessage(`null`)}},
	} {
		var want marshalledVerdict
		want.Status = "success"
		want.JudgeContent.TheSummary, want.JudgeContent.ClosingStatement = c.p.summary, c.p.closing
		want.JudgeContent.TheSentence.Title = c.p.title
		want.JudgeContent.TheSentence.Description, want.JudgeContent.TheSentence.Rationale = c.p.desc, c.p.rat
		m := &want.Meta
		m.Analysis, m.AssessedIntensity, m.Resolutions = orNull(c.s.Analysis), orNull(c.s.AssessedIntensity), orNull(c.s.Resolutions)
		m.PrimingContent, m.JointMenu, m.HybridResolution = orNull(c.s.PrimingContent), orNull(c.s.JointMenu), orNull(c.s.HybridResolution)
		m.FinalResolution, m.IsHybrid, m.UserAResolutionPick, m.UserBResolutionPick = c.p.final, c.p.isHybrid, c.p.pickA, c.p.pickB
		b, err := json.Marshal(want)
		require.NoError(t, err)
		require.Equal(t, string(b), string(appendVerdict([]byte("x"), &c.s, c.p))[1:], "case %d", i)
	}
}
