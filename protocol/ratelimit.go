package protocol

import "time"

// Limit is a fixed-window rate limit: at most Max events per Window.
type Limit struct {
	Max    int
	Window time.Duration
	// FailClosed refuses the event when the shared counters are
	// unreachable for longer than a short grace: the events that spend
	// the LLM budget or create sessions. The others are counted by the
	// edge alone meanwhile (docs/decisions.md, "The rate limiter fails
	// closed for the costly events").
	FailClosed bool
}

// RateLimits are the per-user limits of the court events (§2.5), applied
// globally (across every edge, on the socket and the REST path alike)
// rather than per process. The edge counts the event before any other
// validation, and decides at once, with no round trip: from its own count
// in the window plus the other edges' counts as of its last reconcile with
// the shared counters (directory.RegionalLimiter), at most one round trip
// to the Redis primary old. A user acting through one edge is limited
// exactly; one acting through several edges at the same instant can pass
// a limit by what the others counted within that round trip.
// court:register is not limited by the original; a client registers once a
// socket, so its limit only stops a flood.
var RateLimits = map[string]Limit{
	Serve:            {Max: 5, Window: 5 * time.Minute, FailClosed: true},
	SubmitEvidence:   {Max: 20, Window: 5 * time.Minute, FailClosed: true},
	SubmitAddendum:   {Max: 10, Window: 5 * time.Minute, FailClosed: true},
	ResolutionHybrid: {Max: 5, Window: 5 * time.Minute, FailClosed: true},
	Register:         {Max: 60, Window: time.Minute},
}
