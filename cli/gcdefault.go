package cli

import (
	"os"
	"runtime/debug"
)

// edgeGCPercent is the GOGC of `courtd edge` when the environment sets none.
// An edge's live heap is mostly its parked sockets, and the runtime lets the
// heap grow to (1 + GOGC/100) times the live heap before it collects, so
// GOGC is the largest factor of its resident memory per idle socket: at 10 000
// sockets 6.7 KiB with Go's default of 100, 5.3 KiB with 50, 4.8 KiB with 25
// (docs/performance.md). 50 takes most of the gain; the cost is a collection
// twice as often, which an edge, allocating little per message, barely sees.
const edgeGCPercent = 50

// defaultGCPercent sets the collector's GOGC to pct unless the GOGC
// environment variable is set: an operator's choice wins.
func defaultGCPercent(pct int) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	debug.SetGCPercent(pct)
}
