package directory

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"
)

// nodeLease is the node lease of one node in Memory.
type nodeLease struct {
	incarnation string
	expiry      time.Time
}

// Heartbeat implements Leases.
func (m *Memory) Heartbeat(_ context.Context, node, region, incarnation string, ttl time.Duration) error {
	if err := checkHeartbeat(node, region, incarnation, ttl); err != nil {
		return err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.nodes[node]; ok && cur.expiry.After(now) && cur.incarnation != incarnation {
		return ErrNodeInUse
	}
	m.nodes[node] = nodeLease{incarnation: incarnation, expiry: now.Add(ttl)}
	seen := m.seen[region]
	if seen == nil {
		seen = make(map[string]time.Time)
		m.seen[region] = seen
	}
	seen[node] = now
	m.pruneSeen(region, now)
	return nil
}

// Leave implements Leases.
func (m *Memory) Leave(_ context.Context, node, incarnation string) error {
	if err := checkHolder(node, incarnation); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.nodes[node]; ok && cur.incarnation == incarnation {
		delete(m.nodes, node)
	}
	return nil
}

// LiveNodes implements Leases.
func (m *Memory) LiveNodes(_ context.Context, region string) ([]NodeInfo, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var live []NodeInfo
	for _, node := range slices.Sorted(maps.Keys(m.seen[region])) {
		if inc, ok := m.liveInc(node, now); ok {
			live = append(live, NodeInfo{ID: node, Incarnation: inc})
		}
	}
	return live, nil
}

// RegionNodes implements Leases.
func (m *Memory) RegionNodes(_ context.Context, region string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pruneSeen(region, time.Now())
	return slices.Sorted(maps.Keys(m.seen[region])), nil
}

// pruneSeen forgets the nodes of region not seen for nodeHistory. Lock held
// on entry.
func (m *Memory) pruneSeen(region string, now time.Time) {
	seen := m.seen[region]
	for node, at := range seen {
		if now.Sub(at) > nodeHistory {
			delete(seen, node)
		}
	}
	if len(seen) == 0 {
		delete(m.seen, region)
	}
}

// liveInc returns the incarnation of node's live lease. Lock held on entry.
func (m *Memory) liveInc(node string, now time.Time) (string, bool) {
	l, ok := m.nodes[node]
	if !ok || !l.expiry.After(now) {
		return "", false
	}
	return l.incarnation, true
}

// Acquire implements Leases.
func (m *Memory) Acquire(_ context.Context, sessionID, node, incarnation string) (Route, error) {
	if err := checkHolder(node, incarnation); err != nil {
		return Route{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.acquire(sessionID, node, incarnation, time.Now())
}

// AcquireMany implements Leases.
func (m *Memory) AcquireMany(_ context.Context, sessionIDs []string, node, incarnation string) (map[string]Route, error) {
	if err := checkHolder(node, incarnation); err != nil {
		return nil, err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	got := make(map[string]Route, len(sessionIDs))
	for _, sid := range sessionIDs {
		r, err := m.acquire(sid, node, incarnation, now)
		if errors.Is(err, ErrLeaseLost) {
			return got, err
		}
		if err == nil {
			got[sid] = r
		}
	}
	return got, nil
}

// acquire is Acquire with the lock held.
func (m *Memory) acquire(sessionID, node, incarnation string, now time.Time) (Route, error) {
	if inc, ok := m.liveInc(node, now); !ok || inc != incarnation {
		return Route{}, ErrLeaseLost
	}
	r, ok := m.routes[sessionID]
	switch {
	case !ok:
		return Route{}, ErrNotFound
	case r.OwnerNode == node && r.OwnerInc == incarnation:
		return r, nil
	}
	if inc, live := m.liveInc(r.OwnerNode, now); live {
		switch {
		case r.OwnerInc != "" && inc == r.OwnerInc:
			return r, ErrOwned
		case r.OwnerInc == "" && r.OwnerNode != node && m.handoffs.has(r.OwnerNode, sessionID):
			return r, ErrOwned // handed to a live node, which acquires it
		}
	}
	m.owned.remove(r.OwnerNode, sessionID)
	m.released.remove(r.HomeRegion, sessionID)
	r.OwnerNode, r.OwnerInc, r.Epoch = node, incarnation, r.Epoch+1
	m.routes[sessionID] = r
	m.owned.add(node, sessionID)
	return r, nil
}

// Release implements Leases.
func (m *Memory) Release(_ context.Context, sessionID, node, incarnation string) error {
	if err := checkHolder(node, incarnation); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.routes[sessionID]
	switch {
	case !ok:
		return ErrNotFound
	case r.OwnerNode != node || r.OwnerInc != incarnation:
		return ErrNotOwner
	}
	r.OwnerInc = ""
	m.routes[sessionID] = r
	m.owned.remove(node, sessionID)
	m.released.add(r.HomeRegion, sessionID)
	return nil
}

// Owned implements Leases.
func (m *Memory) Owned(_ context.Context, node string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owned.members(node), nil
}

// Released implements Leases.
func (m *Memory) Released(_ context.Context, region string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.released.members(region), nil
}
