package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Bench is what one `make bench` run left in its output folder.
type Bench struct {
	OursIdle, PeerIdle       *Result
	OursCouples, PeerCouples *Result
	// Clients are the latency-under-load runs by client count: ours, peer.
	Clients map[int][2]*Result
	// PinnedCouples (ours, peer) ran at saturation with the load generator
	// on one core and the servers on the other; PinnedClients are the
	// latency-under-load runs pinned that way.
	PinnedCouples [2]*Result
	PinnedClients map[int][2]*Result
	// FailoverMS is the time from kill -9 of a home node to every session
	// owned again with its timers armed; FailoverHeld how many it held.
	FailoverMS, FailoverHeld int
	// FailoverCheck is the store's count after the failover.
	FailoverCheck string
	// PeerFailover describes the peer's timers after a kill.
	PeerFailover string
}

func readResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &r, nil
}

// LoadBench reads the results in dir.
func LoadBench(dir string) (*Bench, error) {
	b := &Bench{Clients: map[int][2]*Result{}, PinnedClients: map[int][2]*Result{}}
	for prefix, dst := range map[string]map[int][2]*Result{"clients": b.Clients, "pinned-clients": b.PinnedClients} {
		matches, _ := filepath.Glob(filepath.Join(dir, "ours-"+prefix+"-*.json"))
		for _, m := range matches {
			n := firstInt(filepath.Base(m), `-(\d+)\.json`)
			ours, err := readResult(m)
			if err != nil {
				return nil, err
			}
			peer, _ := readResult(filepath.Join(dir, fmt.Sprintf("peer-%s-%d.json", prefix, n)))
			dst[n] = [2]*Result{ours, peer}
		}
	}
	for name, dst := range map[string]**Result{
		"ours-idle.json": &b.OursIdle, "peer-idle.json": &b.PeerIdle,
		"ours-couples.json": &b.OursCouples, "peer-couples.json": &b.PeerCouples,
		"ours-pinned-couples.json": &b.PinnedCouples[0], "peer-pinned-couples.json": &b.PinnedCouples[1],
	} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue // a run that did not get there
		}
		var r Result
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		*dst = &r
	}
	if data, err := os.ReadFile(filepath.Join(dir, "failover.txt")); err == nil {
		s := string(data)
		b.FailoverMS = firstInt(s, `after (\d+) ms`)
		b.FailoverHeld = firstInt(s, `held=(\d+)`)
		b.FailoverCheck = strings.TrimSpace(lastLines(s, 2))
	}
	if data, err := os.ReadFile(filepath.Join(dir, "peer-failover.txt")); err == nil {
		b.PeerFailover = strings.TrimSpace(lastLines(string(data), 1))
	}
	return b, nil
}

func firstInt(s, pattern string) int {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// WriteMarkdown writes the side-by-side tables of b.
func (b *Bench) WriteMarkdown(w io.Writer) {
	fmt.Fprintln(w, "| measure | courtmesh | peer | ratio (ours / peer) | target | met? |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	if b.OursIdle != nil && b.PeerIdle != nil {
		o, p := b.OursIdle.BytesPerIdle/1024, b.PeerIdle.BytesPerIdle/1024
		when := "right after the last register ack"
		if b.OursIdle.IdleSettle > 0 {
			when = fmt.Sprintf("RSS %.0f s after the last register ack", b.OursIdle.IdleSettle)
		}
		fmt.Fprintf(w, "| memory per idle registered socket, %d sockets on one edge / instance, %s | %.2f KiB | %.2f KiB | %.2f | < 8 KiB first; ≤ 3.5 KiB; then ≤ 1/5 of the peer | %s; %s; %s |\n",
			b.OursIdle.Idle, when, o, p, o/p, verdict(o < 8, fmt.Sprintf("%.2f KiB vs 8", o)), verdict(o <= 3.5, fmt.Sprintf("%.2f KiB vs 3.5", o)),
			verdict(o <= p/5, fmt.Sprintf("%.2f× of the peer vs 0.20", o/p)))
		if b.OursIdle.IdleSettle > 0 {
			oa, pa := b.OursIdle.BytesPerIdleAtLastAck/1024, b.PeerIdle.BytesPerIdleAtLastAck/1024
			fmt.Fprintf(w, "| the same, right after the last register ack | %.2f KiB | %.2f KiB | %.2f | | |\n", oa, pa, ratio(oa, pa))
		}
	}
	if b.OursCouples != nil && b.PeerCouples != nil {
		o, p := b.OursCouples.Actions[ActAll], b.PeerCouples.Actions[ActAll]
		for _, q := range []struct {
			name   string
			ov, pv float64
		}{{"p50", o.P50, p.P50}, {"p90", o.P90, p.P90}, {"p99", o.P99, p.P99}, {"max", o.Max, p.Max}} {
			target, met := "", ""
			if q.name == "p99" {
				target = "below the peer's; < 5 ms at 6k clients"
				met = verdict(q.ov < q.pv && q.ov < 5, fmt.Sprintf("%.1f ms vs %.1f ms and 5 ms", q.ov, q.pv))
			}
			fmt.Fprintf(w, "| action → partner court:state %s, %d sessions, partners on different edges | %.1f ms | %.1f ms | %.2f | %s | %s |\n",
				q.name, b.OursCouples.Couples, q.ov, q.pv, ratio(q.ov, q.pv), target, met)
		}
		fmt.Fprintf(w, "| errors | %d | %d | | 0 | |\n", o.Errors, p.Errors)
		ot, pt := b.OursCouples.TransitionsPerSec, b.PeerCouples.TransitionsPerSec
		fmt.Fprintf(w, "| transitions per second (%d per whole session), ours on one home node with Redis and Postgres, the peer's two instances on one Redis | %.0f | %.0f | %.2f | ≥ 5× the peer | %s |\n",
			TransitionsPerSession, ot, pt, ratio(ot, pt), verdict(ot >= 5*pt, fmt.Sprintf("%.2f× vs 5×", ratio(ot, pt))))
		fmt.Fprintf(w, "| sessions per second | %.1f | %.1f | %.2f | | |\n", b.OursCouples.SessionsPerSec, b.PeerCouples.SessionsPerSec, ratio(b.OursCouples.SessionsPerSec, b.PeerCouples.SessionsPerSec))
	}
	for _, n := range sortedKeys(b.Clients) {
		o, p := b.Clients[n][0], b.Clients[n][1]
		if o == nil || p == nil {
			continue
		}
		oa, pa := o.Actions[ActAll], p.Actions[ActAll]
		target, met := "below the peer's", verdict(oa.P99 < pa.P99, fmt.Sprintf("%.1f ms vs %.1f ms", oa.P99, pa.P99))
		if n >= 6000 {
			target = "below the peer's and < 5 ms"
			met = verdict(oa.P99 < pa.P99 && oa.P99 < 5, fmt.Sprintf("%.1f ms vs %.1f ms and 5 ms", oa.P99, pa.P99))
		}
		fmt.Fprintf(w, "| %d clients (%d couples in sessions, %s; + %d idle): p50 / p99 / errors / achieved | %s | %s | %.2f (p99) | %s | %s |\n",
			n, o.Couples, clientsLoad(o), o.Idle, clientsCell(o), clientsCell(p), ratio(oa.P99, pa.P99), target, met)
	}
	b.writeCost(w)
	if b.FailoverMS > 0 {
		fmt.Fprintf(w, "| failover: kill -9 of a home node holding %d sessions → all owned again, timers armed | %d ms | timers lost until an instance restarts (below) | | ≤ 3 s | %s |\n",
			b.FailoverHeld, b.FailoverMS, verdict(b.FailoverMS <= 3000, fmt.Sprintf("%d ms vs 3000", b.FailoverMS)))
	}
	fmt.Fprintln(w)
	if b.FailoverCheck != "" {
		fmt.Fprintf(w, "After the failover the store holds: `%s`.\n\n", strings.ReplaceAll(b.FailoverCheck, "\n", "`, `"))
	}
	if b.PeerFailover != "" {
		fmt.Fprintf(w, "Peer after kill -9 of the instance holding the sessions: %s.\n\n", b.PeerFailover)
	}
	b.writeCPUBreakdown(w)
	for _, r := range []struct {
		name string
		res  *Result
	}{{"courtmesh", b.OursCouples}, {"peer", b.PeerCouples}} {
		if r.res == nil {
			continue
		}
		fmt.Fprintf(w, "Per action, %s:\n\n```\n", r.name)
		WriteReport(w, r.res)
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w)
	}
}

func sortedKeys(m map[int][2]*Result) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func verdict(met bool, distance string) string {
	if met {
		return "met (" + distance + ")"
	}
	return "**missed** (" + distance + ")"
}
