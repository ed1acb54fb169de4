package cli

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"courtmesh/loadgen"
	"courtmesh/loadgen/plots"
)

// cpuGroups parses --cpu NAME=PID,PID... and --cpu-pg NAME=APPLICATION_NAME
// into the process groups whose CPU a bench run counts. The Postgres
// backends of a group are those whose pg_stat_activity.application_name is
// the given one, found through DATABASE_URL.
func cpuGroups(static, pg []string) ([]loadgen.CPUGroup, error) {
	var groups []loadgen.CPUGroup
	for _, s := range static {
		name, list, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, usagef("--cpu %q: want NAME=PID,PID", s)
		}
		g := loadgen.CPUGroup{Name: name}
		for _, p := range splitList(list) {
			pid, err := strconv.Atoi(p)
			if err != nil || pid <= 0 {
				return nil, usagef("--cpu %q: %q is not a pid", s, p)
			}
			g.PIDs = append(g.PIDs, pid)
		}
		if len(g.PIDs) == 0 {
			return nil, usagef("--cpu %q: no pid", s)
		}
		groups = append(groups, g)
	}
	for _, s := range pg {
		name, app, ok := strings.Cut(s, "=")
		if !ok || name == "" || app == "" {
			return nil, usagef("--cpu-pg %q: want NAME=APPLICATION_NAME", s)
		}
		url := os.Getenv(envDatabaseURL)
		if url == "" {
			return nil, usagef("--cpu-pg needs DATABASE_URL to find the backends")
		}
		groups = append(groups, loadgen.CPUGroup{Name: name, Find: func(ctx context.Context) ([]int, error) {
			return backendPIDs(ctx, url, app)
		}})
	}
	return groups, nil
}

// backendPIDs are the pids of the Postgres backends serving connections
// whose application_name is app.
func backendPIDs(ctx context.Context, url, app string) ([]int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("find postgres backends: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		return nil, fmt.Errorf("find postgres backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("find postgres backends: %w", err)
	}
	out := make([]int, len(pids))
	for i, p := range pids {
		out[i] = int(p)
	}
	return out, nil
}

func newBenchPlotsCmd() *cobra.Command {
	var dir, out string
	cmd := &cobra.Command{
		Use:   "plots --dir <bench output> --out bench.png",
		Short: "Draw a `make bench` run: latency distributions, CPU per session, memory per socket by socket count",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := loadgen.LoadBench(dir)
			if err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("write plots: %w", err)
			}
			if err := plots.WriteBench(f, b); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "bench-out", "the folder scripts/bench.sh wrote")
	cmd.Flags().StringVar(&out, "out", "bench.png", "the PNG to write")
	return cmd
}
