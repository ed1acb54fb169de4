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
// replica failed one, before the replica is probed again (and, when it was
// not answering, dialed again).
const replicaRetryAfter = 5 * time.Second

// replicaReadTimeout bounds a cached read on the replica. A replica in the
// region answers a miss in a millisecond or two; one that has not answered
// by then is hung or gone (a host that drops packets leaves its connection
// open), and the read goes to the primary instead of waiting for its
// context, which is the action's whole budget.
const replicaReadTimeout = 250 * time.Millisecond

// replicaProbeTimeout bounds a probe of a replica that failed a read.
const replicaProbeTimeout = time.Second

// reads sends the cached reads of a Redis directory to the region's replica
// while it answers, and to the primary while it does not: a replica that is
// down, hung or resyncing makes its region's reads slower, never failed.
// One failed (or too slow) read moves reads to the primary; from then on
// the replica is probed off the read path, once every retryAfter
// (replicaRetryAfter), and reads go back to it when a probe is answered.
// So an outage costs one read at most replicaReadTimeout, not one per read
// or per interval. A replica that was not answering when its client was
// dialed is the same outage: its client (DialReplica) dials it again at
// each probe. The outage is logged once when it starts and once when the
// replica answers again, and counted by the metrics register exports.
type reads struct {
	primary    rueidis.Client
	replica    rueidis.Client // nil: every read is the primary's
	retryAfter time.Duration
	log        *slog.Logger
	down       atomic.Bool  // from a failed replica read until a probe is answered
	probeAfter atomic.Int64 // unix nanoseconds; no probe starts before
	probing    atomic.Bool  // a probe is in flight
	failures   atomic.Int64 // replica reads and probes that failed
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
// it is not down, else on the primary. A Redis nil is an answer, not a
// failure; a done ctx fails the read rather than move it.
func (r *reads) doCache(ctx context.Context, read cachedRead, key string, ttl time.Duration) rueidis.RedisResult {
	if r.replica == nil {
		return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
	}
	if r.down.Load() {
		r.fallbacks.Add(1)
		r.maybeProbe(key)
		return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
	}
	rctx, cancel := context.WithTimeout(ctx, replicaReadTimeout)
	res := r.replica.DoCache(rctx, read(r.replica.B(), key), ttl)
	cancel()
	err := res.Error()
	if err == nil || rueidis.IsRedisNil(err) || ctx.Err() != nil {
		return res
	}
	r.failures.Add(1)
	r.fallbacks.Add(1)
	r.probeAfter.Store(time.Now().Add(r.retryAfter).UnixNano())
	if r.down.CompareAndSwap(false, true) {
		r.log.Warn("redis replica failed a read; cached reads go to the primary until it answers a probe", "err", err, "probe_every", r.retryAfter)
	}
	return r.primary.DoCache(ctx, read(r.primary.B(), key), ttl)
}

// maybeProbe starts a probe of the down replica when retryAfter has passed
// since the last failure and none is in flight. It runs on its own
// goroutine, bounded by replicaProbeTimeout, so no read waits for it; key
// is the read that found it due (EXISTS answers for a key of any type).
func (r *reads) maybeProbe(key string) {
	if time.Now().UnixNano() < r.probeAfter.Load() || !r.probing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer r.probing.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), replicaProbeTimeout)
		err := r.replica.Do(ctx, r.replica.B().Exists().Key(key).Build()).Error()
		cancel()
		if err != nil {
			r.failures.Add(1)
			r.probeAfter.Store(time.Now().Add(r.retryAfter).UnixNano())
			return
		}
		if r.down.CompareAndSwap(true, false) {
			r.log.Info("redis replica answers again; cached reads go to it")
		}
	}()
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
			Help: "Cached directory reads the Redis primary answered because the region's replica failed: the read it failed and those sent while it is down.",
		}, func() float64 { return float64(r.fallbacks.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "court_directory_replica_down",
			Help: "1 from a cached directory read the region's Redis replica failed (or did not answer in time) until it answers a probe (reads go to the primary meanwhile), else 0.",
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
