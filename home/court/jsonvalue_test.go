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
