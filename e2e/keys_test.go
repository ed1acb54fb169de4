package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
)

// redisKey is one key under the cluster's prefix, its type and its TTL
// (PTTL: -1 none).
type redisKey struct {
	name, kind string
	pttl       int64
}

// keys lists every Redis key of the cluster.
func (c *cluster) keys(t *testing.T, rdb rueidis.Client) []redisKey {
	t.Helper()
	ctx := context.Background()
	var out []redisKey
	var cursor uint64
	for range 1000 {
		e, err := rdb.Do(ctx, rdb.B().Scan().Cursor(cursor).Match(c.redisPrefix+"*").Count(1000).Build()).AsScanEntry()
		require.NoError(t, err)
		for _, k := range e.Elements {
			kind, err := rdb.Do(ctx, rdb.B().Type().Key(k).Build()).ToString()
			require.NoError(t, err)
			pttl, err := rdb.Do(ctx, rdb.B().Pttl().Key(k).Build()).AsInt64()
			require.NoError(t, err)
			if pttl == -2 {
				continue // expired meanwhile
			}
			out = append(out, redisKey{strings.TrimPrefix(k, c.redisPrefix), kind, pttl})
		}
		if cursor = e.Cursor; cursor == 0 {
			return out
		}
	}
	t.Fatal("scan did not end")
	return nil
}

// liveKeys are the key families a running cluster keeps with no session at
// all, each with a TTL: the home nodes' leases and heartbeats, presence
// records and the edges' presence markers, rate-limit windows and the nodes'
// membership announcements (directory/redis.go).
var liveKeys = []string{"node:", "nodes:", "presence:", "presence-marker:", "rl:", "member:"}

// ownedKeys are the keys without a TTL that a documented owner keeps small:
// the membership index, whose lapsed members leave on every read
// (directory/redis.go).
var ownedKeys = []string{"members"}

// TestR27NoKeysLeftOver lists the cluster's Redis keys after a complete
// session (closed, then removed after the CLOSED hold) and a tossed one
// (its PENDING timer fired), with the clients gone: no claim, route or
// owned/released entry is left, and every key that remains has a TTL.
func TestR27NoKeysLeftOver(t *testing.T) {
	c := startCluster(t, clusterOpts{timerScale: "0.002"}) // PENDING 1.2 s, CLOSED hold 60 ms
	rdb := redistest.Client(t)

	a, b := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	sid := driveTo(t, a, b, "VERDICT")
	a.must(t, "court:accept_verdict", map[string]any{})
	b.must(t, "court:accept_verdict", map[string]any{})
	a.waitEnded(t, sid, 20*time.Second)
	b.waitEnded(t, sid, 20*time.Second)

	x, y := connect(t, c, c.usURL), connect(t, c, c.asiaURL)
	tossed := x.must(t, "court:serve", map[string]any{"partnerId": y.id, "coupleId": nil, "judgeType": "swift"}).State.Session.ID
	x.waitEnded(t, tossed, 20*time.Second)

	during := c.keys(t, rdb)
	for _, u := range []*user{a, b, x, y} {
		u.c.Close()
	}
	require.Eventually(t, func() bool {
		for _, k := range c.keys(t, rdb) {
			if strings.HasPrefix(k.name, "presence:") {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond, "presence removed when the sockets close")

	left := c.keys(t, rdb)
	t.Logf("keys with connected clients: %v", during)
	t.Logf("keys after: %v", left)
	require.NotEmpty(t, left, "the home's lease keys at least")
	for _, k := range append(during, left...) {
		live := false
		for _, p := range liveKeys {
			live = live || strings.HasPrefix(k.name, p)
		}
		owned := false
		for _, o := range ownedKeys {
			owned = owned || k.name == o
		}
		require.True(t, live || owned, "key %s (%s) left over after every session ended", k.name, k.kind)
		if !owned {
			require.Positive(t, k.pttl, "key %s has no TTL", k.name)
		}
		for _, id := range []string{sid, tossed} {
			require.NotContains(t, k.name, id)
		}
	}
}
