package edge

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"courtmesh/mesh/statedoc"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
	"courtmesh/token"
)

// applyDoc applies docEvent(version, base) to dc and reports whether it
// took it.
func applyDoc(t *testing.T, dc *docCache, version, base uint64) bool {
	t.Helper()
	d, err := statedoc.Decode(docEvent(version, base, "EVIDENCE").Payload)
	require.NoError(t, err)
	_, ok := dc.apply("s1", version, d)
	return ok
}

// The wait for an ack's document ends when a document brings the copy to
// the ack's version or past it; it waits on through an older document, and
// gives up when the copy cannot take the next one (lost) or when its
// context ends (late), leaving no wait behind.
func TestDocAckAwait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dc docCache
		ctx := context.Background()
		type result struct {
			sess *statedoc.Session
			why  string
		}
		wait := func(ctx context.Context, version uint64) chan result {
			out := make(chan result, 1)
			go func() {
				s, why := dc.await(ctx, "s1", version)
				out <- result{s, why}
			}()
			synctest.Wait()
			return out
		}

		got := wait(ctx, 1) // the ack came first
		require.Empty(t, got)
		require.True(t, applyDoc(t, &dc, 1, 0))
		r := <-got
		require.Equal(t, uint64(1), r.sess.Version)

		got = wait(ctx, 2)
		require.True(t, applyDoc(t, &dc, 1, 0)) // an older document: still waiting
		synctest.Wait()
		require.Empty(t, got)
		require.True(t, applyDoc(t, &dc, 2, 1))
		require.Equal(t, uint64(2), (<-got).sess.Version)

		r = <-wait(ctx, 1) // the copy is past the ack's version
		require.Equal(t, uint64(2), r.sess.Version)

		got = wait(ctx, 3)
		require.False(t, applyDoc(t, &dc, 4, 3), "version 3 was lost")
		require.Equal(t, result{nil, docAckLost}, <-got)

		tctx, cancel := context.WithTimeout(ctx, docAckWait)
		defer cancel()
		start := time.Now()
		require.Equal(t, result{nil, docAckLate}, <-wait(tctx, 5))
		require.Equal(t, docAckWait, time.Since(start))
		require.Empty(t, dc.waits, "no wait left behind")
	})
}

// newBareEdge builds an edge, unstarted, on a fake mesh whose home leaves
// the state of court:accept's ack in a document of version 1 and answers a
// state read with the state "read". Alice's session is s1.
func newBareEdge(t *testing.T) (*Server, *fakeMesh) {
	t.Helper()
	m := &fakeMesh{nodes: []string{"home-us-1"}, fn: func(_ context.Context, _ string, req *wire.Request) (*wire.Response, error) {
		if req.Event == protocol.ReadState {
			return &wire.Response{Ack: json.RawMessage(`{"ok":true,"state":"read"}`), SessionID: "s1", Version: 1}, nil
		}
		return &wire.Response{SessionID: "s1", Version: 1, StateInDoc: true}, nil
	}}
	dir := newFakeDir()
	dir.routes[alice] = routeS1
	dir.routes["carol"] = routeS1
	s, err := New(Config{NodeID: "edge-asia-1", Region: "asia", Verifier: &token.Verifier{Secret: testSecret},
		Directory: dir, Mesh: m, Registerer: prometheus.NewRegistry(), RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s, m
}

// reads counts the state reads the edge sent.
func (m *fakeMesh) reads() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, r := range m.reqs {
		if r.Event == protocol.ReadState {
			n++
		}
	}
	return n
}

// An ack whose state is in a document that arrives after it is built from
// the document, byte for byte the court:state the edge rebuilds, without a
// read from the home.
func TestDocAckBuiltWhenItsDocumentComesLater(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, m := newBareEdge(t)
		got := make(chan *wire.Response, 1)
		go func() {
			resp, err := s.forward(context.Background(), s.request(alice, protocol.Accept, nil), false)
			require.NoError(t, err)
			got <- resp
		}()
		synctest.Wait()
		require.Empty(t, got, "the ack waits for its document")
		s.DeliverEvent(docEvent(1, 0, "EVIDENCE"))
		resp := <-got
		require.Equal(t, `{"ok":true,"state":{"phase":"EVIDENCE","myViewPhase":"EVIDENCE","session":{"id":"s1","facts":"alice's","v":1}}}`, string(resp.Ack))
		require.Equal(t, &wire.Response{Ack: resp.Ack, SessionID: "s1", Version: 1}, resp)
		require.Equal(t, 1.0, counterValue(s.m.docAcks.WithLabelValues(docAckBuilt)))
		require.Zero(t, m.reads())
	})
}

// Without the document in time, or with a copy not for the actor, the ack
// is the state read from the home (IDLE when the session ended since), and
// the metric says why.
func TestDocAckFallsBackToAStateRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, m := newBareEdge(t)
		start := time.Now()
		resp, err := s.forward(context.Background(), s.request(alice, protocol.Accept, nil), false)
		require.NoError(t, err)
		require.Equal(t, docAckWait, time.Since(start), "the document never came")
		require.Equal(t, `{"ok":true,"state":"read"}`, string(resp.Ack))
		require.Equal(t, 1.0, counterValue(s.m.docAcks.WithLabelValues(docAckLate)))
		require.Equal(t, 1, m.reads())

		s.DeliverEvent(docEvent(1, 0, "EVIDENCE")) // for alice and bob
		resp, err = s.forward(context.Background(), s.request("carol", protocol.Accept, nil), false)
		require.NoError(t, err)
		require.Equal(t, `{"ok":true,"state":"read"}`, string(resp.Ack))
		require.Equal(t, 1.0, counterValue(s.m.docAcks.WithLabelValues(docAckNotForUser)))
		require.Equal(t, 2, m.reads())

		// dave's session ended before the read (no route, cached or fresh):
		// the read's answer is IDLE.
		resp, err = s.forward(context.Background(), s.request("dave", protocol.Accept, nil), false)
		require.NoError(t, err)
		require.Equal(t, string(protocol.IdleAck), string(resp.Ack))
		require.Equal(t, 2.0, counterValue(s.m.docAcks.WithLabelValues(docAckNotForUser)))
	})
}
