package edge

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
)

// docEvent is a court:state document of session s1 at version for alice
// (the creator) and bob, whose v field says version; base 0 is whole.
func docEvent(version, base uint64, view string) *wire.Event {
	d := &statedoc.Doc{Base: base, Count: 3, Sides: statedoc.Creator.Bit() | statedoc.Partner.Bit(),
		Phase: []byte(`"EVIDENCE"`), Users: []statedoc.User{
			{ID: "a11ce000-0000-4000-8000-0000000000a1", Side: statedoc.Creator, View: []byte(`"` + view + `"`)},
			{ID: "b0b00000-0000-4000-8000-0000000000b2", Side: statedoc.Partner, View: []byte(`"WAITING"`)},
		}}
	last := statedoc.Indexed{Index: 2, Field: statedoc.Field{Lit: []byte(`,"v":` + jsonUint(version) + `}`)}}
	if base == 0 {
		d.Fields = []statedoc.Indexed{
			{Index: 0, Field: statedoc.Field{Lit: []byte(`{"id":"s1"`)}},
			{Index: 1, Field: statedoc.Field{Lit: []byte(`,"facts":`), Holes: []statedoc.Hole{{At: 9, Owner: statedoc.Creator, Val: []byte(`"alice's"`)}}}},
		}
	}
	d.Fields = append(d.Fields, last)
	return &wire.Event{UserID: "a11ce000-0000-4000-8000-0000000000a1", Name: statedoc.EventName,
		Payload: statedoc.Append(nil, d), SessionID: "s1", Version: version}
}

// The edge rebuilds each user's court:state from a whole document and from
// the deltas after it; a delta on a version it lacks is not delivered, its
// users are resynced.
func TestStateDocsRebuildEachUsersState(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	alice, bob := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1"), te.connect(t, "b0b00000-0000-4000-8000-0000000000b2")
	alice.register()
	bob.register()

	te.s.DeliverEvent(docEvent(1, 0, "EVIDENCE"))
	te.s.DeliverEvent(docEvent(2, 1, "WAITING"))
	for v, view := range []string{"EVIDENCE", "WAITING"} {
		name, p := event(t, alice.read())
		require.Equal(t, "court:state", name)
		require.Equal(t, `{"phase":"EVIDENCE","myViewPhase":"`+view+`","session":{"id":"s1","facts":"alice's","v":`+jsonUint(uint64(v+1))+`}}`, p)
		_, p = event(t, bob.read())
		require.Equal(t, `{"phase":"EVIDENCE","myViewPhase":"WAITING","session":{"id":"s1","facts":null,"v":`+jsonUint(uint64(v+1))+`}}`, p)
	}
	require.Zero(t, counterValue(te.s.m.resyncs.WithLabelValues(resyncGap)))

	te.s.DeliverEvent(docEvent(5, 4, "EVIDENCE")) // versions 3 and 4 were lost
	require.Equal(t, 2.0, counterValue(te.s.m.resyncs.WithLabelValues(resyncGap)), "both users are resynced")

	// The ended session's IDLE forgets the copy.
	te.s.DeliverEvent(&wire.Event{UserID: "a11ce000-0000-4000-8000-0000000000a1", Name: "court:state", SessionID: "s1", Version: 6,
		Payload: []byte(`{"phase":"IDLE","myViewPhase":"IDLE","session":null}`)})
	te.s.docs.mu.Lock()
	defer te.s.docs.mu.Unlock()
	require.Empty(t, te.s.docs.m)
	require.Zero(t, te.s.docs.bytes)
}

// The copy of a session no document touched for docIdleTTL leaves at the
// next sweep: a session whose users left the edge before it ended sends the
// edge no IDLE, and its copy must not stay until maxDocBytes is full.
func TestStateDocsOfQuietSessionsLeave(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dc docCache
		doc := func(session string) {
			ev := docEvent(1, 0, "EVIDENCE")
			d, err := statedoc.Decode(ev.Payload)
			require.NoError(t, err)
			_, ok := dc.apply(session, 1, d)
			require.True(t, ok)
		}
		doc("gone")
		time.Sleep(docIdleTTL - docSweepEvery)
		doc("live")
		time.Sleep(docSweepEvery)
		doc("new")
		require.NotContains(t, dc.m, "gone", "untouched for docIdleTTL")
		require.Contains(t, dc.m, "live", "touched within docIdleTTL")
		require.Contains(t, dc.m, "new")
		require.Equal(t, dc.m["live"].sess.Size()+dc.m["new"].sess.Size(), dc.bytes)
	})
}

// A court:state a home fans out to every edge (a user it has not located
// yet, home/publish.go) reaches that user's sockets on this edge, once per
// version, and leaves no document copy, here or on an edge without them.
func TestFannedOutStateKeepsNoCopy(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	alice := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	alice.register()
	state := func(user string, version uint64) *wire.Event {
		return &wire.Event{UserID: user, Name: "court:state", SessionID: "s1", Version: version,
			Payload: []byte(`{"phase":"PENDING","myViewPhase":"PENDING_PARTNER","session":{"id":"s1","v":` + jsonUint(version) + `}}`)}
	}
	te.s.DeliverEvent(state("b0b00000-0000-4000-8000-0000000000b2", 1)) // no socket of bob here
	te.s.DeliverEvent(state("a11ce000-0000-4000-8000-0000000000a1", 1))
	te.s.DeliverEvent(state("a11ce000-0000-4000-8000-0000000000a1", 1)) // the resync's or a retry's copy
	te.s.DeliverEvent(state("a11ce000-0000-4000-8000-0000000000a1", 2))
	for _, v := range []string{"1", "2"} {
		name, p := event(t, alice.read())
		require.Equal(t, "court:state", name)
		require.Contains(t, p, `"v":`+v+`}`)
	}
	te.s.docs.mu.Lock()
	defer te.s.docs.mu.Unlock()
	require.Empty(t, te.s.docs.m)
}
