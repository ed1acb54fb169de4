package directory_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
)

func TestRendezvous(t *testing.T) {
	t.Parallel()
	require.Empty(t, directory.Rendezvous("s", nil))
	require.Equal(t, "n1", directory.Rendezvous("s", []string{"n1"}))

	three := []string{"n1", "n2", "n3"}
	const keys = 3000
	count := map[string]int{}
	for i := range keys {
		key := fmt.Sprintf("session-%d", i)
		home := directory.Rendezvous(key, three)
		count[home]++
		require.Equal(t, home, directory.Rendezvous(key, []string{"n3", "n1", "n2"}), "order of nodes")

		without := directory.Rendezvous(key, []string{"n1", "n2"})
		if home != "n3" {
			require.Equal(t, home, without, "%s moved though its node stayed", key)
		} else {
			require.NotEqual(t, "n3", without)
		}
		with := directory.Rendezvous(key, append(three, "n4"))
		require.Contains(t, []string{home, "n4"}, with, "%s moved between old nodes", key)
	}
	for _, n := range three {
		require.InDelta(t, keys/3, count[n], keys/3*0.15, "share of %s: %v", n, count)
	}
}
