package cli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
)

func TestParsePeer(t *testing.T) {
	t.Parallel()
	p, err := parsePeer("us:home-us-1@127.0.0.1:7000")
	require.NoError(t, err)
	require.Equal(t, mesh.Peer{NodeID: "home-us-1", Region: "us", Addr: "127.0.0.1:7000"}, p)
	for _, bad := range []string{"", "us", "us:home", ":home@1.2.3.4:5", "us:@1.2.3.4:5", "us:home@"} {
		_, err := parsePeer(bad)
		var ue usageError
		require.ErrorAs(t, err, &ue, "%q", bad)
	}
}

func TestTimerScale(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want float64
		ok   bool
	}{{"", 1, true}, {"0.001", 0.001, true}, {"0", 0, false}, {"-1", 0, false}, {"x", 0, false}} {
		t.Setenv(envTimerScale, tc.env)
		got, err := timerScale()
		if !tc.ok {
			require.Error(t, err, "%q", tc.env)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, got)
	}
}
