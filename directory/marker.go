package directory

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/rueidis"
)

// PresenceMarker detects that the directory lost an edge's presence (Redis
// restarted empty, failed over to an empty replica, or was flushed): each
// edge keeps a marker key of its own next to its presence, and a missing
// marker means every presence the edge recorded is gone too.
type PresenceMarker interface {
	// MarkPresence sets edgeNode's marker for ttl and reports whether it
	// was still there. False on the first call, and after a loss.
	MarkPresence(ctx context.Context, edgeNode string, ttl time.Duration) (kept bool, err error)
}

var (
	_ PresenceMarker = (*Redis)(nil)
	_ PresenceMarker = (*Memory)(nil)
)

func (d *Redis) markerKey(edgeNode string) string { return d.prefix + "presence-marker:" + edgeNode }

// MarkPresence implements PresenceMarker with one SET … GET PX (Redis ≥ 6.2).
func (d *Redis) MarkPresence(ctx context.Context, edgeNode string, ttl time.Duration) (bool, error) {
	if err := checkPresence(edgeNode, ttl); err != nil {
		return false, err
	}
	cmd := d.c.B().Set().Key(d.markerKey(edgeNode)).Value("1").Get().Px(ttl).Build()
	err := d.c.Do(ctx, cmd).Error()
	switch {
	case rueidis.IsRedisNil(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("directory: presence marker of %s: %w", edgeNode, err)
	}
	return true, nil
}

// MarkPresence implements PresenceMarker; Flush forgets the markers.
func (m *Memory) MarkPresence(_ context.Context, edgeNode string, ttl time.Duration) (bool, error) {
	if err := checkPresence(edgeNode, ttl); err != nil {
		return false, err
	}
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, kept := m.markers[edgeNode]
	m.markers[edgeNode] = now.Add(ttl)
	return kept && now.Before(exp), nil
}
