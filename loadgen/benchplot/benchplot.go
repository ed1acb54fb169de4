// Package benchplot draws the results of one `make bench` run
// (loadgen.Bench) as one PNG: the latency distributions of ours and the
// peer, the server CPU per whole session by process group, and the memory
// per idle socket by socket count.
package benchplot

import (
	"errors"
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
	width  = 36 * vg.Centimeter
	height = 12 * vg.Centimeter
)

// WritePNG draws b as a PNG on w. Each panel needs its runs: the couples
// runs with latency samples, with CPU counted, the idle runs with an RSS
// curve.
func WritePNG(w io.Writer, b *loadgen.Bench) error {
	var row []*plot.Plot
	for _, build := range []func(*loadgen.Bench) (*plot.Plot, error){latency, cpu, memory} {
		p, err := build(b)
		if err != nil {
			return err
		}
		row = append(row, p)
	}
	img := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(row), PadX: vg.Centimeter, PadTop: vg.Centimeter / 2,
		PadBottom: vg.Centimeter / 2, PadLeft: vg.Centimeter / 2, PadRight: vg.Centimeter / 2}
	canvases := plot.Align([][]*plot.Plot{row}, tiles, dc)
	for j, p := range row {
		p.Draw(canvases[0][j])
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("benchplot: write png: %w", err)
	}
	return nil
}

// run is one labelled result.
type run struct {
	name string
	res  *loadgen.Result
}

// latency draws the distribution (CDF) of action → partner latency of
// every couples run that kept its samples.
func latency(b *loadgen.Bench) (*plot.Plot, error) {
	p := newPlot("Action → partner latency (CDF)", "ms", "fraction of actions")
	p.Y.Max = 1
	n := 0
	for i, r := range []run{{"courtmesh", b.OursCouples}, {"peer", b.PeerCouples}, {"courtmesh pinned", b.PinnedCouples[0]}, {"peer pinned", b.PinnedCouples[1]}} {
		if r.res == nil || len(r.res.AllMS) == 0 {
			continue
		}
		xs := r.res.AllMS
		xys := make(plotter.XYs, len(xs))
		for k, x := range xs {
			xys[k] = plotter.XY{X: x, Y: float64(k+1) / float64(len(xs))}
		}
		if err := addLine(p, r.name, i, xys); err != nil {
			return nil, err
		}
		n++
	}
	if n == 0 {
		return nil, errors.New("benchplot: no couples run with latency samples")
	}
	return p, nil
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
		return nil, errors.New("benchplot: no couples run with CPU counted")
	}
	bars, err := plotter.NewBarChart(values, vg.Points(14))
	if err != nil {
		return nil, fmt.Errorf("benchplot: cpu bars: %w", err)
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
		return nil, errors.New("benchplot: no idle run with an RSS curve")
	}
	return p, nil
}

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Min, p.Y.Min = 0, 0
	p.Add(plotter.NewGrid())
	p.Legend.Top, p.Legend.Left = false, false
	return p
}

func addLine(p *plot.Plot, name string, i int, xys plotter.XYs) error {
	l, err := plotter.NewLine(xys)
	if err != nil {
		return fmt.Errorf("benchplot: %s: %w", name, err)
	}
	l.Color = plotutil.Color(i)
	l.Width = vg.Points(1.5)
	p.Add(l)
	p.Legend.Add(name, l)
	return nil
}
