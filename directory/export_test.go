package directory

import (
	"context"
	"time"
)

// RoundForTest runs one reconcile round of l now, as Run would.
func (l *RegionalLimiter) RoundForTest(ctx context.Context) { l.round(ctx) }

// ReplicaFallbacksForTest is how many cached reads the primary answered
// because the replica failed them.
func (d *Redis) ReplicaFallbacksForTest() int64 { return d.reads.fallbacks.Load() }

// SetReplicaRetryForTest sets how long cached reads skip the replica after
// it failed one (replicaRetryAfter). Call it before the first read.
func (d *Redis) SetReplicaRetryForTest(after time.Duration) { d.reads.retryAfter = after }
