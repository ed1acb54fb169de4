package loadgen

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func writeResult(t *testing.T, dir, name string, r Result) {
	t.Helper()
	data, err := json.Marshal(r)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o644))
}

func TestBenchReportHasTheCostAndPinnedRows(t *testing.T) {
	dir := t.TempDir()
	all := func(p50, p99 float64) map[string]Summary { return map[string]Summary{ActAll: {P50: p50, P99: p99}} }
	writeResult(t, dir, "ours-couples.json", Result{Couples: 100, Completed: 100, Concurrency: 50, Actions: all(1, 5), ServerCPUMS: 6, LoadgenCPUMS: 2,
		BytesPerSession: 300 << 10, FloorBytesPerSession: 200 << 10, CPU: []CPUUse{{Name: "home", MSPerSession: 4}, {Name: "postgres", MSPerSession: 2}}})
	writeResult(t, dir, "peer-couples.json", Result{Couples: 100, Completed: 100, Concurrency: 50, Actions: all(2, 8), ServerCPUMS: 24, LoadgenCPUMS: 3})
	writeResult(t, dir, "ours-pinned-couples.json", Result{Couples: 100, Completed: 100, Concurrency: 100, SessionsPerSec: 40, Actions: all(1, 4), ServerCPUMS: 5, LoadgenCPUMS: 2})
	writeResult(t, dir, "peer-pinned-couples.json", Result{Couples: 100, Completed: 100, Concurrency: 100, SessionsPerSec: 20, Actions: all(2, 9), ServerCPUMS: 20, LoadgenCPUMS: 3})
	paced := func(p50, p99, achieved float64, late int) Result {
		return Result{Idle: 5600, Couples: 200, Concurrency: 200, ThinkSeconds: 2, ThinkJitter: 0.5, OfferedActionsPerSec: 100,
			AchievedActionsPerSec: achieved, LateActions: late, Actions: all(p50, p99)}
	}
	writeResult(t, dir, "ours-pinned-clients-6000.json", paced(3, 25, 99.6, 0))
	writeResult(t, dir, "peer-pinned-clients-6000.json", paced(4, 30, 97.2, 3))
	writeResult(t, dir, "ours-pinned-clients-2000.json", paced(2, 8, 99.9, 0))
	unpaced := paced(2, 9, 99.1, 0)
	unpaced.ThinkSeconds, unpaced.OfferedActionsPerSec = 0, 0
	writeResult(t, dir, "peer-pinned-clients-2000.json", unpaced)
	writeResult(t, dir, "ours-clients-6000.json", Result{Idle: 5600, Couples: 200, Concurrency: 50, AchievedActionsPerSec: 310, Actions: all(80, 215)})
	writeResult(t, dir, "peer-clients-6000.json", Result{Idle: 5600, Couples: 200, Concurrency: 50, AchievedActionsPerSec: 420, Actions: all(51, 140)})
	b, err := LoadBench(dir)
	require.NoError(t, err)
	var out strings.Builder
	b.WriteMarkdown(&out)
	md := out.String()
	require.Contains(t, md, "| server CPU per whole session")
	require.Contains(t, md, "| 6.0 ms | 24.0 ms | 0.25 | ≤ 1/3 of the peer first; then ≤ 1/5 | met (0.25 vs 0.33); **missed** (0.25 vs 0.20) |")
	require.Contains(t, md, "| 300.0 KiB (floor 200.0 KiB, 1.50×) | 0.0 KiB (floor 0.0 KiB) | 0.00 | the floor | **missed** (1.50× the floor) |")
	require.Contains(t, md, "| pinned: sessions per second at saturation (100 sessions, 100 in flight;")
	require.Contains(t, md, "| 40.0 | 20.0 | 2.00 | ≥ 3× the peer | **missed** (2.00× vs 3×) |")
	require.Contains(t, md, "| pinned: 6000 clients (200 couples in sessions, paced: 200 in flight, one action per couple every 2s ±50%, offered 100 actions/s = 0.42× the slower pinned saturation (the peer's: 20.0 sessions/s, 240 actions/s); + 5600 idle): p50 / p99 / errors / achieved | 3.0 / 25.0 ms / 0 / 100 actions/s | 4.0 / 30.0 ms / 0 / 97 actions/s (3 late) | 0.83 (p99) | below the peer's and < 20 ms | **missed** (25.0 ms vs 30.0 ms and 20 ms) |",
		"the paced row states its offered load against saturation, each side's achieved rate and late actions")
	require.Contains(t, md, "| not comparable (offered 100.0 vs 0.0 actions/s) |", "a row whose sides were offered different loads is judged neither way")
	require.Contains(t, md, "| 6000 clients (200 couples in sessions, closed loop: 50 in flight acting back to back, as much as the servers take; + 5600 idle): p50 / p99 / errors / achieved | 80.0 / 215.0 ms / 0 / 310 actions/s | 51.0 / 140.0 ms / 0 / 420 actions/s |",
		"the unpinned row says it is the closed loop")
	require.Contains(t, md, "Server CPU per whole session, courtmesh: 6.0 ms (home 4.0, postgres 2.0 ms); the load generator's own: 2.0 ms.")
	require.Equal(t, 1, strings.Count(md, "| 6000 clients"), "the pinned run is not taken for the unpinned row")
}

// A pinned latency row run while other processes took the servers' core is
// not judged either way, and each side says how much of it they took.
func TestBenchReportDoesNotJudgeAPinnedRowOnABusyCore(t *testing.T) {
	dir := t.TempDir()
	all := func(p50, p99 float64) map[string]Summary { return map[string]Summary{ActAll: {P50: p50, P99: p99}} }
	paced := func(p99, others float64) Result {
		return Result{Idle: 5600, Couples: 200, Concurrency: 200, ThinkSeconds: 2, ThinkJitter: 0.5, OfferedActionsPerSec: 100,
			AchievedActionsPerSec: 99, Actions: all(2, p99), ServerCoreSeconds: 30, ServerCoreBusy: 20, ServerCoreOthers: others}
	}
	writeResult(t, dir, "ours-pinned-clients-6000.json", paced(12, 0.3))
	writeResult(t, dir, "peer-pinned-clients-6000.json", paced(30, 9))
	b, err := LoadBench(dir)
	require.NoError(t, err)
	var out strings.Builder
	b.WriteMarkdown(&out)
	md := out.String()
	require.Contains(t, md, "| 2.0 / 12.0 ms / 0 / 99 actions/s; others on the servers' core 1% | 2.0 / 30.0 ms / 0 / 99 actions/s; others on the servers' core 30% |")
	require.Contains(t, md, "| not judged (other processes took 30% of the servers' core: the box was not quiet) |")

	writeResult(t, dir, "peer-pinned-clients-6000.json", paced(30, 0.6))
	b, err = LoadBench(dir)
	require.NoError(t, err)
	out.Reset()
	b.WriteMarkdown(&out)
	require.Contains(t, out.String(), "| met (12.0 ms vs 30.0 ms and 20 ms) |", "a quiet core is judged")
}

// The idle row is read after the settle, beside the reading right after the
// last register ack, and checked against 3.5 KiB.
func TestBenchReportIdleRow(t *testing.T) {
	dir := t.TempDir()
	writeResult(t, dir, "ours-idle.json", Result{Idle: 10000, IdleSettle: 5, BytesPerIdle: 3.2 * 1024, BytesPerIdleAtLastAck: 4.3 * 1024})
	writeResult(t, dir, "peer-idle.json", Result{Idle: 10000, IdleSettle: 5, BytesPerIdle: 17 * 1024, BytesPerIdleAtLastAck: 17.5 * 1024})
	b, err := LoadBench(dir)
	require.NoError(t, err)
	var out strings.Builder
	b.WriteMarkdown(&out)
	md := out.String()
	require.Contains(t, md, "| memory per idle registered socket, 10000 sockets on one edge / instance, RSS 5 s after the last register ack | 3.20 KiB | 17.00 KiB | 0.19 |")
	require.Contains(t, md, "met (3.20 KiB vs 8); met (3.20 KiB vs 3.5); met (0.19× of the peer vs 0.20) |")
	require.Contains(t, md, "| the same, right after the last register ack | 4.30 KiB | 17.50 KiB | 0.25 | | |")
}

func TestBenchReportJudgesAPacedRowOnlyWellBelowSaturation(t *testing.T) {
	dir := t.TempDir()
	all := map[string]Summary{ActAll: {P50: 2, P99: 10}}
	writeResult(t, dir, "ours-pinned-couples.json", Result{Couples: 100, Completed: 100, Concurrency: 100, SessionsPerSec: 20, Actions: all})
	writeResult(t, dir, "peer-pinned-couples.json", Result{Couples: 100, Completed: 100, Concurrency: 100, SessionsPerSec: 15, Actions: all})
	for _, side := range []string{"ours", "peer"} {
		writeResult(t, dir, side+"-pinned-clients-6000.json", Result{Idle: 5600, Couples: 200, Concurrency: 200, ThinkSeconds: 2, ThinkJitter: 0.5,
			OfferedActionsPerSec: 100, AchievedActionsPerSec: 100, Actions: all})
	}
	b, err := LoadBench(dir)
	require.NoError(t, err)
	var out strings.Builder
	b.WriteMarkdown(&out)
	require.Contains(t, out.String(), "offered 100 actions/s = 0.56× the slower pinned saturation (the peer's: 15.0 sessions/s, 180 actions/s)")
	require.Contains(t, out.String(), "| below the peer's and < 20 ms | not judged (offered 0.56× the slower saturation, above half: raise THINK) |",
		"a p99 measured above half the capacity is queueing again, not a human pace")
}
