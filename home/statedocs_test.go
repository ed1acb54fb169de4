package home

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// After the first document an edge gets only the fields that changed, and
// a whole document again after its link came back (what was queued on the
// old link is lost) or when it gains a user of the other side. The states
// the fake edges rebuild are checked by every test of the package.
func TestStateDocsCarryWhatChanged(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)
	full := func() int { h.mesh.mu.Lock(); defer h.mesh.mu.Unlock(); return h.mesh.docBytes["full"] }
	delta := func() int { h.mesh.mu.Lock(); defer h.mesh.mu.Unlock(); return h.mesh.docBytes["delta"] }
	require.Zero(t, delta(), "the first document of each edge is whole")

	// b acts through edgeUS, which held only a: edgeUS needs b's side (a
	// whole document), edgeAsia takes a delta.
	fullBefore := full()
	_, got := h.do(t, b, "court:accept", `{}`)
	require.True(t, got.OK, got.Error)
	require.Greater(t, full(), fullBefore)
	require.Positive(t, delta())

	fullBefore, deltaBefore := full(), delta()
	_, got = h.do(t, a, "court:submit_evidence", `{"evidence":"the facts","feelings":"sad","needs":"calm"}`)
	require.True(t, got.OK, got.Error)
	require.Equal(t, fullBefore, full(), "both edges have the version before")
	require.Greater(t, delta(), deltaBefore)
	_, stB := h.mesh.last(t, edgeAsia, b)
	require.True(t, stB.Session.Evidence.Creator.Submitted)
	require.Nil(t, stB.Session.Evidence.Creator.Facts, "b never sees a's facts")
	_, stA := h.mesh.last(t, edgeUS, a)
	require.Equal(t, "the facts", *stA.Session.Evidence.Creator.Facts)

	// edgeAsia's link came back: what it was queued before may be lost.
	h.srv.EdgeLinkUp(edgeAsia)
	fullBefore = full()
	_, got = h.do(t, b, "court:submit_evidence", `{"evidence":"b facts","feelings":"sad","needs":"calm"}`)
	require.True(t, got.OK, got.Error)
	require.Greater(t, full(), fullBefore)

	h.mesh.mu.Lock()
	defer h.mesh.mu.Unlock()
	for _, s := range h.mesh.events {
		require.NotEqual(t, docGap, s.ev.Name, "an edge got a delta it could not apply")
	}
}

// An edge of an earlier release, which takes no documents, gets each
// user's court:state as before.
func TestStateDocsNotForEdgesThatTakeNone(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.mesh.mu.Lock()
	h.mesh.plainEdges = map[string]bool{edgeAsia: true}
	h.mesh.mu.Unlock()
	a, b := h.pair(t)
	h.serve(t, a, b)
	_, got := h.do(t, b, "court:accept", `{}`)
	require.True(t, got.OK, got.Error)
	require.Len(t, h.mesh.states(t, edgeAsia, b), 2)
	_, stB := h.mesh.last(t, edgeAsia, b)
	require.Equal(t, "EVIDENCE", stB.MyViewPhase)
	h.mesh.mu.Lock()
	defer h.mesh.mu.Unlock()
	for key := range h.mesh.docs {
		require.NotEqual(t, edgeAsia, key[0], "no document to an edge that takes none")
	}
}

// An edge that read a user's state (a socket registered, or it resynced
// after a delta it could not apply) gets a whole document at the next push.
func TestStateDocsWholeAfterARead(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)
	_, got := h.do(t, b, "court:accept", `{}`)
	require.True(t, got.OK, got.Error)
	resp, err := h.srv.HandleRequest(context.Background(), &wire.Request{UserID: b, Event: protocol.ReadState, EdgeNode: edgeAsia, EdgeRegion: "asia"})
	require.NoError(t, err)
	require.Contains(t, string(resp.Ack), `"myViewPhase":"EVIDENCE"`)

	h.mesh.mu.Lock()
	fullBefore := h.mesh.docBytes["full"]
	h.mesh.mu.Unlock()
	_, got = h.do(t, a, "court:submit_evidence", `{"evidence":"the facts","feelings":"sad","needs":"calm"}`)
	require.True(t, got.OK, got.Error)
	h.mesh.mu.Lock()
	defer h.mesh.mu.Unlock()
	require.Greater(t, h.mesh.docBytes["full"], fullBefore, "edgeAsia got the whole document")
}
