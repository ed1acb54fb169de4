package directory

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// replicaRetryAfter is how long cached reads go to the primary after the
// replica failed one, before the replica is asked again (and, when it was
// not answering, dialed again).
const replicaRetryAfter = 5 * time.Second

// reads sends the cached reads of a Redis directory to the region's replica
// while it answers, and to the primary while it does not: a replica that is
// down or resyncing makes its region's reads slower, never failed. One
// failure moves reads to the primary for retryAfter (replicaRetryAfter), so
// an outage costs one failed attempt per interval instead of one per read.
// A replica that was not answering when its client was dialed is the same
// outage: its client (DialReplica) dials it again at each attempt.
type reads struct {
	primary    rueidis.Client
	replica    rueidis.Client // nil: every read is the primary's
	retryAfter time.Duration
	skipUntil  atomic.Int64 // unix nanoseconds; the replica is not asked before
	fallbacks  atomic.Int64 // reads the primary answered for a failed replica
}

// cachedRead builds one cached read of key; getCmd and hgetallCmd are the
// directory's two. Functions, not closures over the key, so a read
// allocates nothing to choose its client.
type cachedRead func(b rueidis.Builder, key string) rueidis.Cacheable

func getCmd(b rueidis.Builder, key string) rueidis.Cacheable { return b.Get().Key(key).Cache() }

func hgetallCmd(b rueidis.Builder, key string) rueidis.Cacheable {
	return b.Hgetall().Key(key).Cache()
}

// doCache runs the cached read of key, on the replica when there is one and
// it has not just failed, else on the primary. A Redis nil is an answer,
// not a failure; a done ctx fails the read rather than move it.
func (r *reads) doCache(ctx context.Context, read cachedRead, key string, ttl time.Duration) rueidis.RedisResult {
	if r.replica == nil || time.Now().UnixNano() < r.skipUntil.Load() {
		return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
	}
	res := r.replica.DoCache(ctx, read(r.replica.B(), key), ttl)
	if err := res.Error(); err == nil || rueidis.IsRedisNil(err) || ctx.Err() != nil {
		return res
	}
	r.skipUntil.Store(time.Now().Add(r.retryAfter).UnixNano())
	r.fallbacks.Add(1)
	return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
}
