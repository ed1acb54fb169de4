package plots

import (
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"courtmesh/loadgen"
)

// Size of the soak image.
const (
	soakWidth  = 30 * vg.Centimeter
	soakHeight = 20 * vg.Centimeter
)

// panel is one of the four plots: a value per node, or one value of the run
// (with the machine's load beside it when load is set and it was sampled).
type panel struct {
	title, unit string
	node        func(loadgen.NodeSample) float64 // nil: run-wide
	run         func(loadgen.Sample) float64
	load        bool
}

var panels = []panel{
	{title: "RSS", unit: "MiB", node: func(n loadgen.NodeSample) float64 { return n.RSS / (1 << 20) }},
	{title: "Heap in use", unit: "MiB", node: func(n loadgen.NodeSample) float64 { return n.HeapInuse / (1 << 20) }},
	{title: "Goroutines", unit: "goroutines", node: func(n loadgen.NodeSample) float64 { return n.Goroutines }},
	{title: "Sessions completed per second, and the machine's load", unit: "sessions/s; load", load: true,
		run: func(s loadgen.Sample) float64 { return s.SessionsPerSec }},
}

// WriteSoak draws r as a PNG on w.
func WriteSoak(w io.Writer, r *loadgen.SoakResult) error {
	if len(r.Samples) < 2 {
		return fmt.Errorf("plots: %d samples: need two at least", len(r.Samples))
	}
	plots := make([][]*plot.Plot, 2)
	for i, pn := range panels {
		p, err := draw1(r, pn)
		if err != nil {
			return err
		}
		plots[i/2] = append(plots[i/2], p)
	}
	return writeGrid(w, plots, soakWidth, soakHeight)
}

// draw1 builds one panel.
func draw1(r *loadgen.SoakResult, pn panel) (*plot.Plot, error) {
	p := newPlot(pn.title, "seconds", pn.unit)
	if pn.run != nil {
		xys := make(plotter.XYs, 0, len(r.Samples)-1)
		load := make(plotter.XYs, 0, len(r.Samples)-1)
		sampled := false
		for _, s := range r.Samples[1:] { // the first sample has no rate
			xys = append(xys, plotter.XY{X: s.Seconds, Y: pn.run(s)})
			load = append(load, plotter.XY{X: s.Seconds, Y: s.Load1})
			sampled = sampled || s.Load1 > 0
		}
		if err := addLine(p, "all edges", 0, xys); err != nil || !pn.load || !sampled {
			return p, err
		}
		return p, addLine(p, fmt.Sprintf("machine load, 1-minute average (%d cores)", r.Cores), 1, load)
	}
	for i, n := range r.Nodes {
		xys := make(plotter.XYs, 0, len(r.Samples))
		for _, s := range r.Samples {
			xys = append(xys, plotter.XY{X: s.Seconds, Y: pn.node(s.Nodes[n.Name])})
		}
		if err := addLine(p, n.Name, i, xys); err != nil {
			return nil, err
		}
	}
	return p, nil
}
