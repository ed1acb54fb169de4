package plots_test

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/loadgen"
	"courtmesh/loadgen/plots"
)

func TestWriteBench(t *testing.T) {
	t.Parallel()
	couples := func(ms ...float64) *loadgen.Result {
		return &loadgen.Result{Couples: 10, Completed: 10, AllMS: ms, ServerCPUMS: 9, LoadgenCPUMS: 2,
			CPU: []loadgen.CPUUse{{Name: "servers", MSPerSession: 7}, {Name: "redis", MSPerSession: 2}}}
	}
	idle := func(kib int64) *loadgen.Result {
		r := &loadgen.Result{Idle: 1000, RSSBaseline: 30 << 20}
		for n := 100; n <= 1000; n += 100 {
			r.RSSCurve = append(r.RSSCurve, loadgen.RSSPoint{Sockets: n, Bytes: r.RSSBaseline + int64(n)*kib*1024})
		}
		return r
	}
	b := &loadgen.Bench{OursCouples: couples(1, 2, 3, 9), PeerCouples: couples(2, 4, 8, 30), OursIdle: idle(4), PeerIdle: idle(17)}
	b.PinnedCouples[0] = couples(1, 1.5, 2)
	paced := func(ms ...float64) *loadgen.Result {
		r := couples(ms...)
		r.OfferedActionsPerSec = 100
		return r
	}
	b.PinnedClients = map[int][2]*loadgen.Result{2000: {paced(0, 1, 2), paced(1, 3)}, 6000: {paced(0.5, 2), paced(1, 4)}}
	var out bytes.Buffer
	require.NoError(t, plots.WriteBench(&out, b))
	img, err := png.Decode(&out)
	require.NoError(t, err)
	require.Greater(t, img.Bounds().Dx(), 1200)

	for name, broken := range map[string]*loadgen.Bench{
		"no latency samples": {OursIdle: b.OursIdle},
		"no cpu":             {OursCouples: &loadgen.Result{AllMS: []float64{1}}, OursIdle: b.OursIdle},
		"no rss curve":       {OursCouples: b.OursCouples},
	} {
		require.Error(t, plots.WriteBench(&out, broken), name)
	}
}
