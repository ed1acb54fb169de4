package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/store"
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

func TestParseRetention(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "36h": 36 * time.Hour, "0": 0, "0d": 0} {
		got, err := parseRetention(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "30", "-1d", "d", "1.5d", "59m", "-2h", "thirty days"} {
		_, err := parseRetention(bad)
		require.Error(t, err, "%q", bad)
	}
	f := retentionFlag{d: store.DefaultRetention}
	require.Equal(t, "30d", f.String())
}
