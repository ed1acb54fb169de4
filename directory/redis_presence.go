package directory

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/rueidis"
)

// AddPresence implements Directory in one pipeline: per user, HSET of the
// edge's expiry, then PEXPIRE NX (a new key gets ttl) and PEXPIRE GT (an
// existing key keeps the longer of its TTL and ttl). PEXPIRE NX/GT need
// Redis ≥ 7.0.
func (d *Redis) AddPresence(ctx context.Context, edgeNode string, ttl time.Duration, userIDs ...string) error {
	if err := checkPresence(edgeNode, ttl); err != nil {
		return err
	}
	if len(userIDs) == 0 {
		return nil
	}
	expiry := strconv.FormatInt(time.Now().Add(ttl).UnixMilli(), 10)
	ms := ttl.Milliseconds()
	cmds := make(rueidis.Commands, 0, 3*len(userIDs))
	for _, u := range userIDs {
		key := d.presenceKey(u)
		cmds = append(cmds,
			d.c.B().Hset().Key(key).FieldValue().FieldValue(edgeNode, expiry).Build(),
			d.c.B().Pexpire().Key(key).Milliseconds(ms).Nx().Build(),
			d.c.B().Pexpire().Key(key).Milliseconds(ms).Gt().Build(),
		)
	}
	for _, res := range d.c.DoMulti(ctx, cmds...) {
		if err := res.Error(); err != nil {
			return fmt.Errorf("directory: add presence of %s: %w", edgeNode, err)
		}
	}
	return nil
}

// RemovePresence implements Directory with HDEL.
func (d *Redis) RemovePresence(ctx context.Context, edgeNode, userID string) error {
	cmd := d.c.B().Hdel().Key(d.presenceKey(userID)).Field(edgeNode).Build()
	if err := d.c.Do(ctx, cmd).Error(); err != nil {
		return fmt.Errorf("directory: remove presence of %s: %w", edgeNode, err)
	}
	return nil
}

// Presence implements Directory: HGETALL from the client-side cache (of the
// replica, when there is one), keeping the edges whose expiry is ahead of
// this node's clock. Fields that expired stay in the hash until the key's
// own TTL runs out or the edge is removed.
func (d *Redis) Presence(ctx context.Context, userID string) ([]string, error) {
	fields, err := d.reads.doCache(ctx, hgetallCmd, d.presenceKey(userID), d.cacheTTL).AsStrMap()
	if err != nil {
		return nil, fmt.Errorf("directory: get presence of %s: %w", userID, err)
	}
	live := make(map[string]time.Time, len(fields))
	for edge, v := range fields {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue // not written by AddPresence; never live
		}
		live[edge] = time.UnixMilli(ms)
	}
	return sortedEdges(live, time.Now()), nil
}
