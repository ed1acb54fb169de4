// Package soakplot draws a soak's samples (loadgen.SoakResult) as one PNG:
// RSS, heap in use and goroutines of every node, and sessions/s, over time.
package soakplot

import (
	"fmt"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"courtmesh/loadgen"
)

// Size of the image.
const (
	width  = 30 * vg.Centimeter
	height = 20 * vg.Centimeter
)

// panel is one of the four plots: a value per node, or one value of the run.
type panel struct {
	title, unit string
	node        func(loadgen.NodeSample) float64 // nil: run-wide
	run         func(loadgen.Sample) float64
}

var panels = []panel{
	{title: "RSS", unit: "MiB", node: func(n loadgen.NodeSample) float64 { return n.RSS / (1 << 20) }},
	{title: "Heap in use", unit: "MiB", node: func(n loadgen.NodeSample) float64 { return n.HeapInuse / (1 << 20) }},
	{title: "Goroutines", unit: "goroutines", node: func(n loadgen.NodeSample) float64 { return n.Goroutines }},
	{title: "Sessions completed per second", unit: "sessions/s", run: func(s loadgen.Sample) float64 { return s.SessionsPerSec }},
}

// WritePNG draws r as a PNG on w.
func WritePNG(w io.Writer, r *loadgen.SoakResult) error {
	if len(r.Samples) < 2 {
		return fmt.Errorf("soakplot: %d samples: need two at least", len(r.Samples))
	}
	plots := make([][]*plot.Plot, 2)
	for i, pn := range panels {
		p, err := draw1(r, pn)
		if err != nil {
			return err
		}
		plots[i/2] = append(plots[i/2], p)
	}
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Centimeter / 2, PadBottom: vg.Centimeter / 2, PadLeft: vg.Centimeter / 2, PadRight: vg.Centimeter / 2}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		for j := range plots[i] {
			plots[i][j].Draw(canvases[i][j])
		}
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("soakplot: write png: %w", err)
	}
	return nil
}

// draw1 builds one panel.
func draw1(r *loadgen.SoakResult, pn panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = pn.unit
	p.X.Min, p.Y.Min = 0, 0
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = false, false
	if pn.run != nil {
		xys := make(plotter.XYs, 0, len(r.Samples)-1)
		for _, s := range r.Samples[1:] { // the first sample has no rate
			xys = append(xys, plotter.XY{X: s.Seconds, Y: pn.run(s)})
		}
		return p, addLine(p, "all edges", 0, xys)
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

func addLine(p *plot.Plot, name string, i int, xys plotter.XYs) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("soakplot: %s: %w", name, err)
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}
