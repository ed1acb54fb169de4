package directory_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// newRedis returns a directory on c under prefix.
func newRedis(t testing.TB, c rueidis.Client, prefix string) *directory.Redis {
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

func TestRedisStoreContract(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	storeContract(t, func(t *testing.T) directory.Store {
		return newRedis(t, c, redistest.Prefix(t))
	})
}

// TestRedisLimiterShared checks that two nodes (two clients) share one count.
func TestRedisLimiterShared(t *testing.T) {
	t.Parallel()
	prefix := redistest.Prefix(t)
	d1, d2 := newRedis(t, redistest.Client(t), prefix), newRedis(t, redistest.Client(t), prefix)
	ctx := t.Context()
	for attempt := range 3 {
		user := fmt.Sprintf("u%d", attempt)
		for i, d := range []*directory.Redis{d1, d2, d1, d2, d1} {
			ok, _, err := d.Allow(ctx, user, "court:serve", 5, time.Hour)
			require.NoError(t, err)
			require.True(t, ok, "event %d", i+1)
		}
		ok, retry, err := d2.Allow(ctx, user, "court:serve", 5, time.Hour)
		require.NoError(t, err)
		if ok {
			continue // a new window began
		}
		require.Positive(t, retry)
		return
	}
	t.Fatal("never refused past 5 events")
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
	require.NoError(t, d.Heartbeat(ctx, "home-us-1", "us", "inc-1", time.Minute))
	_, err := d.Acquire(ctx, "a-b", "home-us-1", "inc-1")
	require.NoError(t, err)
	_, _, err = d.Allow(ctx, "a", "court:serve", 5, time.Minute)
	require.NoError(t, err)

	for key, want := range map[string]string{"user:a": "a-b", "node:home-us-1": "inc-1"} {
		got, err := c.Do(ctx, c.B().Get().Key(prefix+key).Build()).ToString()
		require.NoError(t, err)
		require.Equal(t, want, got, key)
	}
	fields, err := c.Do(ctx, c.B().Hgetall().Key(prefix+"route:a-b").Build()).AsStrMap()
	require.NoError(t, err)
	require.Equal(t, map[string]string{
		"home_region": "us", "owner_node": "home-us-1", "owner_inc": "inc-1", "epoch": "2",
	}, fields)
	ids, err := c.Do(ctx, c.B().Smembers().Key(prefix+"owned:home-us-1").Build()).AsStrSlice()
	require.NoError(t, err)
	require.Equal(t, []string{"a-b"}, ids)
	nodes, err := c.Do(ctx, c.B().Zrange().Key(prefix+"nodes:us").Min("0").Max("-1").Build()).AsStrSlice()
	require.NoError(t, err)
	require.Equal(t, []string{"home-us-1"}, nodes)
	rl, err := c.Do(ctx, c.B().Keys().Pattern(prefix+"rl:court:serve:a:*").Build()).AsStrSlice()
	require.NoError(t, err)
	require.Len(t, rl, 1, "one counter per window")
	edges, err := c.Do(ctx, c.B().Hkeys().Key(prefix+"presence:a").Build()).AsStrSlice()
	require.NoError(t, err)
	require.Equal(t, []string{"edge-1"}, edges)

	for key, max := range map[string]time.Duration{
		"user:a": 48 * time.Hour, "user:b": 48 * time.Hour, "route:a-b": 48 * time.Hour,
		"presence:a": time.Minute, "node:home-us-1": time.Minute, "nodes:us": time.Hour,
	} {
		ms, err := c.Do(ctx, c.B().Pttl().Key(prefix+key).Build()).AsInt64()
		require.NoError(t, err)
		require.Positive(t, ms, key)
		require.LessOrEqual(t, ms, max.Milliseconds(), key)
	}
	// A rate-limit counter lives until its window's end, named by the key:
	// read at that very end, it is already gone, not immortal.
	start, err := strconv.ParseInt(rl[0][strings.LastIndexByte(rl[0], ':')+1:], 10, 64)
	require.NoError(t, err)
	end := start + time.Minute.Milliseconds()
	ms, err := c.Do(ctx, c.B().Pttl().Key(rl[0]).Build()).AsInt64()
	require.NoError(t, err)
	if ms == -2 {
		require.GreaterOrEqual(t, time.Now().UnixMilli(), end, "%s gone before its window's end", rl[0])
		return
	}
	require.Positive(t, ms, rl[0])
	require.LessOrEqual(t, time.Now().UnixMilli()+ms, end+time.Second.Milliseconds(), "%s expires at its window's end", rl[0])
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

// BenchmarkRedisAcquireMany measures a failover of 10 000 released sessions.
func BenchmarkRedisAcquireMany(b *testing.B) {
	c, prefix := redistest.Client(b), redistest.Prefix(b)
	d, ctx := newRedis(b, c, prefix), b.Context()
	const n = 10000
	for round := range b.N {
		b.StopTimer()
		node := fmt.Sprintf("n%d", round)
		require.NoError(b, d.Heartbeat(ctx, node, "us", "i", time.Minute))
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("r%d-s%05d", round, i)
			r := directory.Route{SessionID: ids[i], HomeRegion: "us", OwnerNode: "gone", Epoch: 1}
			require.NoError(b, d.CreateSession(ctx, r, ids[i]+"/c", ids[i]+"/p"))
		}
		b.StartTimer()
		got, err := d.AcquireMany(ctx, ids, node, "i")
		require.NoError(b, err)
		require.Len(b, got, n)
	}
}
