package home

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/judge"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// heldJudge is the dev judge, answering once release is closed: the test
// reads each ack while the session is still at its version.
type heldJudge struct {
	judge.Judge
	release chan struct{}
}

func (j heldJudge) Phase1(ctx context.Context, req judge.Phase1Request) (judge.Phase1Result, error) {
	<-j.release
	return j.Judge.Phase1(ctx, req)
}

func (j heldJudge) Phase2(ctx context.Context, req judge.Phase2Request) (judge.Phase2Result, error) {
	<-j.release
	return j.Judge.Phase2(ctx, req)
}

// Every action of a whole session acked through an edge that builds acks
// from its documents leaves the state out of the ack, and the ack the edge
// builds from its copy is byte for byte the one the home would have sent
// (ackState of the session at that version), in every phase. The ack of
// an action that ends a session, an IDLE that goes as a plain court:state,
// carries the state.
func TestDocAckIsTheHomesAckByteForByte(t *testing.T) {
	t.Parallel()
	j := heldJudge{Judge: devJudge(t), release: make(chan struct{})}
	judged := make(chan struct{}, 1)
	h := start(t, options{judge: j, mesh: &fakeMesh{docAcks: true}, afterCommit: func(event string) {
		if event == "judge_"+string(court.JudgeDeliberate) {
			judged <- struct{}{}
		}
	}})
	a, b := h.pair(t)
	act := func(user, event, payload string) *wire.Response {
		t.Helper()
		resp, err := h.srv.HandleRequest(context.Background(), &wire.Request{UserID: user, Event: event,
			Payload: json.RawMessage(payload), EdgeNode: edgeUS, EdgeRegion: "us"})
		require.NoError(t, err)
		return resp
	}
	inDoc := 0
	check := func(user, event, payload string) {
		t.Helper()
		resp := act(user, event, payload)
		if !resp.StateInDoc {
			require.Contains(t, string(resp.Ack), protocol.AckStateStart, "%s: %s", event, resp.Ack)
			return
		}
		inDoc++
		require.Empty(t, resp.Ack, event)
		e := h.srv.rt.reg.session(resp.SessionID)
		require.NotNil(t, e, event)
		e.mu.Lock()
		held := e.sess.Version
		want, err := ackState(e.sess, user)
		e.mu.Unlock()
		require.Equal(t, resp.Version, held, event)
		require.NoError(t, err)
		require.Equal(t, string(want.Ack), string(h.mesh.ackFromDoc(t, edgeUS, user, resp)), "%s of %s, version %d", event, user, resp.Version)
	}
	evidence := `{"evidence":"the dishes","feelings":"unseen","needs":"a fair split"}`
	check(a, protocol.Serve, fmt.Sprintf(`{"partnerId":%q,"coupleId":null,"judgeType":"swift"}`, b))
	check(b, protocol.Accept, `{}`)
	check(a, protocol.SubmitEvidence, evidence)
	check(b, protocol.SubmitEvidence, evidence)
	close(j.release)
	select {
	case <-judged:
	case <-time.After(10 * time.Second):
		t.Fatal("no deliberation committed")
	}
	for _, step := range []struct{ event, payload string }{
		{protocol.PrimingComplete, `{}`}, {protocol.JointReady, `{}`},
		{protocol.ResolutionPick, `{"resolutionId":"resolution_1"}`},
	} {
		check(a, step.event, step.payload)
		check(b, step.event, step.payload)
	}
	check(a, protocol.AcceptVerdict, `{}`)
	check(b, protocol.AcceptVerdict, `{}`)
	require.Equal(t, 12, inDoc, "every ack")

	// An ended session goes as plain court:states, IDLE: its ack carries it.
	a, b = a+"-2", b+"-2"
	check(a, protocol.Serve, fmt.Sprintf(`{"partnerId":%q,"coupleId":null,"judgeType":"swift"}`, b))
	last := act(a, protocol.Cancel, `{}`)
	require.False(t, last.StateInDoc)
	var got ack
	require.NoError(t, json.Unmarshal(last.Ack, &got))
	require.Equal(t, court.IdleState(), *got.State)
}

// An edge of an earlier release, or one that takes no documents, gets the
// whole state in the ack.
func TestDocAckOnlyToEdgesThatTakeThem(t *testing.T) {
	t.Parallel()
	for name, m := range map[string]*fakeMesh{
		"no doc acks":  {},
		"no documents": {docAcks: true, plainEdges: map[string]bool{edgeUS: true}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			h := start(t, options{mesh: m})
			a, b := h.pair(t)
			resp := h.serve(t, a, b)
			require.False(t, resp.StateInDoc)
			var got ack
			require.NoError(t, json.Unmarshal(resp.Ack, &got))
			require.Equal(t, string(court.PhasePending), got.State.Phase)
		})
	}
}
