package directory_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// markerContract: the first mark finds nothing, the next ones find the
// marker, and after the directory lost its data the marker is gone.
func markerContract(t *testing.T, m directory.PresenceMarker, lose func()) {
	t.Helper()
	ctx := context.Background()
	kept, err := m.MarkPresence(ctx, "edge-1", time.Minute)
	require.NoError(t, err)
	require.False(t, kept, "first mark")
	kept, err = m.MarkPresence(ctx, "edge-1", time.Minute)
	require.NoError(t, err)
	require.True(t, kept)
	kept, err = m.MarkPresence(ctx, "edge-2", time.Minute)
	require.NoError(t, err)
	require.False(t, kept, "markers are per edge")

	lose()
	kept, err = m.MarkPresence(ctx, "edge-1", time.Minute)
	require.NoError(t, err)
	require.False(t, kept, "lost")
	kept, err = m.MarkPresence(ctx, "edge-1", time.Minute)
	require.NoError(t, err)
	require.True(t, kept, "set again")

	_, err = m.MarkPresence(ctx, "", time.Minute)
	require.Error(t, err)
}

func TestRedisPresenceMarker(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t)
	markerContract(t, newRedis(t, c, prefix), func() {
		keys, err := c.Do(context.Background(), c.B().Keys().Pattern(prefix+"*").Build()).AsStrSlice()
		require.NoError(t, err)
		for _, k := range keys {
			require.NoError(t, c.Do(context.Background(), c.B().Del().Key(k).Build()).Error())
		}
	})
}

func TestMemoryPresenceMarker(t *testing.T) {
	t.Parallel()
	m := directory.NewMemory()
	markerContract(t, m, m.Flush)
}
