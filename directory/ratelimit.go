package directory

import "time"

// windowOf returns the start of the fixed window of length window that holds
// nowMs (unix ms), and the time left in it, in (0, window].
func windowOf(nowMs int64, window time.Duration) (startMs int64, left time.Duration) {
	w := window.Milliseconds()
	startMs = nowMs - nowMs%w
	return startMs, time.Duration(startMs+w-nowMs) * time.Millisecond
}
