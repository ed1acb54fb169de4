package directory

import (
	"context"
	"time"
)

// RoundForTest runs one reconcile round of l now, as Run would.
func (l *RegionalLimiter) RoundForTest(ctx context.Context) { l.round(ctx) }

// ReplicaFailuresForTest is how many cached reads the replica failed.
func (d *Redis) ReplicaFailuresForTest() int64 { return d.reads.failures.Load() }

// SetReplicaRetryForTest sets how long cached reads skip the replica after
// it failed one (replicaRetryAfter). Call it before the first read.
func (d *Redis) SetReplicaRetryForTest(after time.Duration) { d.reads.retryAfter = after }
