package loadgen

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"
)

// WAN is what scripts/bench-asia.sh left: whole sessions on `courtd dev
// --wan`, the catalog's RTT on every path between us and asia.
type WAN struct {
	// AsiaBefore: asia couples, the asia edge reading the Redis primary
	// across the ocean; AsiaAfter: reading a replica in asia. US: us
	// couples on the same mesh.
	AsiaBefore, AsiaAfter, US *Result
}

// Targets of the asia rows (issue 13).
const (
	// WANRegisterTarget bounds connect + register of a user in no session.
	WANRegisterTarget = 20 * time.Millisecond
	// wanActionSlack is what an action may add to one mesh RTT.
	wanActionSlack = 10 * time.Millisecond
)

// LoadWAN reads the ours-wan-*.json results in dir; nil when there are
// none.
func LoadWAN(dir string) (*WAN, error) {
	w := &WAN{}
	found := false
	for name, dst := range map[string]**Result{
		"ours-wan-asia-before.json": &w.AsiaBefore, "ours-wan-asia-after.json": &w.AsiaAfter, "ours-wan-us.json": &w.US,
	} {
		r, err := readResult(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		*dst, found = r, true
	}
	if !found {
		return nil, nil
	}
	return w, nil
}

// WriteMarkdown writes one row per action, plus connect + register: p50 and
// p99 of the us couples, then of the asia couples before and after, and
// the targets checked against the asia couples after, for a mesh RTT of
// rtt.
func (w *WAN) WriteMarkdown(out io.Writer, rtt time.Duration) {
	fmt.Fprintln(out, "| action | us couple p50 / p99 | asia couple, before: p50 / p99 | asia couple, after: p50 / p99 | target (asia, after) | met? |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|")
	cell := func(r *Result, action string) string {
		if r == nil {
			return "–"
		}
		s := r.Actions[action]
		if action == "connect+register" {
			s = r.ConnectRegister
		}
		errs := ""
		if s.Errors > 0 {
			errs = fmt.Sprintf(" (%d errors)", s.Errors)
		}
		return fmt.Sprintf("%.1f / %.1f ms%s", s.P50, s.P99, errs)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, a := range append([]string{"connect+register"}, actionOrder...) {
		target, met := "", ""
		if w.AsiaAfter != nil {
			s := w.AsiaAfter.Actions[a]
			bound := ms(rtt + wanActionSlack)
			target = fmt.Sprintf("≤ one mesh RTT + 10 ms (%.0f ms)", bound)
			if a == "connect+register" {
				s, bound = w.AsiaAfter.ConnectRegister, ms(WANRegisterTarget)
				target = fmt.Sprintf("p50 < %.0f ms, user in no session", bound)
				met = verdict(s.P50 < bound && s.Errors == 0, fmt.Sprintf("p50 %.1f ms", s.P50))
			} else {
				met = fmt.Sprintf("p50 %s; p99 %s",
					verdict(s.P50 <= bound && s.Errors == 0, fmt.Sprintf("%.1f ms", s.P50)),
					verdict(s.P99 <= bound, fmt.Sprintf("%.1f ms", s.P99)))
			}
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s | %s |\n", a, cell(w.US, a), cell(w.AsiaBefore, a), cell(w.AsiaAfter, a), target, met)
	}
}
