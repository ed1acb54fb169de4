package home

import (
	"slices"
	"sync"
	"time"

	"courtmesh/mesh/wire"
)

// Bounds of the pushes kept for retry: per edge, the newest court:state of
// at most maxPendingUsers users, each for at most pendingTTL. Beyond them
// the edge's own resync after a flapped link (package edge) is what brings
// its sockets up to date.
const (
	maxPendingUsers = 10000
	pendingTTL      = time.Minute
)

// pendingPush is a court:state that could not be queued to an edge.
type pendingPush struct {
	ev *wire.Event
	at time.Time
}

// retries sends court:state events to edges and keeps, per edge and user,
// the newest one that could not be queued (the link was down, or its queue
// full), to queue it again when the edge's link comes back.
//
// Never reordering: every court:state goes through send or resend under mu,
// so the order of the mesh's queues is the order of these calls; a state
// queued for (edge, user) forgets the pending one, which is older; and a
// pending state is only ever the last one published for its user on that
// edge. The edge's own rule (no older version after a newer one) stands
// behind it.
type retries struct {
	mesh Mesh
	mu   sync.Mutex
	// byEdge: edge → user → the newest state not queued; guarded by mu.
	byEdge map[string]map[string]pendingPush
}

func newRetries(m Mesh) *retries {
	return &retries{mesh: m, byEdge: make(map[string]map[string]pendingPush)}
}

// publish queues ev, a court:state of ev.UserID, to each of edges. An edge
// it cannot be queued to keeps ev for resend, replacing the user's older
// pending state there; the user's pending states on other edges are
// dropped, being older than ev. It calls failed for each edge it could not
// queue ev to.
func (r *retries) publish(edges []string, ev *wire.Event, now time.Time, failed func(edge string, err error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for edge, users := range r.byEdge {
		if !slices.Contains(edges, edge) {
			delete(users, ev.UserID)
		}
	}
	for _, edge := range edges {
		users := r.byEdge[edge]
		err := r.mesh.SendEvent(edge, ev)
		if err == nil {
			delete(users, ev.UserID)
			continue
		}
		failed(edge, err)
		if users == nil {
			users = make(map[string]pendingPush)
			r.byEdge[edge] = users
		}
		if _, ok := users[ev.UserID]; ok || len(users) < maxPendingUsers {
			users[ev.UserID] = pendingPush{ev: ev, at: now}
		}
	}
}

// resend queues again the states pending for edge, whose link just came
// up, and drops those older than pendingTTL. It returns how many it queued
// and how many are still pending (the link went down again).
func (r *retries) resend(edge string, now time.Time) (sent, left int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	users := r.byEdge[edge]
	for u, p := range users {
		if now.Sub(p.at) > pendingTTL {
			delete(users, u)
			continue
		}
		if r.mesh.SendEvent(edge, p.ev) != nil {
			continue
		}
		delete(users, u)
		sent++
	}
	if len(users) == 0 {
		delete(r.byEdge, edge)
	}
	return sent, len(users)
}
