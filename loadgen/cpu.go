package loadgen

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100
// on every Linux this runs on (sysconf(_SC_CLK_TCK) needs cgo).
const clockTicks = 100

// CPUGroup is a set of server processes whose CPU a run counts over its
// sessions. PIDs are fixed; Find, when set, is asked at the start and at the
// end of the sessions (processes that appear meanwhile, such as Postgres
// backends a pool opens under load, are counted from zero).
type CPUGroup struct {
	Name string
	PIDs []int
	Find func(context.Context) ([]int, error)
}

// CPUUse is the CPU a group used over a run's sessions.
type CPUUse struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"cpu_seconds"`
	// MSPerSession is Seconds over the completed sessions, in milliseconds.
	MSPerSession float64 `json:"ms_per_session"`
}

// cpuSnapshot is the CPU ticks of each process of each group.
type cpuSnapshot []map[int]int64

func snapshotCPU(ctx context.Context, groups []CPUGroup) (cpuSnapshot, error) {
	snap := make(cpuSnapshot, len(groups))
	for i, g := range groups {
		pids := g.PIDs
		if g.Find != nil {
			found, err := g.Find(ctx)
			if err != nil {
				return nil, fmt.Errorf("cpu group %s: %w", g.Name, err)
			}
			pids = append(pids[:len(pids):len(pids)], found...)
		}
		snap[i] = map[int]int64{}
		for _, pid := range pids {
			t, err := CPUTicks(pid)
			if err != nil {
				if g.Find != nil {
					continue // a backend that left between the query and the read
				}
				return nil, err
			}
			snap[i][pid] = t
		}
	}
	return snap, nil
}

// cpuUse is the CPU each group used from before to after, per completed
// session.
func cpuUse(groups []CPUGroup, before, after cpuSnapshot, sessions int) []CPUUse {
	out := make([]CPUUse, len(groups))
	for i, g := range groups {
		var ticks int64
		for pid, t := range after[i] {
			ticks += t - before[i][pid] // absent before: counted from zero
		}
		out[i] = CPUUse{Name: g.Name, Seconds: float64(ticks) / clockTicks}
		if sessions > 0 {
			out[i].MSPerSession = out[i].Seconds * 1000 / float64(sessions)
		}
	}
	return out
}

// CPUTicks is the user+system CPU of process pid so far, in clock ticks,
// from /proc/<pid>/stat (its threads included).
func CPUTicks(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read cpu of %d: %w", pid, err)
	}
	return parseStatTicks(string(data))
}

// parseStatTicks reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line. The command name (field 2) is in parentheses and
// may hold spaces and parentheses itself, so fields are counted after the
// last ')'.
func parseStatTicks(stat string) (int64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("proc stat %.40q: no command name", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("proc stat %.40q: %d fields after the name, want 13", stat, len(f))
	}
	utime, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat utime: %w", err)
	}
	stime, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("proc stat stime: %w", err)
	}
	return utime + stime, nil
}

// CoreTicks is the busy and total time of one CPU core so far, in clock
// ticks, from its line in /proc/stat.
type CoreTicks struct{ Busy, Total int64 }

// ReadCoreTicks reads core's line of /proc/stat.
func ReadCoreTicks(core int) (CoreTicks, error) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return CoreTicks{}, fmt.Errorf("read cpu of core %d: %w", core, err)
	}
	return parseCoreTicks(string(data), core)
}

// parseCoreTicks finds the "cpuN" line of a /proc/stat text: user, nice,
// system, idle, iowait, irq, softirq, steal, ... Busy is all but idle and
// iowait (guest time is inside user already).
func parseCoreTicks(stat string, core int) (CoreTicks, error) {
	prefix := fmt.Sprintf("cpu%d ", core)
	for line := range strings.Lines(stat) {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)[1:]
		if len(f) < 8 {
			return CoreTicks{}, fmt.Errorf("proc stat %s: %d fields, want 8", prefix, len(f))
		}
		var t CoreTicks
		for i, v := range f[:8] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return CoreTicks{}, fmt.Errorf("proc stat %s: %w", prefix, err)
			}
			t.Total += n
			if i != 3 && i != 4 { // idle, iowait
				t.Busy += n
			}
		}
		return t, nil
	}
	return CoreTicks{}, fmt.Errorf("proc stat: no core %d", core)
}
