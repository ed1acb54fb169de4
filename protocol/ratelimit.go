package protocol

import "time"

// Limit is a fixed-window rate limit: at most Max events per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// RateLimits are the per-user limits of the court events (§2.5), applied
// globally (across every edge, on the socket and the REST path alike)
// rather than per process. The edge counts the event before any other
// validation.
var RateLimits = map[string]Limit{
	Serve:            {Max: 5, Window: 5 * time.Minute},
	SubmitEvidence:   {Max: 20, Window: 5 * time.Minute},
	SubmitAddendum:   {Max: 10, Window: 5 * time.Minute},
	ResolutionHybrid: {Max: 5, Window: 5 * time.Minute},
}
