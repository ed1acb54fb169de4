package directory

import "context"

// RoundForTest runs one reconcile round of l now, as Run would.
func (l *RegionalLimiter) RoundForTest(ctx context.Context) { l.round(ctx) }
