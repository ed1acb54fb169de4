package directory

import "time"

// Limit is a fixed-window rate limit: at most Max events per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// CourtRateLimits are the per-user limits of the court events
// (court-protocol.md §2.5), applied globally (across every edge) rather than
// per process. The edge counts the event before any other validation.
var CourtRateLimits = map[string]Limit{
	"court:serve":             {Max: 5, Window: 5 * time.Minute},
	"court:submit_evidence":   {Max: 20, Window: 5 * time.Minute},
	"court:submit_addendum":   {Max: 10, Window: 5 * time.Minute},
	"court:resolution_hybrid": {Max: 5, Window: 5 * time.Minute},
}

// windowOf returns the start of the fixed window of length window that holds
// nowMs (unix ms), and the time left in it, in (0, window].
func windowOf(nowMs int64, window time.Duration) (startMs int64, left time.Duration) {
	w := window.Milliseconds()
	startMs = nowMs - nowMs%w
	return startMs, time.Duration(startMs+w-nowMs) * time.Millisecond
}
