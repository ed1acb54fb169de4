package home

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// TestRetryRebuildsTheAnswerFromTheSession: what a home remembers of an
// action is its outcome, not its answer; a retry while the session is at
// that version gets the very bytes first answered, and a retry after the
// partner acted gets the caller's newer state, never an older one.
func TestRetryRebuildsTheAnswerFromTheSession(t *testing.T) {
	t.Parallel()
	h := start(t, options{})
	a, b := h.pair(t)
	h.serve(t, a, b)
	accept := &wire.Request{ID: "accept-1", UserID: b, Event: protocol.Accept, Payload: []byte(`{}`), EdgeNode: edgeAsia}
	first, err := h.srv.HandleRequest(context.Background(), accept)
	require.NoError(t, err)
	o, ok := h.srv.rt.answers.get("accept-1")
	require.True(t, ok)
	require.Equal(t, outcome{kind: outcomeState, sessionID: first.SessionID, version: first.Version, at: o.at}, o,
		"only the outcome is kept")

	again, err := h.srv.HandleRequest(context.Background(), accept)
	require.NoError(t, err)
	require.Equal(t, first, again, "same version, same answer")

	_, got := h.do(t, a, protocol.SubmitEvidence, `{"evidence":"e","feelings":"f","needs":"n"}`)
	require.True(t, got.OK, got.Error)
	later, err := h.srv.HandleRequest(context.Background(), accept)
	require.NoError(t, err)
	require.Equal(t, first.SessionID, later.SessionID)
	require.Equal(t, first.Version+1, later.Version, "the retry answers the state as it is now")
	require.Contains(t, string(later.Ack), `"ok":true`)

	_, got = h.do(t, a, protocol.Dismiss, `{}`)
	require.True(t, got.OK, got.Error)
	ended, err := h.srv.HandleRequest(context.Background(), accept)
	require.NoError(t, err)
	require.Equal(t, string(protocol.IdleAck), string(ended.Ack), "once the session ended, the caller's state now: IDLE")

	refused := &wire.Request{ID: "accept-2", UserID: b, Event: protocol.Accept, Payload: []byte(`{}`)}
	r1, err := h.srv.HandleRequest(context.Background(), refused)
	require.NoError(t, err)
	r2, err := h.srv.HandleRequest(context.Background(), refused)
	require.NoError(t, err)
	require.Equal(t, r1, r2, "a refusal is answered again as it was")
	require.Contains(t, string(r2.Ack), "No pending session found")
}

// TestOutcomesAreBoundedByTime: the outcomes of a burst of actions are all
// remembered for answerTTL, however many (no silent count), and all gone
// once it passed and the node answers again.
func TestOutcomesAreBoundedByTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		a := newAnswers(time.Now)
		const burst = 50000
		for i := range burst {
			_, mine := a.put(fmt.Sprint("req-", i), outcome{kind: outcomeOK, at: time.Now()})
			require.True(t, mine)
		}
		require.Equal(t, burst, a.len(), "every outcome of the last minute is kept")
		_, mine := a.put("req-7", outcome{kind: outcomeRefused, msg: "x", at: time.Now()})
		require.False(t, mine, "the first outcome of a request id stands")

		time.Sleep(answerTTL / 2)
		a.put("late", outcome{at: time.Now()})
		require.Equal(t, burst+1, a.len())
		time.Sleep(answerTTL / 2)
		_, ok := a.get("req-1")
		require.False(t, ok, "expired")
		a.put("now", outcome{at: time.Now()})
		require.Equal(t, 2, a.len(), "the burst is dropped once its minute passed")
		require.LessOrEqual(t, cap(a.order), 64, "and so is the order it was kept in")
	})
}

// TestRetryAfterFailover: an action applied by a home that then died, and
// retried by the edge at the peer that took the session over, is not
// applied twice. The new owner has no outcome for the request id (outcomes
// live in one node's memory): the state machine's guards refuse the retry,
// the session stays at the version the first owner committed, and every
// further retry of the same request id gets that same refusal.
func TestRetryAfterFailover(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		h1 := start(t, options{dir: nil, node: home1})
		h2 := start(t, options{dir: h1.dir, store: h1.store, node: home2})
		settle(claimWarmUp)
		a, b := h1.pair(t)
		// Serve until the session is placed on home 1.
		id := h1.serve(t, a, b).SessionID
		require.True(t, h1.holds(id))
		accept := &wire.Request{ID: "accept-1", UserID: b, Event: protocol.Accept, Payload: []byte(`{}`), EdgeNode: edgeAsia}
		first, err := h1.srv.HandleRequest(context.Background(), accept)
		require.NoError(t, err)
		require.Contains(t, string(first.Ack), `"ok":true`)

		require.NoError(t, h1.srv.Close()) // dies before the edge got the answer
		for !h2.holds(id) {
			settle(time.Millisecond)
		}
		retry, err := h2.srv.HandleRequest(context.Background(), accept)
		require.NoError(t, err)
		require.Contains(t, string(retry.Ack), "Session not in PENDING phase", "the guards refuse a second accept")
		again, err := h2.srv.HandleRequest(context.Background(), accept)
		require.NoError(t, err)
		require.Equal(t, retry, again, "the new owner answers the request id consistently")

		state, err := h2.srv.HandleRequest(context.Background(), &wire.Request{UserID: b, Event: protocol.ReadState})
		require.NoError(t, err)
		require.Equal(t, first.Version, state.Version, "applied once: the version the first owner committed")
		require.Contains(t, string(state.Ack), `"phase":"EVIDENCE"`)
	})
}
