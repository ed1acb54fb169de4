package home

import (
	"sync"

	"courtmesh/home/court"
)

// entry is one owned session.
type entry struct {
	// mu serialises the transitions of the session. Held while sess is read
	// or replaced and while a transition commits.
	mu sync.Mutex
	// sess is the committed session; guarded by mu. It is replaced, never
	// changed in place, so a pointer read under mu may be used after.
	sess *court.Session
	// gone is set, with mu held, when the session has been removed or
	// this node stopped owning it.
	gone bool
	// epoch is the owner epoch this node holds the session under; every
	// write to the store carries it. Guarded by mu.
	epoch uint64
	// sessionID never changes.
	sessionID string
}

// id returns the session id; no lock needed.
func (e *entry) id() string { return e.sessionID }

// registry indexes the owned sessions by id and by user. It is safe for
// concurrent use.
type registry struct {
	mu     sync.Mutex
	byID   map[string]*entry // guarded by mu
	byUser map[string]*entry // guarded by mu
}

func newRegistry() *registry {
	return &registry{byID: make(map[string]*entry), byUser: make(map[string]*entry)}
}

// add indexes e under its session's id and users. It returns false, and
// changes nothing, if either user is already indexed.
func (r *registry) add(e *entry) bool {
	s := e.sess
	e.sessionID = s.ID
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range s.Users() {
		if _, busy := r.byUser[u]; busy {
			return false
		}
	}
	r.byID[s.ID] = e
	for _, u := range s.Users() {
		r.byUser[u] = e
	}
	return true
}

// remove drops the index entries that still point at e.
func (r *registry) remove(e *entry) {
	s := e.sess
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byID[s.ID] == e {
		delete(r.byID, s.ID)
	}
	for _, u := range s.Users() {
		if r.byUser[u] == e {
			delete(r.byUser, u)
		}
	}
}

func (r *registry) user(userID string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byUser[userID]
}

func (r *registry) session(id string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byID[id]
}

// all returns every indexed entry.
func (r *registry) all() []*entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*entry, 0, len(r.byID))
	for _, e := range r.byID {
		out = append(out, e)
	}
	return out
}
