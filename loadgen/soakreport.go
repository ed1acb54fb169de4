package loadgen

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Growth verdict of a soak: after the first round (the warm-up), the mean of
// the last fifth of the run is compared with the mean of the fifth right
// after the warm-up. RSS and goroutines are flat within FlatWithin, and
// sessions/s does not decay by more than it.
const (
	FlatWithin = 0.10
	// HomeRSSLimit is the most RSS a home may reach in the soak.
	HomeRSSLimit = 128 << 20
)

// NodeGrowth is one node's trend over a soak.
type NodeGrowth struct {
	Name string
	Home bool
	// Start is the first sample; Early and Late are the means of the two
	// windows compared.
	Start, Early, Late NodeSample
	MaxRSS, MaxLive    float64
}

// RSSGrowth and GoroutineGrowth are Late/Early - 1.
func (g NodeGrowth) RSSGrowth() float64       { return ratioOf(g.Late.RSS, g.Early.RSS) }
func (g NodeGrowth) GoroutineGrowth() float64 { return ratioOf(g.Late.Goroutines, g.Early.Goroutines) }
func (g NodeGrowth) HeapGrowth() float64      { return ratioOf(g.Late.HeapInuse, g.Early.HeapInuse) }

// Flat reports whether RSS and goroutines stayed within FlatWithin.
func (g NodeGrowth) Flat() bool {
	return math.Abs(g.RSSGrowth()) <= FlatWithin && math.Abs(g.GoroutineGrowth()) <= FlatWithin
}

func ratioOf(late, early float64) float64 {
	if early == 0 {
		return 0
	}
	return late/early - 1
}

// windows returns the samples of the early window (the fifth of the run
// after the warm-up) and of the late one (the last fifth). The warm-up is
// the first fifth, at least one interval.
func (r *SoakResult) windows() (early, late []Sample) {
	fifth := r.Duration / 5
	warm := math.Max(fifth, r.Interval)
	for _, s := range r.Samples[1:] {
		if s.Seconds > warm && s.Seconds <= warm+fifth {
			early = append(early, s)
		}
		if s.Seconds >= r.Duration-fifth {
			late = append(late, s)
		}
	}
	if len(early) == 0 && len(r.Samples) > 1 {
		early = r.Samples[1:2]
	}
	if len(late) == 0 {
		late = r.Samples[len(r.Samples)-1:]
	}
	return early, late
}

// Growth returns each node's trend, in the order of r.Nodes.
func (r *SoakResult) Growth() []NodeGrowth {
	early, late := r.windows()
	out := make([]NodeGrowth, 0, len(r.Nodes))
	for _, n := range r.Nodes {
		g := NodeGrowth{Name: n.Name, Start: r.Samples[0].Nodes[n.Name], Early: meanOf(early, n.Name), Late: meanOf(late, n.Name)}
		for _, s := range r.Samples {
			ns := s.Nodes[n.Name]
			g.Home = g.Home || ns.Home
			g.MaxRSS, g.MaxLive = math.Max(g.MaxRSS, ns.RSS), math.Max(g.MaxLive, ns.LiveSessions)
		}
		out = append(out, g)
	}
	return out
}

func meanOf(samples []Sample, node string) NodeSample {
	var m NodeSample
	for _, s := range samples {
		ns := s.Nodes[node]
		m.RSS += ns.RSS
		m.HeapInuse += ns.HeapInuse
		m.Goroutines += ns.Goroutines
		m.LiveSessions += ns.LiveSessions
	}
	if n := float64(len(samples)); n > 0 {
		m.RSS, m.HeapInuse, m.Goroutines, m.LiveSessions = m.RSS/n, m.HeapInuse/n, m.Goroutines/n, m.LiveSessions/n
	}
	return m
}

// Rates returns the mean sessions/s of the early and late windows.
func (r *SoakResult) Rates() (early, late float64) {
	return r.windowMeans(func(s Sample) float64 { return s.SessionsPerSec })
}

// Loads returns the mean machine load (Sample.Load1) of the early and late
// windows.
func (r *SoakResult) Loads() (early, late float64) {
	return r.windowMeans(func(s Sample) float64 { return s.Load1 })
}

// windowMeans returns the mean of v over the early and late windows.
func (r *SoakResult) windowMeans(v func(Sample) float64) (early, late float64) {
	e, l := r.windows()
	mean := func(ss []Sample) float64 {
		var sum float64
		for _, s := range ss {
			sum += v(s)
		}
		return sum / math.Max(1, float64(len(ss)))
	}
	return mean(e), mean(l)
}

// WriteSoakCSV writes one row per sample: time, sessions, sessions/s,
// machine load, then RSS, heap in use and goroutines of each node.
func WriteSoakCSV(w io.Writer, r *SoakResult) error {
	cw := csv.NewWriter(w)
	head := []string{"t_seconds", "completed", "failed", "sessions_per_sec", "load1"}
	for _, n := range r.Nodes {
		head = append(head, n.Name+"_rss_bytes", n.Name+"_heap_inuse_bytes", n.Name+"_goroutines", n.Name+"_live_sessions")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, s := range r.Samples {
		row := []string{f(s.Seconds), strconv.Itoa(s.Completed), strconv.Itoa(s.Failed), f(s.SessionsPerSec), f(s.Load1)}
		for _, n := range r.Nodes {
			ns := s.Nodes[n.Name]
			row = append(row, f(ns.RSS), f(ns.HeapInuse), f(ns.Goroutines), f(ns.LiveSessions))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteSoakMarkdown writes the soak's section body: the verdict, the plot
// (image, a path relative to the document), the per-node table and the
// Postgres footprint per 10,000 sessions.
func WriteSoakMarkdown(w io.Writer, r *SoakResult, image string) {
	growth := r.Growth()
	early, late := r.Rates()
	flat, homesOK := true, true
	for _, g := range growth {
		flat = flat && g.Flat()
		homesOK = homesOK && (!g.Home || g.MaxRSS <= HomeRSSLimit)
	}
	steady := late >= early*(1-FlatWithin)
	fmt.Fprintf(w, "%d whole sessions completed (%d failed) in %.0f s with %d couples in flight: %.1f sessions/s on average.\n\n",
		r.Completed, r.Failed, r.Duration, r.Concurrency, float64(r.Completed)/r.Duration)
	fmt.Fprintf(w, "**Verdict on growth: %s.** After the first round (the first fifth of the run), the mean of the last fifth is compared with the mean of the fifth after it.\n\n",
		map[bool]string{true: "flat", false: "growing"}[flat])
	fmt.Fprintf(w, "- RSS and goroutines within %.0f%% on every node: %s\n", FlatWithin*100, yesNo(flat))
	fmt.Fprintf(w, "- sessions/s does not decay (late %.1f vs early %.1f): %s\n", late, early, yesNo(steady))
	fmt.Fprintf(w, "- every home ≤ %d MiB: %s\n", HomeRSSLimit>>20, yesNo(homesOK))
	if moved := liveMoved(growth); moved != "" {
		fmt.Fprintf(w, "- the live sessions moved by more than %.0f%% between the windows (%s): a home's memory follows them, so its RSS is compared across different loads\n",
			FlatWithin*100, moved)
	}
	if earlyLoad, lateLoad := r.Loads(); earlyLoad+lateLoad > 0 {
		fmt.Fprintf(w, "- machine load (1-minute average of /proc/loadavg, %d cores, every process on the machine): early %.1f, late %.1f\n",
			r.Cores, earlyLoad, lateLoad)
	}
	fmt.Fprintln(w)
	if image != "" {
		fmt.Fprintf(w, "![RSS, heap in use, goroutines and sessions/s over the soak](%s)\n\n", image)
	}
	fmt.Fprintln(w, "| node | RSS start → early → late (MiB) | RSS growth | heap in use early → late (MiB) | goroutines early → late | goroutine growth | live sessions early → late (max) | flat? |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, g := range growth {
		live := "–"
		if g.Home {
			live = fmt.Sprintf("%.0f → %.0f (%.0f)", g.Early.LiveSessions, g.Late.LiveSessions, g.MaxLive)
		}
		fmt.Fprintf(w, "| %s | %.0f → %.0f → %.0f | %+.1f%% | %.0f → %.0f | %.0f → %.0f | %+.1f%% | %s | %s |\n",
			g.Name, mib(g.Start.RSS), mib(g.Early.RSS), mib(g.Late.RSS), g.RSSGrowth()*100,
			mib(g.Early.HeapInuse), mib(g.Late.HeapInuse), g.Early.Goroutines, g.Late.Goroutines, g.GoroutineGrowth()*100,
			live, yesNo(g.Flat()))
	}
	writeTableSizes(w, r)
}

// liveMoved names the homes whose mean live sessions moved by more than
// FlatWithin between the windows, with the change ("home-us-1 +26%").
func liveMoved(growth []NodeGrowth) string {
	var moved []string
	for _, g := range growth {
		if d := ratioOf(g.Late.LiveSessions, g.Early.LiveSessions); g.Home && math.Abs(d) > FlatWithin {
			moved = append(moved, fmt.Sprintf("%s %+.0f%%", g.Name, d*100))
		}
	}
	return strings.Join(moved, ", ")
}

func writeTableSizes(w io.Writer, r *SoakResult) {
	if len(r.Tables) == 0 || r.StoredSessions == 0 {
		return
	}
	per := 10000 / float64(r.StoredSessions)
	fmt.Fprintf(w, "\nPostgres footprint after the soak's %d sessions (pg_total_relation_size, pg_indexes_size), scaled to 10,000 sessions:\n\n", r.StoredSessions)
	fmt.Fprintln(w, "| table | rows | total | indexes | total per 10,000 sessions | indexes per 10,000 sessions |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	var total, index float64
	for _, t := range r.Tables {
		fmt.Fprintf(w, "| %s | %d | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |\n", t.Table, t.Rows,
			mib(float64(t.TotalBytes)), mib(float64(t.IndexBytes)), mib(float64(t.TotalBytes)*per), mib(float64(t.IndexBytes)*per))
		total += float64(t.TotalBytes)
		index += float64(t.IndexBytes)
	}
	fmt.Fprintf(w, "| **all** | | %.1f MiB | %.1f MiB | **%.1f MiB** | **%.1f MiB** |\n", mib(total), mib(index), mib(total*per), mib(index*per))
}

func mib(b float64) float64 { return b / (1 << 20) }

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
