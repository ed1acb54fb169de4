package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"courtmesh/home/store/pgtest"
	"courtmesh/loadgen"
)

func TestCPUGroupsParsesAndRejects(t *testing.T) {
	t.Setenv(envDatabaseURL, "")
	groups, err := cpuGroups([]string{"home=12", "edges=13, 14"}, nil)
	require.NoError(t, err)
	require.Equal(t, []loadgen.CPUGroup{{Name: "home", PIDs: []int{12}}, {Name: "edges", PIDs: []int{13, 14}}}, groups)
	for _, bad := range [][2][]string{
		{{"home"}, nil}, {{"=12"}, nil}, {{"home="}, nil}, {{"home=x"}, nil}, {{"home=-1"}, nil},
		{nil, {"postgres"}}, {nil, {"postgres="}},
		{nil, {"postgres=bench_1"}}, // no DATABASE_URL to find them with
	} {
		_, err := cpuGroups(bad[0], bad[1])
		var ue usageError
		require.True(t, errors.As(err, &ue), "%v: %v", bad, err)
	}
}

// TestBackendPIDsFindsTheConnectionsOfAnApplicationName opens a connection
// under a fresh application_name and finds its backend (a real Postgres
// process, whose /proc CPU can be read), and only it.
func TestBackendPIDsFindsTheConnectionsOfAnApplicationName(t *testing.T) {
	pgtest.Pool(t) // reachability, as every Postgres test here
	app := fmt.Sprintf("cpu_test_%d", os.Getpid())
	cfg, err := pgx.ParseConfig(pgtest.URL())
	require.NoError(t, err)
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	require.NoError(t, err)
	defer conn.Close(context.WithoutCancel(t.Context()))
	var backend int32
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&backend))

	pids, err := backendPIDs(t.Context(), pgtest.URL(), app)
	require.NoError(t, err)
	require.Equal(t, []int{int(backend)}, pids)
	if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", backend)); err == nil { // Postgres on this machine
		_, err := loadgen.CPUTicks(int(backend))
		require.NoError(t, err)
	}
	pids, err = backendPIDs(t.Context(), pgtest.URL(), app+"_none")
	require.NoError(t, err)
	require.False(t, slices.Contains(pids, int(backend)))
	require.Empty(t, pids)
}
