package home

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// The register window: a partner whose presence is not yet in the
// directory (its edge writes it after the register's ack) gets the
// session's states on every linked edge until a publication finds its
// presence, and again after it reads its state, never while it is merely
// offline.
func TestStatesFanOutToAPartnerNotYetLocated(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	h.mesh.mu.Lock()
	h.mesh.linked = []string{edgeUS, edgeAsia}
	h.mesh.mu.Unlock()
	a, b := fmt.Sprintf("A-%s", t.Name()), fmt.Sprintf("B-%s", t.Name())
	ctx := context.Background()
	require.NoError(t, h.dir.AddPresence(ctx, edgeUS, time.Minute, a))
	fanOuts := func() float64 { return metricValue(t, h.srv.metrics.fanOuts) }

	// b registered on edgeAsia; its presence is not written yet.
	h.serve(t, a, b)
	for _, edge := range []string{edgeUS, edgeAsia} {
		states := h.mesh.states(t, edge, b)
		require.Len(t, states, 1, "b's state fanned out to %s", edge)
		require.Equal(t, "PENDING_PARTNER", states[0].MyViewPhase)
	}
	require.Empty(t, h.mesh.states(t, edgeAsia, a), "a is located: no fan-out of a's state")
	require.InDelta(t, 1, fanOuts(), 0)

	// b's presence arrives: its states follow it alone.
	require.NoError(t, h.dir.AddPresence(ctx, edgeAsia, time.Minute, b))
	_, got := h.do(t, b, protocol.Accept, `{}`)
	require.True(t, got.OK, got.Error)
	require.Len(t, h.mesh.states(t, edgeAsia, b), 2)
	require.InDelta(t, 1, fanOuts(), 0, "b was found: no fan-out")

	// b goes offline: nothing is fanned out for it.
	require.NoError(t, h.dir.RemovePresence(ctx, edgeAsia, b))
	_, got = h.do(t, a, protocol.SubmitEvidence, `{"evidence":"the facts","feelings":"sad","needs":"calm"}`)
	require.True(t, got.OK, got.Error)
	require.Len(t, h.mesh.states(t, edgeAsia, b), 2)
	require.InDelta(t, 1, fanOuts(), 0, "an offline user is not fanned out to")

	// b reads its state through edgeAsia, whose presence write is still on
	// its way: the next state, IDLE here, is fanned out again.
	_, err := h.srv.HandleRequest(ctx, &wire.Request{UserID: b, Event: protocol.Register, EdgeNode: edgeAsia, EdgeRegion: "asia"})
	require.NoError(t, err)
	_, got = h.do(t, a, protocol.Dismiss, `{}`)
	require.True(t, got.OK, got.Error)
	states := h.mesh.states(t, edgeAsia, b)
	require.Len(t, states, 3)
	require.Equal(t, "IDLE", states[2].MyViewPhase)
	require.InDelta(t, 2, fanOuts(), 0)
}
