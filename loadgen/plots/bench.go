package plots

import (
	"errors"
	"fmt"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"courtmesh/loadgen"
)

// Size of the bench image.
const (
	benchWidth  = 36 * vg.Centimeter
	benchHeight = 12 * vg.Centimeter
)

// WriteBench draws b as a PNG on w. Each panel needs its runs: the couples
// runs with latency samples, with CPU counted, the idle runs with an RSS
// curve.
func WriteBench(w io.Writer, b *loadgen.Bench) error {
	var row []*plot.Plot
	for _, build := range []func(*loadgen.Bench) (*plot.Plot, error){latency, cpu, memory} {
		p, err := build(b)
		if err != nil {
			return err
		}
		row = append(row, p)
	}
	return writeGrid(w, [][]*plot.Plot{row}, benchWidth, benchHeight)
}

// run is one labelled result.
type run struct {
	name string
	res  *loadgen.Result
}

// latency draws the distribution (CDF) of action → partner latency of
// every couples run that kept its samples, and of the paced pinned run of
// the most clients (the latency at a human pace), on a log scale: the
// closed loop's hundreds of ms and the paced run's few ms on one axis.
func latency(b *loadgen.Bench) (*plot.Plot, error) {
	p := newPlot("Action → partner latency (CDF)", "ms (log scale)", "fraction of actions")
	p.Y.Max = 1
	p.X.Scale, p.X.Tick.Marker = plot.LogScale{}, plot.LogTicks{Prec: -1}
	p.X.Min = math.Inf(1)
	runs := []run{{"courtmesh", b.OursCouples}, {"peer", b.PeerCouples}, {"courtmesh pinned", b.PinnedCouples[0]}, {"peer pinned", b.PinnedCouples[1]}}
	if n := pacedClients(b); n > 0 {
		runs = append(runs, run{fmt.Sprintf("courtmesh paced, %d clients", n), b.PinnedClients[n][0]}, run{fmt.Sprintf("peer paced, %d clients", n), b.PinnedClients[n][1]})
	}
	n := 0
	for i, r := range runs {
		if r.res == nil || len(r.res.AllMS) == 0 {
			continue
		}
		xs := r.res.AllMS
		xys := make(plotter.XYs, len(xs))
		for k, x := range xs {
			xys[k] = plotter.XY{X: max(x, minLatencyMS), Y: float64(k+1) / float64(len(xs))}
		}
		p.X.Min = min(p.X.Min, xys[0].X)
		if err := addLine(p, r.name, i, xys); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("plots: no couples run with latency samples")
	}
	return p, nil
}

// minLatencyMS is the least latency drawn, as a log scale has no zero.
const minLatencyMS = 0.01

// pacedClients is the most clients of a pinned latency run that was paced
// on both sides, or zero.
func pacedClients(b *loadgen.Bench) int {
	most := 0
	for n, r := range b.PinnedClients {
		if r[0] != nil && r[1] != nil && r[0].OfferedActionsPerSec > 0 && r[1].OfferedActionsPerSec > 0 {
			most = max(most, n)
		}
	}
	return most
}

// cpu draws the server CPU per whole session of each side, one bar per
// process group, and the load generator's own.
func cpu(b *loadgen.Bench) (*plot.Plot, error) {
	p := newPlot("CPU per whole session", "", "ms")
	var (
		values plotter.Values
		names  []string
	)
	for _, r := range []run{{"ours", b.OursCouples}, {"peer", b.PeerCouples}} {
		if r.res == nil || len(r.res.CPU) == 0 {
			continue
		}
		for _, u := range r.res.CPU {
			values, names = append(values, u.MSPerSession), append(names, r.name+"\n"+u.Name)
		}
		values, names = append(values, r.res.ServerCPUMS), append(names, r.name+"\nall servers")
		values, names = append(values, r.res.LoadgenCPUMS), append(names, r.name+"\nload gen.")
	}
	if len(values) == 0 {
		return nil, errors.New("plots: no couples run with CPU counted")
	}
	bars, err := plotter.NewBarChart(values, vg.Points(14))
	if err != nil {
		return nil, fmt.Errorf("plots: cpu bars: %w", err)
	}
	bars.Color = plotutil.Color(0)
	p.Add(bars)
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.8
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	return p, nil
}

// memory draws the RSS growth per idle socket as the idle sockets opened.
func memory(b *loadgen.Bench) (*plot.Plot, error) {
	p := newPlot("Memory per idle socket", "idle sockets", "KiB per socket")
	n := 0
	for i, r := range []run{{"courtmesh edge", b.OursIdle}, {"peer instance", b.PeerIdle}} {
		if r.res == nil || len(r.res.RSSCurve) == 0 {
			continue
		}
		xys := make(plotter.XYs, 0, len(r.res.RSSCurve))
		for _, pt := range r.res.RSSCurve {
			xys = append(xys, plotter.XY{X: float64(pt.Sockets), Y: float64(pt.Bytes-r.res.RSSBaseline) / float64(pt.Sockets) / 1024})
		}
		if err := addLine(p, r.name, i, xys); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("plots: no idle run with an RSS curve")
	}
	return p, nil
}
