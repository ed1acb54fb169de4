package edge

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
)

func stateEvent(user string, version uint64) *wire.Event {
	return &wire.Event{UserID: user, Name: "court:state", SessionID: "s1", Version: version,
		Payload: json.RawMessage(`{"phase":"EVIDENCE","v":` + jsonUint(version) + `}`)}
}

func jsonUint(v uint64) string { b, _ := json.Marshal(v); return string(b) }

func TestDeliverEventReachesRegisteredSockets(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	a1, a2 := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1"), te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	a1.register()
	a2.register()
	unregistered := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	bob := te.connect(t, "b0b00000-0000-4000-8000-0000000000b2")
	bob.register()

	te.s.DeliverEvent(stateEvent("a11ce000-0000-4000-8000-0000000000a1", 5))
	te.s.DeliverEvent(stateEvent("a11ce000-0000-4000-8000-0000000000a1", 4)) // stale: dropped
	te.s.DeliverEvent(&wire.Event{UserID: "a11ce000-0000-4000-8000-0000000000a1", Name: "court:settlement_requested", Payload: json.RawMessage(`{"byUserId":"b0b00000-0000-4000-8000-0000000000b2"}`)})
	te.s.DeliverEvent(stateEvent("a11ce000-0000-4000-8000-0000000000a1", 5)) // same version (a retried push): dropped
	te.s.DeliverEvent(stateEvent("a11ce000-0000-4000-8000-0000000000a1", 6))
	for _, c := range []*client{a1, a2} {
		_, p := event(t, c.read())
		require.JSONEq(t, `{"phase":"EVIDENCE","v":5}`, p)
		name, p := event(t, c.read())
		require.Equal(t, "court:settlement_requested", name)
		require.JSONEq(t, `{"byUserId":"b0b00000-0000-4000-8000-0000000000b2"}`, p)
		_, p = event(t, c.read())
		require.JSONEq(t, `{"phase":"EVIDENCE","v":6}`, p)
	}
	require.Equal(t, 4.0, counterValue(te.s.m.dropped.WithLabelValues(dropStale)))

	// Neither the unregistered socket nor bob got anything: their next
	// frame is the answer to their own action.
	for _, c := range []*client{unregistered, bob} {
		c.write(`429["court:hack"]`)
		name, _ := event(t, c.read())
		require.Equal(t, "court:error", name)
	}
}

func TestStaleAckStateNotPushed(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = routeS1
	te.mesh.setFn(ackWithVersion(3))
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.register()
	te.s.DeliverEvent(stateEvent("a11ce000-0000-4000-8000-0000000000a1", 7))
	_, p := event(t, c.read())
	require.JSONEq(t, `{"phase":"EVIDENCE","v":7}`, p)

	// A register answered with version 3 after version 7 was pushed: the
	// court:state is dropped, the ack still goes out.
	c.write(`421["court:register",{}]`)
	require.True(t, strings.HasPrefix(c.read(), "431["))
}

func TestNewSessionResetsOrdering(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.register()
	te.s.DeliverEvent(stateEvent("a11ce000-0000-4000-8000-0000000000a1", 9))
	next := stateEvent("a11ce000-0000-4000-8000-0000000000a1", 1)
	next.SessionID = "s2"
	te.s.DeliverEvent(next)
	event(t, c.read())
	_, p := event(t, c.read())
	require.JSONEq(t, `{"phase":"EVIDENCE","v":1}`, p)
}

func TestPresenceFollowsRegisteredSockets(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	a1, a2 := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1"), te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	a1.register()
	a2.register()
	require.Eventually(t, func() bool { added, _ := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1"); return added >= 1 },
		3*time.Second, 5*time.Millisecond, "presence is written off the ack path")
	_, removed := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1")
	require.Zero(t, removed)

	a1.ws.Close()
	require.Eventually(t, func() bool { return te.closes(reasonClientClose) == 1 }, 3*time.Second, 5*time.Millisecond)
	_, removed = te.dir.counts("a11ce000-0000-4000-8000-0000000000a1")
	require.Zero(t, removed, "alice still has a socket")

	a2.ws.Close()
	require.Eventually(t, func() bool { _, r := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1"); return r == 1 }, 3*time.Second, 5*time.Millisecond)
}

func TestPresenceRefresh(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, func(c *Config) { c.PresenceTTL = 30 * time.Millisecond })
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	c.register()
	require.Eventually(t, func() bool { added, _ := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1"); return added == 1 },
		3*time.Second, 5*time.Millisecond)
	te.s.refreshOnce(t.Context())
	added, _ := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1")
	require.Equal(t, 2, added)
}

// TestRegisterIdleOlderThanAPushIsNotSent: a register the cache answers
// IDLE while the socket learns of a session (here a push; in the rolling
// deploy, the ack of a serve the client sent right after reconnecting)
// must not send that IDLE after it: the cache was behind, and the register
// asks the primary instead. Before, the client saw its new session vanish.
func TestRegisterIdleOlderThanAPushIsNotSent(t *testing.T) {
	t.Parallel()
	const user = "a11ce000-0000-4000-8000-0000000000a1"
	te := newTestEdge(t, nil)
	te.mesh.setFn(ackWithVersion(1))
	c := te.connect(t, user)
	te.dir.fresh[user] = routeS1 // the primary has the session; the cache does not yet
	te.dir.onCachedLookup = func(string) { te.s.DeliverEvent(stateEvent(user, 1)) }
	c.write(`421["court:register",{}]`)
	_, p := event(t, c.read())
	require.JSONEq(t, `{"phase":"EVIDENCE","v":1}`, p, "the push")
	name, p := event(t, c.read())
	require.Equal(t, "court:state", name)
	require.JSONEq(t, `{"v":1}`, p, "the register's state is the primary's, not the cache's IDLE")
	require.Equal(t, `431[{"ok":true,"state":{"v":1}}]`, c.read())
}

// TestRegisterBesideAnActionWaitsForIt: a reconnecting client sends its
// buffered serve beside its register. The cache, not yet invalidated, says
// the user is in no session; the register must not answer IDLE while the
// serve is in flight (its outcome would come after an IDLE older than it),
// but once the serve is done, from the primary.
func TestRegisterBesideAnActionWaitsForIt(t *testing.T) {
	t.Parallel()
	const user = "a11ce000-0000-4000-8000-0000000000a1"
	te := newTestEdge(t, nil)
	release := make(chan struct{})
	te.mesh.setFn(func(ctx context.Context, node string, req *wire.Request) (*wire.Response, error) {
		if req.Event == "court:serve" {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return ackWithVersion(1)(ctx, node, req)
	})
	c := te.connect(t, user)
	te.dir.fresh[user] = routeS1 // what the serve created; the cache has not seen it
	var cached atomic.Int32
	te.dir.onCachedLookup = func(string) { cached.Add(1) }
	c.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2","coupleId":null,"judgeType":"swift"}]`)
	require.Eventually(t, func() bool { return len(te.mesh.requests()) == 1 }, 5*time.Second, time.Millisecond, "the serve reached the home")
	c.write(`422["court:register",{}]`)
	require.Eventually(t, func() bool { return cached.Load() == 2 }, 5*time.Second, time.Millisecond, "the register read the cache")
	close(release)
	require.Equal(t, `431[{"ok":true,"state":{"v":1}}]`, c.read(), "the serve's ack comes first")
	name, p := event(t, c.read())
	require.Equal(t, "court:state", name)
	require.JSONEq(t, `{"v":1}`, p, "the register answers the primary's state, not the cache's IDLE")
	require.Equal(t, `432[{"ok":true,"state":{"v":1}}]`, c.read())
}
