package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/store/pgtest"
)

// BenchmarkFencedCommitFloor is the cost of one fenced Postgres commit on
// this machine measured alone, the floor of docs/performance.md: one
// single-statement transaction that bumps a tiny row's version only if its
// owner epoch and version are the expected ones (the fence of every
// transition), with the commit's WAL flush, on one connection. Compare with
// BenchmarkCommit, a real transition of a VERDICT-sized session.
func BenchmarkFencedCommitFloor(b *testing.B) { fencedCommitFloor(b, 0) }

// BenchmarkFencedCommitFloorPaced is the same commit back to back and one
// every 30 ms, about the pace of the asia rows' commits (five couples in
// flight, each waiting a mesh round trip between its actions), with the
// median and 99th percentile of each commit's wall time. On a machine whose
// cores sleep between commits, each paced commit pays for waking the
// backend, the client and the WAL flush's I/O; the asia rows carry that on
// every step of their local work (docs/benchmarks.md, the asia section).
func BenchmarkFencedCommitFloorPaced(b *testing.B) {
	for _, gap := range []time.Duration{0, 30 * time.Millisecond} {
		b.Run("gap="+gap.String(), func(b *testing.B) { fencedCommitFloor(b, gap) })
	}
}

// fencedCommitFloor runs the floor's commits, gap apart (outside the timer).
func fencedCommitFloor(b *testing.B, gap time.Duration) {
	_, pool := newStore(b)
	ctx := b.Context()
	_, err := pool.Exec(ctx, `CREATE TABLE floor_fence (id int PRIMARY KEY, owner_epoch bigint NOT NULL, version bigint NOT NULL)`)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, `INSERT INTO floor_fence VALUES (1, 1, 0)`)
	require.NoError(b, err)
	conn, err := pool.Acquire(ctx)
	require.NoError(b, err)
	defer conn.Release()
	version := int64(0)
	pid := conn.Conn().PgConn().PID()
	cpu0 := pgtest.ProcCPU(b, pid)
	var walls []time.Duration
	for b.Loop() {
		if gap > 0 {
			b.StopTimer()
			time.Sleep(gap)
			b.StartTimer()
		}
		start := time.Now()
		tag, err := conn.Exec(ctx, `UPDATE floor_fence SET version = version + 1 WHERE id = 1 AND owner_epoch = $1 AND version = $2`, int64(1), version)
		walls = append(walls, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if tag.RowsAffected() != 1 {
			b.Fatalf("fenced update matched %d rows", tag.RowsAffected())
		}
		version++
	}
	b.ReportMetric(float64(pgtest.ProcCPU(b, pid)-cpu0)/1e3/float64(len(walls)), "pg-cpu-us/op")
	slices.Sort(walls)
	b.ReportMetric(float64(walls[len(walls)/2].Microseconds()), "p50-us")
	b.ReportMetric(float64(walls[len(walls)*99/100].Microseconds()), "p99-us")
	tag, err := conn.Exec(ctx, `UPDATE floor_fence SET version = version + 1 WHERE id = 1 AND owner_epoch = 2 AND version = $1`, version)
	require.NoError(b, err)
	require.Zero(b, tag.RowsAffected(), "a stale epoch must not commit")
}
