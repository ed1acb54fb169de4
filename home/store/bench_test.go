package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"courtmesh/home/court"
	"courtmesh/home/store"
)

// BenchmarkFenceMany fences 10 000 sessions per op, as a failover of a
// loaded home node would.
func BenchmarkFenceMany(b *testing.B) {
	st, _ := newStore(b)
	const n = 10_000
	want := make([]store.SessionEpoch, n)
	var g errgroup.Group
	g.SetLimit(8)
	for i := range want {
		g.Go(func() error {
			s, err := court.NewSession(newID(), newUser("c"), newUser("p"), "", "", time.Now(), durations)
			if err != nil {
				return err
			}
			want[i].ID = s.ID
			return st.Create(b.Context(), store.Create{Session: s, Epoch: 1, Node: "n1", HomeRegion: "us", Event: "serve"})
		})
	}
	require.NoError(b, g.Wait())
	epoch := uint64(1)
	b.ResetTimer()
	for b.Loop() {
		epoch++
		for i := range want {
			want[i].Epoch = epoch
		}
		fenced, err := st.FenceMany(b.Context(), want)
		require.NoError(b, err)
		require.Len(b, fenced, n)
	}
}
