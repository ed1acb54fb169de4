package directory_test

import (
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// newRedis returns a directory on c under prefix.
func newRedis(t *testing.T, c rueidis.Client, prefix string) *directory.Redis {
	t.Helper()
	d, err := directory.NewRedis(directory.RedisConfig{Client: c, Prefix: prefix})
	require.NoError(t, err)
	return d
}

func TestRedisContract(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	contract(t, func(t *testing.T) directory.Directory {
		return newRedis(t, c, redistest.Prefix(t))
	})
}

func TestNewRedisConfig(t *testing.T) {
	t.Parallel()
	_, err := directory.NewRedis(directory.RedisConfig{})
	require.Error(t, err, "nil client")
	_, err = directory.Dial("http://127.0.0.1:6379")
	require.Error(t, err, "bad scheme")
}

func TestDial(t *testing.T) {
	t.Parallel()
	redistest.Client(t) // fails or skips when Redis is unreachable
	c, err := directory.Dial(redistest.URL())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Do(t.Context(), c.B().Ping().Build()).Error())
}

// TestRedisKeys pins the key layout other tools (courtctl, the peer) read,
// and checks that every key carries a TTL.
func TestRedisKeys(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t), redistest.Prefix(t)
	d, ctx := newRedis(t, c, prefix), t.Context()
	require.NoError(t, d.CreateSession(ctx, route("a-b"), "a", "b"))
	require.NoError(t, d.AddPresence(ctx, "edge-1", time.Minute, "a"))

	sid, err := c.Do(ctx, c.B().Get().Key(prefix+"user:a").Build()).ToString()
	require.NoError(t, err)
	require.Equal(t, "a-b", sid)
	fields, err := c.Do(ctx, c.B().Hgetall().Key(prefix+"route:a-b").Build()).AsStrMap()
	require.NoError(t, err)
	require.Equal(t, map[string]string{"home_region": "us", "owner_node": "home-us-1", "epoch": "1"}, fields)
	edges, err := c.Do(ctx, c.B().Hkeys().Key(prefix+"presence:a").Build()).AsStrSlice()
	require.NoError(t, err)
	require.Equal(t, []string{"edge-1"}, edges)

	for key, max := range map[string]time.Duration{
		"user:a": 48 * time.Hour, "user:b": 48 * time.Hour, "route:a-b": 48 * time.Hour,
		"presence:a": time.Minute,
	} {
		ms, err := c.Do(ctx, c.B().Pttl().Key(prefix+key).Build()).AsInt64()
		require.NoError(t, err)
		require.Positive(t, ms, key)
		require.LessOrEqual(t, ms, max.Milliseconds(), key)
	}
}

// TestRedisCached checks that a lookup with fresh false fills the client-side
// cache of the client it was given.
func TestRedisCached(t *testing.T) {
	t.Parallel()
	c, prefix := redistest.Client(t), redistest.Prefix(t)
	d, ctx := newRedis(t, c, prefix), t.Context()
	require.NoError(t, d.CreateSession(ctx, route("a-b"), "a", "b"))
	_, err := d.Lookup(ctx, "a", false)
	require.NoError(t, err)
	for _, cmd := range []rueidis.Cacheable{
		c.B().Get().Key(prefix + "user:a").Cache(),
		c.B().Hgetall().Key(prefix + "route:a-b").Cache(),
	} {
		require.True(t, c.DoCache(ctx, cmd, time.Minute).IsCacheHit())
	}
}

// TestRedisCacheCoherence changes the store through a second client and
// checks that cached reads on the first see it within a bounded time.
func TestRedisCacheCoherence(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	c1, c2 := redistest.Client(t), redistest.Client(t)
	d1, d2, ctx := newRedis(t, c1, prefix), newRedis(t, c2, prefix), t.Context()

	require.NoError(t, d1.CreateSession(ctx, route("a-b"), "a", "b"))
	eventuallyLookup(t, d1, "a", route("a-b")) // fills the cache
	_, err := d1.Presence(ctx, "a")
	require.NoError(t, err)

	// A new session for a, written by the other node.
	require.NoError(t, d2.EndSession(ctx, "a-b", "a", "b"))
	next := directory.Route{SessionID: "a-c", HomeRegion: "asia", OwnerNode: "home-asia-1", Epoch: 1}
	require.NoError(t, d2.CreateSession(ctx, next, "a", "c"))
	eventuallyLookup(t, d1, "a", next)

	// A new owner of the same session (what a lease takeover writes).
	cmd := c2.B().Hset().Key(prefix+"route:a-c").FieldValue().
		FieldValue("owner_node", "home-asia-2").FieldValue("epoch", "2").Build()
	require.NoError(t, c2.Do(ctx, cmd).Error())
	next.OwnerNode, next.Epoch = "home-asia-2", 2
	eventuallyLookup(t, d1, "a", next)

	require.NoError(t, d2.AddPresence(ctx, "edge-2", time.Minute, "a"))
	eventuallyEdges(t, d1, "a", "edge-2")
}
