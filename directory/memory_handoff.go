package directory

import "context"

// Handoff implements Handoffs.
func (m *Memory) Handoff(_ context.Context, sessionID, node, incarnation, target, region string) error {
	if err := checkHandoff(node, incarnation, target, region); err != nil {
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
	r.OwnerNode, r.OwnerInc, r.HomeRegion = target, "", region
	m.routes[sessionID] = r
	m.owned.remove(node, sessionID)
	m.handoffs.add(target, sessionID)
	return nil
}

// HandedTo implements Handoffs.
func (m *Memory) HandedTo(_ context.Context, node string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.handoffs.members(node), nil
}

// ClearHandoffs implements Handoffs.
func (m *Memory) ClearHandoffs(_ context.Context, node string, sessionIDs ...string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range sessionIDs {
		if r, ok := m.routes[id]; ok && r.OwnerNode == node && r.OwnerInc == "" {
			continue // handed to node again: still awaited
		}
		m.handoffs.remove(node, id)
	}
	return nil
}
