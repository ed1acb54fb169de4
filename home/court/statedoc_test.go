package court_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/mesh/statedoc"
)

// docOf is the document of enc for users, every field, only their sides'
// private parts, through its binary encoding as on the mesh.
func docOf(t *testing.T, enc *court.StateEncoder, base uint64, changed []int, users ...string) *statedoc.Doc {
	t.Helper()
	fields := enc.Fields()
	d := &statedoc.Doc{Base: base, Count: len(fields), Phase: enc.PhaseJSON()}
	for _, u := range users {
		d.Users = append(d.Users, enc.DocUser(u))
	}
	d.Sides = statedoc.SidesOf(d.Users)
	for i, f := range fields {
		if base == 0 || slices.Contains(changed, i) {
			d.Fields = append(d.Fields, statedoc.Indexed{Index: i, Field: statedoc.Visible(f, d.Sides)})
		}
	}
	got, err := statedoc.Decode(statedoc.Append(nil, d))
	require.NoError(t, err)
	return got
}

// An edge rebuilds each user's court:state from a document byte for byte
// as the home encodes it, in every phase, from a whole document and from a
// delta on the version before.
func TestDocRebuildsEachUsersState(t *testing.T) {
	t.Parallel()
	pending, err := court.NewSession("sess-1", "alice", "bob", "", "", t0, d1)
	require.NoError(t, err)
	big := verdictSized(t)
	big.Partner.VerdictAccepted = false
	for _, s := range []*court.Session{pending, inVerdict(t), big} {
		enc, err := court.NewStateEncoder(s)
		require.NoError(t, err)
		users := s.Users()
		edge, ok := statedoc.Apply(nil, docOf(t, enc, 0, nil, users[:]...), s.Version)
		require.True(t, ok)
		for _, u := range users {
			require.Equal(t, string(enc.AppendState(nil, u)), string(edge.AppendState(nil, enc.DocUser(u))), "%s, %s", s.Phase, u)
		}

		// The next version, as a delta of the fields that changed.
		next := s.Clone()
		next.Creator.VerdictAccepted = !next.Creator.VerdictAccepted
		next.Version++
		nextEnc, err := court.NewStateEncoder(next)
		require.NoError(t, err)
		var changed []int
		old, now := enc.Fields(), nextEnc.Fields()
		for i := range now {
			if !bytes.Equal(old[i].Lit, now[i].Lit) {
				changed = append(changed, i)
			}
		}
		require.NotEmpty(t, changed)
		require.Less(t, len(changed), len(now)/4, "a flag changes a few fields")
		d := docOf(t, nextEnc, s.Version, changed, users[:]...)
		after, ok := statedoc.Apply(edge, d, next.Version)
		require.True(t, ok)
		for _, u := range users {
			require.Equal(t, string(nextEnc.AppendState(nil, u)), string(after.AppendState(nil, nextEnc.DocUser(u))), "delta, %s", u)
		}
		// A delta on a version the edge does not have is refused.
		_, ok = statedoc.Apply(edge, docOf(t, nextEnc, s.Version+5, changed, users[:]...), next.Version)
		require.False(t, ok)
		_, ok = statedoc.Apply(nil, d, next.Version)
		require.False(t, ok)
	}
}

// An edge holding only the creator gets none of the partner's private
// parts (R17), and cannot apply a delta for the partner on that copy.
func TestDocCarriesOnlyTheSidesOnTheEdge(t *testing.T) {
	t.Parallel()
	s := inVerdict(t)
	s.Creator.Evidence, s.Partner.Evidence = ptr("alice-secret-facts"), ptr("bob-secret-facts")
	s.PrimingContent = []byte(`{"userA":{"p":"alice-secret-priming"},"userB":{"p":"bob-secret-priming"}}`)
	enc, err := court.NewStateEncoder(s)
	require.NoError(t, err)
	users := s.Users()
	d := &statedoc.Doc{Count: len(enc.Fields()), Phase: enc.PhaseJSON(), Users: []statedoc.User{enc.DocUser(users[0])}}
	d.Sides = statedoc.SidesOf(d.Users)
	for i, f := range enc.Fields() {
		d.Fields = append(d.Fields, statedoc.Indexed{Index: i, Field: statedoc.Visible(f, d.Sides)})
	}
	wireBytes := statedoc.Append(nil, d)
	require.Contains(t, string(wireBytes), "alice-secret-facts")
	require.NotContains(t, string(wireBytes), "bob-secret")
	edge, ok := statedoc.Apply(nil, d, s.Version)
	require.True(t, ok)
	require.True(t, edge.Has(enc.DocUser(users[0])))
	require.False(t, edge.Has(enc.DocUser(users[1])))
	require.Equal(t, string(enc.AppendState(nil, users[0])), string(edge.AppendState(nil, enc.DocUser(users[0]))))
}

// A version's fields keep their count whatever the private values hold
// (absent, both halves, one half, a half repeated), so a version that
// replaces one differs from the one before in its fields only, and an edge
// rebuilds each user's state from every one of them, with one side or both.
// The raw values' fields are the session's bytes, not copies of them.
func TestDocFieldsStayPutAsPrivateValuesChange(t *testing.T) {
	t.Parallel()
	base := inPriming(t)
	count := len(mustEncode(t, base).Fields())
	var prev *court.StateEncoder
	for i, priming := range []string{
		`null`,
		`{"userA":{"p":"mine"},"userB":"theirs"}`,
		`{"userA":"only-a"}`,
		`{"userA":{"p":"mine"},"user\u0042":"escaped-b","userB":"first-b","userB":"second-b"}`,
		`{"userB":"b","shared":[1,2],"userA":"a"}`,
	} {
		s := base.Clone()
		s.PrimingContent = json.RawMessage(priming)
		s.Version += uint64(i + 1)
		enc := mustEncode(t, s)
		fields := enc.Fields()
		require.Len(t, fields, count, "priming %s", priming)
		users := s.Users()
		for _, on := range [][]string{users[:], users[:1], users[1:]} {
			edge, ok := statedoc.Apply(nil, docOf(t, enc, 0, nil, on...), s.Version)
			require.True(t, ok)
			for _, u := range on {
				require.Equal(t, string(enc.AppendState(nil, u)), string(edge.AppendState(nil, enc.DocUser(u))), "priming %s, %s", priming, u)
			}
		}
		if prev != nil {
			var changed []int
			for j, f := range fields {
				if !fieldEqual(f, prev.Fields()[j]) {
					changed = append(changed, j)
				}
			}
			require.LessOrEqual(t, len(changed), 4, "only the priming's fields and the version change")
		}
		prev = enc
		if s.Analysis != nil {
			require.True(t, slices.ContainsFunc(fields, func(f statedoc.Field) bool {
				return len(f.Lit) == len(s.Analysis) && &f.Lit[0] == &s.Analysis[0]
			}), "the analysis field is the session's own bytes")
		}
	}
}

func mustEncode(t *testing.T, s *court.Session) *court.StateEncoder {
	t.Helper()
	enc, err := court.NewStateEncoder(s)
	require.NoError(t, err)
	return enc
}

func fieldEqual(a, b statedoc.Field) bool {
	return bytes.Equal(a.Lit, b.Lit) && slices.EqualFunc(a.Holes, b.Holes, func(x, y statedoc.Hole) bool {
		return x.At == y.At && x.Owner == y.Owner && bytes.Equal(x.Val, y.Val)
	})
}
