package plots_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/loadgen"
	"courtmesh/loadgen/plots"
)

func TestWriteSoak(t *testing.T) {
	t.Parallel()
	r := &loadgen.SoakResult{Duration: 30, Interval: 10, Nodes: []loadgen.Node{{Name: "home-us-1"}, {Name: "edge-us-1"}}}
	for i := range 4 {
		r.Samples = append(r.Samples, loadgen.Sample{Seconds: float64(i * 10), SessionsPerSec: 20, Load1: float64(i), Nodes: map[string]loadgen.NodeSample{
			"home-us-1": {RSS: float64(40+i) * (1 << 20), HeapInuse: 10 << 20, Goroutines: 60},
			"edge-us-1": {RSS: 30 << 20, HeapInuse: 8 << 20, Goroutines: 120},
		}})
	}
	var b bytes.Buffer
	require.NoError(t, plots.WriteSoak(&b, r))
	img, err := png.Decode(&b)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 1000)
	require.Greater(t, img.Bounds().Dy(), 700)

	require.Error(t, plots.WriteSoak(&b, &loadgen.SoakResult{Samples: r.Samples[:1]}), "one sample is no curve")
}
