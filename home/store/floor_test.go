package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/store/pgtest"
)

// BenchmarkFencedCommitFloor is the cost of one fenced Postgres commit on
// this machine measured alone, the floor of docs/performance.md: one
// single-statement transaction that bumps a tiny row's version only if its
// owner epoch and version are the expected ones (the fence of every
// transition), with the commit's WAL flush, on one connection. Compare with
// BenchmarkCommit, a real transition of a VERDICT-sized session.
func BenchmarkFencedCommitFloor(b *testing.B) {
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
	n := 0
	for b.Loop() {
		n++
		tag, err := conn.Exec(ctx, `UPDATE floor_fence SET version = version + 1 WHERE id = 1 AND owner_epoch = $1 AND version = $2`, int64(1), version)
		if err != nil {
			b.Fatal(err)
		}
		if tag.RowsAffected() != 1 {
			b.Fatalf("fenced update matched %d rows", tag.RowsAffected())
		}
		version++
	}
	b.ReportMetric(float64(pgtest.ProcCPU(b, pid)-cpu0)/1e3/float64(n), "pg-cpu-us/op")
	tag, err := conn.Exec(ctx, `UPDATE floor_fence SET version = version + 1 WHERE id = 1 AND owner_epoch = 2 AND version = $1`, version)
	require.NoError(b, err)
	require.Zero(b, tag.RowsAffected(), "a stale epoch must not commit")
}
