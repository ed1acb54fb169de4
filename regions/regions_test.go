package regions

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestDefaultCatalogValid(t *testing.T) {
	t.Parallel()
	c := Default()
	require.Equal(t, "us", c.Primary)
	require.ElementsMatch(t, []string{"us", "asia", "eu"}, c.Names())
	us, ok := c.Lookup("us")
	require.True(t, ok)
	require.True(t, us.Home)
}

func TestRTTMatrix(t *testing.T) {
	t.Parallel()
	c := Default()
	for _, tc := range []struct {
		a, b string
		want time.Duration
	}{
		{"us", "asia", 150 * time.Millisecond},
		{"asia", "us", 150 * time.Millisecond},
		{"us", "eu", 80 * time.Millisecond},
		{"eu", "asia", 200 * time.Millisecond},
		{"us", "us", time.Millisecond},
	} {
		got, ok := c.RTT(tc.a, tc.b)
		require.True(t, ok, "%s-%s", tc.a, tc.b)
		require.Equal(t, tc.want, got, "%s-%s", tc.a, tc.b)
	}
	_, ok := c.RTT("us", "mars")
	require.False(t, ok)
}

func TestNearestHome(t *testing.T) {
	t.Parallel()
	c := Default()
	for _, from := range []string{"us", "asia", "eu"} {
		got, ok := c.NearestHome(from)
		require.True(t, ok)
		require.Equal(t, "us", got, "only us hosts homes")
	}
}

func TestParseRejectsBadCatalogs(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"not json":        `{`,
		"no regions":      `{"primary":"us","regions":[]}`,
		"unknown primary": `{"primary":"x","regions":[{"name":"us","home":true}]}`,
		"primary no home": `{"primary":"us","regions":[{"name":"us","home":false}]}`,
		"duplicate":       `{"primary":"us","regions":[{"name":"us","home":true},{"name":"us"}]}`,
		"missing rtt":     `{"primary":"us","regions":[{"name":"us","home":true},{"name":"eu"}]}`,
		"unknown rtt":     `{"primary":"us","regions":[{"name":"us","home":true}],"rtt_ms":[{"a":"us","b":"x","ms":5}]}`,
		"zero rtt":        `{"primary":"us","regions":[{"name":"us","home":true},{"name":"eu"}],"rtt_ms":[{"a":"us","b":"eu","ms":0}]}`,
		"self rtt":        `{"primary":"us","regions":[{"name":"us","home":true}],"rtt_ms":[{"a":"us","b":"us","ms":3}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(doc))
			require.Error(t, err)
		})
	}
}
