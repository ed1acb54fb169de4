package directory

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
// outage: its client (DialReplica) dials it again at each attempt. The
// outage is logged once when it starts and once when the replica answers
// again, and counted by the metrics register exports.
type reads struct {
	primary    rueidis.Client
	replica    rueidis.Client // nil: every read is the primary's
	retryAfter time.Duration
	log        *slog.Logger
	skipUntil  atomic.Int64 // unix nanoseconds; the replica is not asked before
	down       atomic.Bool  // from a failed replica read until the replica answers one
	failures   atomic.Int64 // replica reads that failed
	fallbacks  atomic.Int64 // reads the primary answered in place of the replica: the failed ones and those skipping it
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
	if r.replica == nil {
		return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
	}
	if time.Now().UnixNano() < r.skipUntil.Load() {
		r.fallbacks.Add(1)
		return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
	}
	res := r.replica.DoCache(ctx, read(r.replica.B(), key), ttl)
	err := res.Error()
	if err == nil || rueidis.IsRedisNil(err) {
		if r.down.Load() && r.down.CompareAndSwap(true, false) {
			r.log.Info("redis replica answers again; cached reads go to it")
		}
		return res
	}
	if ctx.Err() != nil {
		return res
	}
	r.skipUntil.Store(time.Now().Add(r.retryAfter).UnixNano())
	r.failures.Add(1)
	r.fallbacks.Add(1)
	if r.down.CompareAndSwap(false, true) {
		r.log.Warn("redis replica failed a read; cached reads go to the primary until it answers", "err", err, "retry_every", r.retryAfter)
	}
	return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
}

// register exports the replica's fallbacks and whether reads skip it on
// reg; there is nothing to export without a replica.
func (r *reads) register(reg prometheus.Registerer) error {
	if reg == nil || r.replica == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "court_directory_replica_fallback_reads_total",
			Help: "Cached directory reads the Redis primary answered because the region's replica failed: the read it failed and those sent while it is skipped.",
		}, func() float64 { return float64(r.fallbacks.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "court_directory_replica_down",
			Help: "1 from a cached directory read the region's Redis replica failed until it answers one again (reads go to the primary meanwhile), else 0.",
		}, func() float64 {
			if r.down.Load() {
				return 1
			}
			return 0
		}),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register directory metrics: %w", err)
		}
	}
	return nil
}
