package rediscache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/rediscache"
	"courtmesh/directory/redistest"
)

// On the real Redis, through the directory: the presence of users who are
// gone (a home pushes the end of a session to users who left) is cached,
// never invalidated, and leaves the cache at the directory's CacheTTL.
func TestPresenceOfGoneUsersLeavesTheCache(t *testing.T) {
	var (
		mu     sync.Mutex
		stores []rueidis.CacheStore
	)
	c := redistest.ClientOf(t, func(o *rueidis.ClientOption) {
		next := o.NewCacheStoreFn
		o.NewCacheStoreFn = func(opt rueidis.CacheStoreOption) rueidis.CacheStore {
			s := next(opt)
			mu.Lock()
			defer mu.Unlock()
			stores = append(stores, s)
			return s
		}
	})
	cached := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range stores {
			n += rediscache.Entries(s)
		}
		return n
	}
	const cacheTTL = 500 * time.Millisecond
	d, err := directory.NewRedis(directory.RedisConfig{Client: c, Prefix: redistest.Prefix(t), CacheTTL: cacheTTL})
	require.NoError(t, err)
	read := func(n int, tag string) {
		for i := range n {
			edges, err := d.Presence(context.Background(), fmt.Sprintf("%s-%d", tag, i))
			require.NoError(t, err)
			require.Empty(t, edges)
		}
	}

	read(1000, "gone")
	require.Positive(t, cached(), "the presence reads go through the cache")
	time.Sleep(cacheTTL + 50*time.Millisecond)
	read(20, "late")
	require.LessOrEqual(t, cached(), 20, "the entries of the gone users left at their TTL")
}
