package cli

import (
	"os"
	"runtime/debug"
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
