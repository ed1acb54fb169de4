package directory

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Revocations is the cluster's list of revoked node ids: mesh nodes refuse
// the hello of a revoked node and cut its links (mesh.Config.Revocations).
// `courtctl cert revoke` writes it.
type Revocations interface {
	// RevokeNode adds nodeID to the list.
	RevokeNode(ctx context.Context, nodeID string) error
	// UnrevokeNode removes nodeID from the list.
	UnrevokeNode(ctx context.Context, nodeID string) error
	// RevokedNodes returns the list, sorted.
	RevokedNodes(ctx context.Context) ([]string, error)
}

// revokedKey is the set of revoked node ids; it has no TTL.
func (d *Redis) revokedKey() string { return d.prefix + "revoked:nodes" }

// RevokeNode implements Revocations: SADD.
func (d *Redis) RevokeNode(ctx context.Context, nodeID string) error {
	if err := d.c.Do(ctx, d.c.B().Sadd().Key(d.revokedKey()).Member(nodeID).Build()).Error(); err != nil {
		return fmt.Errorf("directory: revoke %s: %w", nodeID, err)
	}
	return nil
}

// UnrevokeNode implements Revocations: SREM.
func (d *Redis) UnrevokeNode(ctx context.Context, nodeID string) error {
	if err := d.c.Do(ctx, d.c.B().Srem().Key(d.revokedKey()).Member(nodeID).Build()).Error(); err != nil {
		return fmt.Errorf("directory: unrevoke %s: %w", nodeID, err)
	}
	return nil
}

// RevokedNodes implements Revocations: SMEMBERS, from the server (a
// revocation must not wait for a cache).
func (d *Redis) RevokedNodes(ctx context.Context) ([]string, error) {
	ids, err := d.c.Do(ctx, d.c.B().Smembers().Key(d.revokedKey()).Build()).AsStrSlice()
	if err != nil {
		return nil, fmt.Errorf("directory: read revoked nodes: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// memRevocations is Memory's revocation list.
type memRevocations struct {
	mu  sync.Mutex
	ids map[string]bool // guarded by mu
}

// RevokeNode implements Revocations.
func (m *Memory) RevokeNode(_ context.Context, nodeID string) error {
	m.revoked.mu.Lock()
	defer m.revoked.mu.Unlock()
	if m.revoked.ids == nil {
		m.revoked.ids = make(map[string]bool)
	}
	m.revoked.ids[nodeID] = true
	return nil
}

// UnrevokeNode implements Revocations.
func (m *Memory) UnrevokeNode(_ context.Context, nodeID string) error {
	m.revoked.mu.Lock()
	defer m.revoked.mu.Unlock()
	delete(m.revoked.ids, nodeID)
	return nil
}

// RevokedNodes implements Revocations.
func (m *Memory) RevokedNodes(context.Context) ([]string, error) {
	m.revoked.mu.Lock()
	defer m.revoked.mu.Unlock()
	ids := make([]string, 0, len(m.revoked.ids))
	for id := range m.revoked.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}
