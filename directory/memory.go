package directory

import (
	"context"
	"sync"
	"time"
)

// Memory is the in-process Store: the dev stand-in `courtd dev` uses when
// REDIS_URL is unset. It keeps the semantics of Redis (atomic claims, stale
// claims, presence expiry by time, leases, rate limits) within one process and shares nothing
// between processes. The zero value is not usable; call NewMemory.
type Memory struct {
	mu       sync.Mutex
	users    map[string]string               // userID → sessionID; guarded by mu
	routes   map[string]Route                // sessionID → route; guarded by mu
	presence map[string]map[string]time.Time // userID → edge → expiry; guarded by mu
	nodes    map[string]nodeLease            // node → its lease; guarded by mu
	seen     map[string]map[string]time.Time // region → node → last heartbeat; guarded by mu
	owned    sets                            // node → sessions; guarded by mu
	released sets                            // region → sessions; guarded by mu
	counts   map[rateKey]rateCount           // rate-limit windows; guarded by mu
	revoked  memRevocations
	markers  map[string]time.Time    // edge → presence marker expiry; guarded by mu
	members  map[string]memberRecord // node → announcement; guarded by mu
	handoffs sets                    // target node → sessions handed to it; guarded by mu
}

var _ Store = (*Memory)(nil)

// Flush forgets everything, as Redis does when it restarts without
// persistence or fails over to an empty replica.
func (m *Memory) Flush() {
	fresh := NewMemory()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users, m.routes, m.presence, m.nodes = fresh.users, fresh.routes, fresh.presence, fresh.nodes
	m.seen, m.owned, m.released, m.counts = fresh.seen, fresh.owned, fresh.released, fresh.counts
	m.markers = fresh.markers
	m.members, m.handoffs = fresh.members, fresh.handoffs
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{
		users:    make(map[string]string),
		routes:   make(map[string]Route),
		presence: make(map[string]map[string]time.Time),
		nodes:    make(map[string]nodeLease),
		seen:     make(map[string]map[string]time.Time),
		owned:    make(sets),
		released: make(sets),
		counts:   make(map[rateKey]rateCount),
		markers:  make(map[string]time.Time),
		members:  make(map[string]memberRecord),
		handoffs: make(sets),
	}
}

// Lookup implements Directory. There is no cache, so fresh is ignored.
func (m *Memory) Lookup(_ context.Context, userID string, _ bool) (Route, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.routeOfUser(userID)
}

// RouteOf implements Directory. There is no cache, so fresh is ignored.
func (m *Memory) RouteOf(_ context.Context, sessionID string, _ bool) (Route, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.routes[sessionID]
	if !ok {
		return Route{}, ErrNotFound
	}
	return r, nil
}

// RoutesOf implements Leases.
func (m *Memory) RoutesOf(_ context.Context, sessionIDs []string) (map[string]Route, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]Route, len(sessionIDs))
	for _, id := range sessionIDs {
		if r, ok := m.routes[id]; ok {
			out[id] = r
		}
	}
	return out, nil
}

// routeOfUser returns the route of the session userID claims. Lock held on entry.
func (m *Memory) routeOfUser(userID string) (Route, error) {
	sid, ok := m.users[userID]
	if !ok {
		return Route{}, ErrNotFound
	}
	r, ok := m.routes[sid]
	if !ok {
		return Route{}, ErrNotFound
	}
	return r, nil
}

// CreateSession implements Directory.
func (m *Memory) CreateSession(_ context.Context, r Route, creatorID, partnerID string) error {
	if err := checkCreate(r, creatorID, partnerID); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range []string{creatorID, partnerID} {
		if _, err := m.routeOfUser(u); err == nil {
			return ErrUserBusy
		}
	}
	if r.Epoch == 0 {
		r.Epoch = 1
	}
	m.users[creatorID] = r.SessionID
	m.users[partnerID] = r.SessionID
	m.dropRoute(r.SessionID) // an orphan
	m.routes[r.SessionID] = r
	if r.OwnerInc == "" {
		m.released.add(r.HomeRegion, r.SessionID)
	} else {
		m.owned.add(r.OwnerNode, r.SessionID)
	}
	return nil
}

// dropRoute deletes the route of sessionID and its entries in the owned and
// released sets. Lock held on entry.
func (m *Memory) dropRoute(sessionID string) {
	r, ok := m.routes[sessionID]
	if !ok {
		return
	}
	m.owned.remove(r.OwnerNode, sessionID)
	m.released.remove(r.HomeRegion, sessionID)
	delete(m.routes, sessionID)
}

// EndSession implements Directory.
func (m *Memory) EndSession(_ context.Context, sessionID string, userIDs ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropRoute(sessionID)
	for _, u := range userIDs {
		if m.users[u] == sessionID {
			delete(m.users, u)
		}
	}
	return nil
}

// AddPresence implements Directory.
func (m *Memory) AddPresence(_ context.Context, edgeNode string, ttl time.Duration, userIDs ...string) error {
	if err := checkPresence(edgeNode, ttl); err != nil {
		return err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range userIDs {
		edges := m.presence[u]
		if edges == nil {
			edges = make(map[string]time.Time)
			m.presence[u] = edges
		}
		pruneExpired(edges, now)
		edges[edgeNode] = now.Add(ttl)
	}
	return nil
}

// RemovePresence implements Directory.
func (m *Memory) RemovePresence(_ context.Context, edgeNode, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	edges := m.presence[userID]
	delete(edges, edgeNode)
	if len(edges) == 0 {
		delete(m.presence, userID)
	}
	return nil
}

// Presence implements Directory.
func (m *Memory) Presence(_ context.Context, userID string) ([]string, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	edges := m.presence[userID]
	pruneExpired(edges, now)
	if len(edges) == 0 {
		delete(m.presence, userID)
	}
	return sortedEdges(edges, now), nil
}

// pruneExpired deletes the edges whose expiry is not after now.
func pruneExpired(edges map[string]time.Time, now time.Time) {
	for edge, expiry := range edges {
		if !expiry.After(now) {
			delete(edges, edge)
		}
	}
}
