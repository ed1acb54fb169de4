package statedoc_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/statedoc"
)

func sample() *statedoc.Doc {
	return &statedoc.Doc{Count: 2, Sides: statedoc.Creator.Bit(), Phase: []byte(`"EVIDENCE"`),
		Users: []statedoc.User{{ID: "alice", Side: statedoc.Creator, View: []byte(`"EVIDENCE"`)}},
		Fields: []statedoc.Indexed{
			{Index: 0, Field: statedoc.Field{Lit: []byte(`{"id":"s1"`)}},
			{Index: 1, Field: statedoc.Field{Lit: []byte(`,"facts":}`), Holes: []statedoc.Hole{{At: 9, Owner: statedoc.Creator, Val: []byte(`"x"`)}}}},
		}}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	d := sample()
	got, err := statedoc.Decode(statedoc.Append(nil, d))
	require.NoError(t, err)
	require.Equal(t, d, got)
	s, ok := statedoc.Apply(nil, got, 3)
	require.True(t, ok)
	require.Equal(t, `{"phase":"EVIDENCE","myViewPhase":"EVIDENCE","session":{"id":"s1","facts":"x"}}`,
		string(s.AppendState(nil, d.Users[0])))
}

// The copy builds the ack of a user its last document was for, and of no
// other.
func TestAppendAck(t *testing.T) {
	t.Parallel()
	d := sample()
	s, ok := statedoc.Apply(nil, d, 3)
	require.True(t, ok)
	ack, ok := s.AppendAck([]byte("x"), "alice")
	require.True(t, ok)
	require.Equal(t, `x{"ok":true,"state":{"phase":"EVIDENCE","myViewPhase":"EVIDENCE","session":{"id":"s1","facts":"x"}}}`, string(ack))
	_, ok = s.AppendAck(nil, "bob")
	require.False(t, ok, "not a user of the document")

	d.Users = append(d.Users, statedoc.User{ID: "bob", Side: statedoc.Partner, View: []byte(`"WAITING"`)})
	s, ok = statedoc.Apply(nil, d, 3)
	require.True(t, ok)
	_, ok = s.AppendAck(nil, "bob")
	require.False(t, ok, "the document lacks bob's side")
}

// A truncated or malformed document is an error, never a panic.
func TestDecodeRefusesMalformedDocuments(t *testing.T) {
	t.Parallel()
	b := statedoc.Append(nil, sample())
	for n := range len(b) {
		_, err := statedoc.Decode(b[:n])
		require.True(t, errors.Is(err, statedoc.ErrBadDoc), "truncated at %d: %v", n, err)
	}
	_, err := statedoc.Decode(append(b, 0))
	require.ErrorIs(t, err, statedoc.ErrBadDoc, "bytes after the document")

	for name, d := range map[string]func(*statedoc.Doc){
		"field out of range":  func(d *statedoc.Doc) { d.Fields[1].Index = 2 },
		"fields out of order": func(d *statedoc.Doc) { d.Fields[0].Index, d.Fields[1].Index = 1, 0 },
		"hole past its field": func(d *statedoc.Doc) { d.Fields[1].Holes[0].At = 99 },
		"whole lacks a field": func(d *statedoc.Doc) { d.Fields = d.Fields[:1] },
		"bad side of a user":  func(d *statedoc.Doc) { d.Users[0].Side = 7 },
	} {
		doc := sample()
		d(doc)
		_, err := statedoc.Decode(statedoc.Append(nil, doc))
		require.ErrorIs(t, err, statedoc.ErrBadDoc, name)
	}
}

// Visible leaves out the holes of the sides an edge does not hold.
func TestVisible(t *testing.T) {
	t.Parallel()
	f := sample().Fields[1].Field
	require.Equal(t, f, statedoc.Visible(f, statedoc.Creator.Bit()))
	hidden := statedoc.Visible(f, statedoc.Partner.Bit())
	require.Nil(t, hidden.Holes[0].Val)
	require.Equal(t, []byte(`"x"`), f.Holes[0].Val, "the original is untouched")
}
