package directory_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

func TestRevocations(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	for name, r := range map[string]directory.Revocations{
		"redis":  newRedis(t, c, redistest.Prefix(t)),
		"memory": directory.NewMemory(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			ids, err := r.RevokedNodes(ctx)
			require.NoError(t, err)
			require.Empty(t, ids)
			require.NoError(t, r.RevokeNode(ctx, "edge-us-2"))
			require.NoError(t, r.RevokeNode(ctx, "edge-us-1"))
			require.NoError(t, r.RevokeNode(ctx, "edge-us-1"))
			ids, err = r.RevokedNodes(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{"edge-us-1", "edge-us-2"}, ids)
			require.NoError(t, r.UnrevokeNode(ctx, "edge-us-2"))
			ids, err = r.RevokedNodes(ctx)
			require.NoError(t, err)
			require.Equal(t, []string{"edge-us-1"}, ids)
		})
	}
}
