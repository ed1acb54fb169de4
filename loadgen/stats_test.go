package loadgen

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSeriesSummary(t *testing.T) {
	t.Parallel()
	var s Series
	require.Equal(t, Summary{}, s.Summary())
	for i := 100; i >= 1; i-- {
		s.Add(time.Duration(i) * time.Millisecond)
	}
	s.Fail()
	got := s.Summary()
	require.Equal(t, 100, got.Count)
	require.Equal(t, 1, got.Errors)
	require.Equal(t, 50.0, got.P50)
	require.Equal(t, 90.0, got.P90)
	require.Equal(t, 99.0, got.P99)
	require.Equal(t, 100.0, got.Max)
}

func TestRSSOfThisProcess(t *testing.T) {
	t.Parallel()
	rss, err := RSS([]int{1, 1})
	require.NoError(t, err)
	one, err := RSS([]int{1})
	require.NoError(t, err)
	require.Equal(t, 2*one, rss)
	_, err = RSS([]int{-5})
	require.Error(t, err)
}
