package directory

import "context"

// RoundForTest runs one reconcile round of l now, as Run would.
func (l *RegionalLimiter) RoundForTest(ctx context.Context) { l.round(ctx) }

// ReplicaFallbacksForTest is how many cached reads the primary answered
// because the replica failed them.
func (d *Redis) ReplicaFallbacksForTest() int64 { return d.reads.fallbacks.Load() }
