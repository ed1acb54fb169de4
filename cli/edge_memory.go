package cli

import (
	"context"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// edgeGCPercent is the GOGC of `courtd edge` when the environment sets none.
// An edge's live heap is mostly its parked sockets, and the runtime lets the
// heap grow to (1 + GOGC/100) times the live heap before it collects, so
// GOGC is the largest factor of its resident memory per idle socket: at 10 000
// sockets, 6.7 KiB with Go's default of 100, 5.3 KiB with 50
// (docs/performance.md). 50 takes most of the gain for a collection twice as
// often; 25 is the operator's choice (docs/decisions.md, issue 11).
const edgeGCPercent = 50

// defaultGCPercent sets the collector's GOGC to pct unless the GOGC
// environment variable is set: an operator's choice wins.
func defaultGCPercent(pct int) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(pct)
}

// edgeCacheBytesEachConn bounds the client-side cache of an edge's Redis
// clients a connection (four connections). An edge reads a user's claim and
// route through the cache on every action, and register leaves an entry of
// about 0.9 KB for every user; the directory's cache (rediscache) keeps it
// for its 30 s TTL, within 8 MiB a connection by default: an entry for every
// socket registered in the last 30 s, 10 000 of them after a burst. 512 KiB
// holds the claims and routes of the users acting; beyond it the oldest
// entries leave first.
const edgeCacheBytesEachConn = 512 << 10

// After a burst of allocation (a wave of handshakes: each allocates about
// 28 KiB, mostly net/http's buffers, that is garbage once the socket is
// parked) the heap holds that garbage until the next collection, and the
// runtime keeps the freed pages for up to about 1.1 times its heap goal
// (its scavenger returns only what is above that). An edge holding idle
// sockets then keeps a heap sized for the burst. So `courtd edge` watches
// the allocation rate and, at the first quiet second after a burst, collects
// and returns the free pages at once (debug.FreeOSMemory): one forced
// collection per burst, not per socket (docs/decisions.md, issue 11). A quiet
// second counts only against the busy seconds before it: steady traffic that
// hovers about the floor (a paced bench: 3 to 12 MiB a second an edge) dips
// below it now and then, and such a dip is no end of a burst.
const (
	releaseTick = time.Second
	// releaseQuietFloor is the allocation in one releaseTick below which
	// the heap counts as quiet, unless an eighth of the live heap is more:
	// 10 000 idle sockets allocate about 0.5 MiB a second (their pings).
	releaseQuietFloor = 4 << 20
	// releaseAfterBurst is the allocation of the busy ticks since the last
	// release that makes a quiet tick release: about 600 handshakes. A
	// burst that paused for a second (a stalled client) is released twice.
	releaseAfterBurst = 16 << 20
	// releaseDipRatio: a quiet tick ends a burst only if it allocated at
	// most 1/releaseDipRatio of the burst's busy ticks on average. After
	// handshakes (tens of MiB a second) the pings of idle sockets are far
	// below that; a dip of steady traffic is not.
	releaseDipRatio = 8
)

// burstRelease decides, once a releaseTick, whether to return the heap's
// free memory to the operating system.
type burstRelease struct {
	allocs uint64 // cumulative heap allocation at the last tick
	burst  uint64 // allocated in busy ticks since the last release
	busy   uint64 // busy ticks since the last release
}

// tick takes the cumulative heap allocation and the live heap now and
// reports whether to release, and the burst's allocation: the tick is quiet,
// a burst came before it, and the tick is far below the burst's ticks (not
// a dip of steady traffic).
func (b *burstRelease) tick(allocs, live uint64) (release bool, burst uint64) {
	n := allocs - b.allocs
	b.allocs = allocs
	if n >= max(releaseQuietFloor, live/8) {
		b.burst += n
		b.busy++
		return false, 0
	}
	if b.burst < releaseAfterBurst || n*releaseDipRatio > b.burst/b.busy {
		return false, 0
	}
	burst, b.burst, b.busy = b.burst, 0, 0
	return true, burst
}

// releaseAfterBursts returns the heap's free memory to the operating system
// after each burst of allocation, until ctx is done.
func releaseAfterBursts(ctx context.Context, log *slog.Logger) error {
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	b := burstRelease{allocs: samples[0].Value.Uint64()}
	t := time.NewTicker(releaseTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		metrics.Read(samples)
		if release, burst := b.tick(samples[0].Value.Uint64(), samples[1].Value.Uint64()); release {
			start := time.Now()
			debug.FreeOSMemory()
			log.Debug("returned the heap's free memory after a burst", "component", "memory",
				"burst_mib", burst>>20, "live_mib", samples[1].Value.Uint64()>>20, "took", time.Since(start))
		}
	}
}
