package outbox_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"courtmesh/home/outbox"
	"courtmesh/home/store/pgtest"
)

// TestLagIsCommitToDelivery: court_outbox_lag_seconds measures from a row's
// commit (created_at), not from its claim, so rows queued a minute ago show
// a minute of lag.
func TestLagIsCommitToDelivery(t *testing.T) {
	t.Parallel()
	pool := pgtest.Pool(t)
	_, srv := newWebhook(t, nil)
	insertRows(t, pool, 3)
	_, err := pool.Exec(t.Context(), `UPDATE court_outbox SET created_at = now() - interval '60 seconds'`)
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	run(t, newDispatcher(t, outbox.Config{DB: pool, Webhook: srv.URL, Client: srv.Client(), Registerer: reg}))
	checkFor(t, 5*time.Second, undelivered(t, pool))
	// The lag is observed after the commit the line above watches.
	var count uint64
	var sum float64
	checkFor(t, 5*time.Second, func() error {
		count, sum = lagSamples(t, reg)
		if count != 3 {
			return fmt.Errorf("%d lag samples, want one per delivered row", count)
		}
		return nil
	})
	require.GreaterOrEqual(t, sum/3, 60.0, "lag counts from the commit")
	require.Less(t, sum/3, 70.0)
}

// lagSamples returns the sample count and sum of court_outbox_lag_seconds.
func lagSamples(t *testing.T, reg *prometheus.Registry) (count uint64, sum float64) {
	t.Helper()
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "court_outbox_lag_seconds" {
			for _, m := range f.GetMetric() {
				count += m.GetHistogram().GetSampleCount()
				sum += m.GetHistogram().GetSampleSum()
			}
		}
	}
	return count, sum
}
