package redistest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/directory/redistest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, redistest.IgnoreDialRetry())
}

func TestPrefixUnique(t *testing.T) {
	t.Parallel()
	a, b := redistest.Prefix(t), redistest.Prefix(t)
	require.NotEqual(t, a, b)
	require.True(t, strings.HasPrefix(a, "test:"))
	require.True(t, strings.HasSuffix(a, ":"))
}

func TestPrefixCleanup(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	ctx := context.Background()
	var prefix string
	t.Run("writer", func(t *testing.T) { // not parallel: Run returns after its cleanup
		prefix = redistest.Prefix(t)
		for _, k := range []string{"a", "b", "c"} {
			require.NoError(t, c.Do(ctx, c.B().Set().Key(prefix+k).Value("v").Build()).Error())
		}
	})
	n, err := c.Do(ctx, c.B().Exists().Key(prefix+"a", prefix+"b", prefix+"c").Build()).AsInt64()
	require.NoError(t, err)
	require.Zero(t, n)
}
