package court_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// TestR17EachUserSeesOnlyTheirOwnPrivateParts: the other user's priming
// half (top level and in the verdict's _meta) and raw evidence texts are
// null in each user's state, on the json.Marshal path and the encoder's.
func TestR17EachUserSeesOnlyTheirOwnPrivateParts(t *testing.T) {
	t.Parallel()
	s := inVerdict(t)
	s.PrimingContent = json.RawMessage(`{"userA":{"p":"alice-secret-priming"},"userB":{"p":"bob-secret-priming"}}`)
	s.Creator.Evidence, s.Creator.Feelings = ptr("alice-facts"), ptr("alice-feelings")
	s.Partner.Evidence, s.Partner.Feelings = ptr("bob-facts"), ptr("bob-feelings")
	// The verdict repeats the priming in _meta.
	s.Verdict = json.RawMessage(`{"status":"success","judgeContent":{},"_meta":{"analysis":null,"primingContent":` + string(s.PrimingContent) + `,"jointMenu":null}}`)
	enc, err := court.NewStateEncoder(s)
	require.NoError(t, err)
	for _, tc := range []struct {
		user       string
		mine, hers []string
	}{
		{"alice", []string{"alice-secret-priming", "alice-facts", "alice-feelings"}, []string{"bob-secret-priming", "bob-facts", "bob-feelings"}},
		{"bob", []string{"bob-secret-priming", "bob-facts", "bob-feelings"}, []string{"alice-secret-priming", "alice-facts", "alice-feelings"}},
	} {
		spliced := string(enc.AppendState(nil, tc.user))
		marshaled, err := json.Marshal(court.View(s, tc.user))
		require.NoError(t, err)
		require.Equal(t, string(marshaled), spliced)
		for _, m := range tc.mine {
			require.Contains(t, spliced, m, "%s sees their own part", tc.user)
		}
		for _, h := range tc.hers {
			require.NotContains(t, spliced, h, "%s does not see the other's part", tc.user)
		}
		var st struct {
			Session struct {
				PrimingContent map[string]json.RawMessage `json:"primingContent"`
				Verdict        struct {
					Meta struct {
						PrimingContent map[string]json.RawMessage `json:"primingContent"`
					} `json:"_meta"`
				} `json:"verdict"`
			} `json:"session"`
		}
		require.NoError(t, json.Unmarshal([]byte(spliced), &st))
		mine, other := "userA", "userB"
		if tc.user == "bob" {
			mine, other = other, mine
		}
		for _, pc := range []map[string]json.RawMessage{st.Session.PrimingContent, st.Session.Verdict.Meta.PrimingContent} {
			require.Equal(t, "null", string(pc[other]), "the other's half is null")
			require.NotEqual(t, "null", string(pc[mine]))
		}
	}
	// The stored session keeps both halves: the case rows need them.
	require.Contains(t, string(s.PrimingContent), "bob-secret-priming")
}

// TestPrivateKeysEscapedOrRepeated: a priming half whose key is spelt with
// escapes, or that appears twice, is still the other's and hidden.
func TestPrivateKeysEscapedOrRepeated(t *testing.T) {
	t.Parallel()
	s := inPriming(t)
	s.PrimingContent = json.RawMessage(`{"userA":{"p":"mine"},"user\u0042":"escaped-b","userB":"first-b","userB":"second-b"}`)
	enc, err := court.NewStateEncoder(s)
	require.NoError(t, err)
	got := string(enc.AppendState(nil, "alice"))
	require.Contains(t, got, "mine")
	for _, leak := range []string{"escaped-b", "first-b", "second-b"} {
		require.NotContains(t, got, leak)
	}
	want, err := json.Marshal(court.View(s, "alice"))
	require.NoError(t, err)
	require.Equal(t, string(want), got)
}

// TestR18JudgeTypeInState: the client learns its judge.
func TestR18JudgeTypeInState(t *testing.T) {
	t.Parallel()
	s, err := court.NewSession("11111111-2222-4333-8444-555555555555", "alice", "bob", "", "wise", tm(0), d1)
	require.NoError(t, err)
	enc, err := court.NewStateEncoder(s)
	require.NoError(t, err)
	for _, u := range []string{"alice", "bob"} {
		var st struct {
			Session struct {
				JudgeType string `json:"judgeType"`
			} `json:"session"`
		}
		require.NoError(t, json.Unmarshal(enc.AppendState(nil, u), &st))
		require.Equal(t, "wise", st.Session.JudgeType)
	}
}
