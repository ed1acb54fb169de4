package directory

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// replicaRetryAfter is how long cached reads go to the primary after the
// replica failed one, before the replica is asked again.
const replicaRetryAfter = 5 * time.Second

// reads sends the cached reads of a Redis directory to the region's replica
// while it answers, and to the primary while it does not: a replica that is
// down or resyncing makes its region's reads slower, never failed. One
// failure moves reads to the primary for replicaRetryAfter, so an outage
// costs one failed attempt per interval instead of one per read.
type reads struct {
	primary   rueidis.Client
	replica   rueidis.Client // nil: every read is the primary's
	skipUntil atomic.Int64   // unix nanoseconds; the replica is not asked before
	fallbacks atomic.Int64   // reads the primary answered for a failed replica
}

// doCache runs the cached read that build makes, on the replica when there is
// one and it has not just failed, else on the primary. A Redis nil is an
// answer, not a failure; a done ctx fails the read rather than move it.
func (r *reads) doCache(ctx context.Context, build func(rueidis.Builder) rueidis.Cacheable, ttl time.Duration) rueidis.RedisResult {
	if r.replica == nil || time.Now().UnixNano() < r.skipUntil.Load() {
		return r.primary.DoCache(ctx, build(r.primary.B()), ttl)
	}
	res := r.replica.DoCache(ctx, build(r.replica.B()), ttl)
	if err := res.Error(); err == nil || rueidis.IsRedisNil(err) || ctx.Err() != nil {
		return res
	}
	r.skipUntil.Store(time.Now().Add(replicaRetryAfter).UnixNano())
	r.fallbacks.Add(1)
	return r.primary.DoCache(ctx, build(r.primary.B()), ttl)
}
