package edge

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/protocol"
)

// The users of these tests.
const (
	alice = "a11ce000-0000-4000-8000-0000000000a1"
	bob   = "b0b00000-0000-4000-8000-0000000000b2"
)

// nextIs requires that c's next frame is court:state with payload want.
func nextIs(t *testing.T, c *client, want string) {
	t.Helper()
	name, p := event(t, c.read())
	require.Equal(t, "court:state", name)
	require.JSONEq(t, want, p)
}

// quiet requires that c has nothing but the answer to a probe of its own.
func quiet(t *testing.T, c *client) {
	t.Helper()
	c.write(`429["court:hack"]`)
	name, _ := event(t, c.read())
	require.Equal(t, "court:error", name, "a court:state was delivered")
	require.True(t, strings.HasPrefix(c.read(), "439["))
}

func (te *testEdge) marked(user string) bool {
	te.s.rs.mu.Lock()
	defer te.s.rs.mu.Unlock()
	_, ok := te.s.rs.users[user]
	return ok
}

// A resync delivers the state it read only when it is newer than what each
// socket has: never the same version twice, never an older one; a push of
// a version a resync delivered is a duplicate.
func TestResyncDeliversOnlyNewer(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes[alice] = routeS1
	te.mesh.setFn(ackWithVersion(3))
	a1, a2 := te.connect(t, alice), te.connect(t, alice)
	a1.register()
	a2.register()
	te.s.DeliverEvent(stateEvent(alice, 4))
	for _, c := range []*client{a1, a2} {
		nextIs(t, c, `{"phase":"EVIDENCE","v":4}`)
	}

	te.mesh.setFn(ackWithVersion(6)) // v5 was lost on the way
	again, _ := te.s.resyncUser(t.Context(), alice, time.Time{})
	require.False(t, again)
	for _, c := range []*client{a1, a2} {
		nextIs(t, c, `{"v":6}`)
	}
	require.Equal(t, "mesh:read_state", te.mesh.requests()[len(te.mesh.requests())-1].Event)

	again, _ = te.s.resyncUser(t.Context(), alice, time.Time{}) // nothing new
	require.False(t, again)
	te.s.DeliverEvent(stateEvent(alice, 6)) // the retried push of v6: a duplicate
	te.s.DeliverEvent(stateEvent(alice, 5)) // older
	te.s.DeliverEvent(stateEvent(alice, 7))
	for _, c := range []*client{a1, a2} {
		nextIs(t, c, `{"phase":"EVIDENCE","v":7}`)
		quiet(t, c)
	}
}

// A state that skips a version is delivered (it is whole) and the user is
// queued for a resync; a home link that changed queues every user.
func TestGapAndLinkChangeQueueResyncs(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes[alice] = routeS1
	te.dir.routes[bob] = routeS1
	te.mesh.setFn(ackWithVersion(3))
	a, b := te.connect(t, alice), te.connect(t, bob)
	a.register()
	b.register()

	te.s.DeliverEvent(stateEvent(alice, 4))
	require.False(t, te.marked(alice), "no gap")
	te.s.DeliverEvent(stateEvent(alice, 6))
	nextIs(t, a, `{"phase":"EVIDENCE","v":4}`)
	nextIs(t, a, `{"phase":"EVIDENCE","v":6}`)
	require.True(t, te.marked(alice), "4 → 6 is a gap")
	require.False(t, te.marked(bob))
	require.Equal(t, 1.0, counterValue(te.s.m.resyncs.WithLabelValues(resyncGap)))

	te.s.HomeLinkChanged()
	require.True(t, te.marked(bob))
	require.Len(t, te.s.rs.take(), 2)
}

// A directory miss for a user whose socket shows a session may be a Redis
// that lost its routes: the IDLE is believed only after resyncMissGrace.
// Once believed, it is delivered once.
func TestResyncMissGrace(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes[alice] = routeS1
	te.mesh.setFn(ackWithVersion(3))
	a := te.connect(t, alice)
	a.register()
	delete(te.dir.routes, alice)

	again, miss := te.s.resyncUser(t.Context(), alice, time.Time{})
	require.True(t, again, "a fresh miss is retried")
	require.False(t, miss.IsZero())
	quiet(t, a)

	again, _ = te.s.resyncUser(t.Context(), alice, time.Now().Add(-resyncMissGrace-time.Second))
	require.False(t, again)
	nextIs(t, a, string(protocol.IdleState))
	again, _ = te.s.resyncUser(t.Context(), alice, time.Time{})
	require.False(t, again, "IDLE shown: a miss is news no more")
	quiet(t, a)
}

// A resync read that raced a push of another session is not delivered: the
// push is the newer.
func TestResyncLosesToPushOfAnotherSession(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes[alice] = routeS1
	te.mesh.setFn(ackWithVersion(3))
	a := te.connect(t, alice)
	a.register()
	c := te.registered(alice)
	c.mu.Lock()
	seq := c.seq
	c.mu.Unlock()
	next := stateEvent(alice, 1)
	next.SessionID = "s2"
	te.s.DeliverEvent(next) // lands while the read is in flight
	require.False(t, c.resynced([]byte(`42["court:state",{"stale":true}]`), seq, "", 0, true), "IDLE read before s2 began")
	require.False(t, c.resynced([]byte(`42["court:state",{"stale":true}]`), seq, "s1", 9, false))
	nextIs(t, a, `{"phase":"EVIDENCE","v":1}`)
	quiet(t, a)
}

// When the directory loses the edge's presence (its marker is gone), the
// edge records every registered user's presence again and resyncs them.
func TestPresenceRestoredAfterLoss(t *testing.T) {
	t.Parallel()
	mem := directory.NewMemory()
	te := newTestEdge(t, func(c *Config) { c.Directory = mem })
	a := te.connect(t, alice)
	a.register()
	require.Eventually(t, func() bool { return te.marked(alice) }, 3*time.Second, 5*time.Millisecond, "the IDLE register's check")
	te.s.rs.take()
	ctx := t.Context()
	require.True(t, te.s.watchPresence(ctx, mem, true))
	require.False(t, te.marked(alice), "the first mark is no loss")

	mem.Flush()
	edges, err := mem.Presence(ctx, alice)
	require.NoError(t, err)
	require.Empty(t, edges)
	require.True(t, te.s.watchPresence(ctx, mem, false))
	edges, err = mem.Presence(ctx, alice)
	require.NoError(t, err)
	require.Equal(t, []string{"edge-asia-1"}, edges)
	require.True(t, te.marked(alice))
	require.Equal(t, 1.0, counterValue(te.s.m.resyncs.WithLabelValues(resyncPresence)))

	te.s.rs.take()
	require.True(t, te.s.watchPresence(ctx, mem, false))
	require.False(t, te.marked(alice), "marker kept: nothing to do")
}

// An ack that carries a version does not count as a delivery of it: the
// push of that version still reaches the socket, once.
func TestAckedVersionIsStillPushedOnce(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes[alice] = routeS1
	te.mesh.setFn(ackWithVersion(3))
	a := te.connect(t, alice)
	a.register()
	te.mesh.setFn(ackWithVersion(4))
	a.write(`427["court:accept",{}]`)
	require.True(t, strings.HasPrefix(a.read(), "437["), "the ack, no court:state")
	te.s.DeliverEvent(stateEvent(alice, 4))
	te.s.DeliverEvent(stateEvent(alice, 4))
	nextIs(t, a, `{"phase":"EVIDENCE","v":4}`)
	quiet(t, a)
}

// A register answered IDLE from a cache that missed a new session (the
// replica lags) is checked once the presence is written: the user is
// resynced, and the resync, finding no session in the cache, reads the
// primary and delivers the session. A user in no session anywhere gets
// nothing new.
func TestRegisterIdleCheckedFresh(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.fresh[alice] = routeS1 // the cache (replica) has no claim yet
	te.mesh.setFn(ackWithVersion(1))
	a, b := te.connect(t, alice), te.connect(t, bob)
	a.register()
	b.register()
	require.Empty(t, te.mesh.requests(), "both IDLE answers came from the cache")
	require.Eventually(t, func() bool { return te.marked(alice) && te.marked(bob) }, 3*time.Second, 5*time.Millisecond)
	require.Equal(t, 2.0, counterValue(te.s.m.resyncs.WithLabelValues(resyncRegister)))

	again, _ := te.s.resyncUser(t.Context(), alice, time.Time{})
	require.False(t, again)
	nextIs(t, a, `{"v":1}`)
	again, _ = te.s.resyncUser(t.Context(), bob, time.Time{})
	require.False(t, again)
	quiet(t, b)
	reqs := te.mesh.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, protocol.ReadState, reqs[0].Event)
	require.Equal(t, []string{"home-us-1"}, te.mesh.targets(), "the resync read the primary's route")
}
