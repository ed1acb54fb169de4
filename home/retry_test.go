package home

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
)

// linkMesh is a mesh whose links to some edges are down.
type linkMesh struct {
	mu   sync.Mutex
	down map[string]bool
	got  map[string][]uint64 // edge → versions queued, in order
}

func newLinkMesh() *linkMesh { return &linkMesh{down: map[string]bool{}, got: map[string][]uint64{}} }

var errLinkDown = errors.New("link down")

func (m *linkMesh) SendEvent(edge string, ev *wire.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down[edge] {
		return errLinkDown
	}
	m.got[edge] = append(m.got[edge], ev.Version)
	return nil
}

func (m *linkMesh) TakesStateDocs(string) bool { return true }
func (m *linkMesh) TakesDocAcks(string) bool   { return false }
func (m *linkMesh) Edges() []string            { return nil }

func (m *linkMesh) set(edge string, down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down[edge] = down
}

func (m *linkMesh) versions(edge string) []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]uint64(nil), m.got[edge]...)
}

func stateOfVersion(user string, v uint64) *wire.Event {
	return &wire.Event{UserID: user, Name: "court:state", SessionID: "s1", Version: v}
}

// A push that failed while the edge's link was down is queued again when it
// comes back: only the newest per user, once, and never after a newer one.
func TestRetriesResendNewestOnLinkUp(t *testing.T) {
	t.Parallel()
	m := newLinkMesh()
	r := newRetries(m)
	now := time.Now()
	var failed []string
	onFail := func(edge string, _ error) { failed = append(failed, edge) }

	r.publish([]string{"e1", "e2"}, stateOfVersion("alice", 1), now, onFail)
	m.set("e1", true)
	r.publish([]string{"e1", "e2"}, stateOfVersion("alice", 2), now, onFail)
	r.publish([]string{"e1", "e2"}, stateOfVersion("alice", 3), now, onFail)
	r.publish([]string{"e1"}, stateOfVersion("bob", 3), now, onFail)
	require.Equal(t, []string{"e1", "e1", "e1"}, failed)

	sent, left := r.resend("e1", now)
	require.Equal(t, 0, sent, "still down")
	require.Equal(t, 2, left)

	m.set("e1", false)
	sent, left = r.resend("e1", now)
	require.Equal(t, 2, sent)
	require.Zero(t, left)
	require.ElementsMatch(t, []uint64{1, 3, 3}, m.versions("e1"), "v1, then alice's v3 and bob's v3; v2 never")
	require.Equal(t, []uint64{1, 2, 3}, m.versions("e2"))

	sent, left = r.resend("e1", now)
	require.Zero(t, sent+left, "sent once")
}

// A pending push is forgotten once a newer state of the user is queued to
// that edge, or published to other edges only (the user left it); and after
// pendingTTL.
func TestRetriesForgetSupersededAndOld(t *testing.T) {
	t.Parallel()
	m := newLinkMesh()
	r := newRetries(m)
	now := time.Now()
	ignore := func(string, error) {}

	m.set("e1", true)
	r.publish([]string{"e1"}, stateOfVersion("alice", 1), now, ignore)
	m.set("e1", false)
	r.publish([]string{"e1"}, stateOfVersion("alice", 2), now, ignore)
	sent, left := r.resend("e1", now)
	require.Zero(t, sent+left, "v2 superseded v1")

	m.set("e1", true)
	r.publish([]string{"e1"}, stateOfVersion("alice", 3), now, ignore)
	r.publish([]string{"e2"}, stateOfVersion("alice", 4), now, ignore)
	m.set("e1", false)
	sent, left = r.resend("e1", now)
	require.Zero(t, sent+left, "alice moved to e2 with a newer state")

	m.set("e1", true)
	r.publish([]string{"e1"}, stateOfVersion("alice", 5), now, ignore)
	m.set("e1", false)
	sent, left = r.resend("e1", now.Add(pendingTTL+time.Second))
	require.Zero(t, sent+left, "too old: the edge's resync covers it")
	require.Equal(t, []uint64{2}, m.versions("e1"))
}
