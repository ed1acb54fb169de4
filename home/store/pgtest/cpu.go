package pgtest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// BackendCPU returns the CPU time so far, in nanoseconds, of the Postgres
// backend of each of the pool's idle connections (all of them, between
// writes). It skips tb when Postgres does not run on this machine.
func BackendCPU(tb testing.TB, pool *pgxpool.Pool) map[uint32]int64 {
	tb.Helper()
	out := map[uint32]int64{}
	for _, c := range pool.AcquireAllIdle(context.Background()) {
		pid := c.Conn().PgConn().PID()
		c.Release()
		out[pid] = ProcCPU(tb, pid)
	}
	return out
}

// CPUSince returns the CPU time, in nanoseconds, the pool's backends used
// since before (BackendCPU); one that was not there before counts from zero.
func CPUSince(tb testing.TB, pool *pgxpool.Pool, before map[uint32]int64) int64 {
	tb.Helper()
	var ns int64
	for pid, t := range BackendCPU(tb, pool) {
		ns += t - before[pid]
	}
	return ns
}

// ProcCPU returns the CPU time so far, in nanoseconds, of process pid, a
// Postgres backend on this machine (/proc/<pid>/schedstat: nanoseconds,
// not the 10 ms ticks of /proc/<pid>/stat). It skips tb when there is no
// such process here.
func ProcCPU(tb testing.TB, pid uint32) int64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid))
	if err != nil {
		tb.Skipf("the backends' CPU needs Postgres on this machine: %v", err)
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		tb.Fatalf("pgtest: /proc/%d/schedstat is empty", pid)
	}
	ns, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil {
		tb.Fatalf("pgtest: /proc/%d/schedstat: %v", pid, err)
	}
	return ns
}
