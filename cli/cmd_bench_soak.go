package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"courtmesh/loadgen"
	"courtmesh/loadgen/plots"
)

// soakTables are the tables whose footprint a soak reports.
var soakTables = []string{"court_sessions", "court_session_users", "court_transitions", "court_outbox", "cases", "verdicts"}

func newBenchSoakCmd() *cobra.Command {
	var (
		cfg   loadgen.SoakConfig
		urls  string
		nodes []string
		out   string
	)
	cmd := &cobra.Command{
		Use:   "soak --urls <edge,...> --node <name>=<ops url> ... --duration 10m --out <dir>",
		Short: "Run whole sessions back to back and sample every node's memory and goroutines",
		Long: `soak runs --concurrency couples, each running whole sessions back to back
(creator and partner on different edges) for --duration, and samples every
--node's /metrics (process_resident_memory_bytes, go_memstats_heap_inuse_bytes,
go_goroutines, court_home_sessions) every --interval. It writes soak.json and
soak.csv to --out. With DATABASE_URL set (its search_path the soak's schema)
it also records the size of the court tables at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitList(urls)
			for _, n := range nodes {
				name, url, ok := strings.Cut(n, "=")
				if !ok || name == "" || url == "" {
					return usagef("--node %q: want <name>=<ops url>", n)
				}
				cfg.Nodes = append(cfg.Nodes, loadgen.Node{Name: name, URL: strings.TrimSuffix(url, "/")})
			}
			if len(cfg.URLs) == 0 || len(cfg.Nodes) == 0 || cfg.Duration <= 0 || out == "" {
				return usagef("--urls, --node, a positive --duration and --out are required")
			}
			secret, _, _ := jwtSecret(true)
			cfg.Secret = []byte(secret)
			cfg.Progress = cmd.ErrOrStderr()
			res, err := loadgen.Soak(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if err := measureTables(cmd.Context(), res); err != nil {
				return err
			}
			return writeSoak(out, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&urls, "urls", "", "comma-separated edge URLs (http://host:port)")
	f.StringArrayVar(&nodes, "node", nil, "a node to sample, as <name>=<ops url> (repeatable)")
	f.IntVar(&cfg.Concurrency, "concurrency", 20, "couples in flight")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Minute, "how long sessions are started")
	f.DurationVar(&cfg.Interval, "interval", 10*time.Second, "sampling period")
	f.DurationVar(&cfg.ActionTimeout, "action-timeout", 10*time.Second, "bound on every wait")
	f.StringVar(&out, "out", "", "folder for soak.json and soak.csv")
	return cmd
}

// measureTables records the footprint of the court tables and the number of
// sessions with a history, when DATABASE_URL is set.
func measureTables(ctx context.Context, res *loadgen.SoakResult) error {
	pool, err := openPool(ctx)
	if err != nil || pool == nil {
		return err
	}
	defer pool.Close()
	if err := pool.QueryRow(ctx, `SELECT count(DISTINCT session_id) FROM court_transitions`).Scan(&res.StoredSessions); err != nil {
		return fmt.Errorf("count stored sessions: %w", err)
	}
	for _, table := range soakTables {
		t, err := tableSize(ctx, pool, table)
		if err != nil {
			return err
		}
		res.Tables = append(res.Tables, t)
	}
	return nil
}

func tableSize(ctx context.Context, pool *pgxpool.Pool, table string) (loadgen.TableSize, error) {
	t := loadgen.TableSize{Table: table}
	err := pool.QueryRow(ctx, `SELECT pg_total_relation_size(to_regclass($1)), pg_indexes_size(to_regclass($1))`, table).
		Scan(&t.TotalBytes, &t.IndexBytes)
	if err == nil {
		err = pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&t.Rows)
	}
	if err != nil {
		return t, fmt.Errorf("size of %s: %w", table, err)
	}
	return t, nil
}

func writeSoak(dir string, res *loadgen.SoakResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("make %s: %w", dir, err)
	}
	data, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "soak.json"), append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write soak.json: %w", err)
	}
	f, err := os.Create(filepath.Join(dir, "soak.csv"))
	if err != nil {
		return fmt.Errorf("write soak.csv: %w", err)
	}
	if err := loadgen.WriteSoakCSV(f, res); err != nil {
		f.Close()
		return fmt.Errorf("write soak.csv: %w", err)
	}
	return f.Close()
}

// readSoak reads the soak.json a soak wrote.
func readSoak(path string) (*loadgen.SoakResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read soak: %w", err)
	}
	var res loadgen.SoakResult
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(res.Samples) == 0 {
		return nil, fmt.Errorf("read %s: no samples", path)
	}
	return &res, nil
}

func newBenchPlotCmd() *cobra.Command {
	var in, out string
	cmd := &cobra.Command{
		Use:   "plot --in soak.json --out soak.png",
		Short: "Plot a soak's RSS, heap, goroutines and sessions/s as a PNG",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := readSoak(in)
			if err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("write plot: %w", err)
			}
			if err := plots.WriteSoak(f, res); err != nil {
				f.Close()
				return err
			}
			return f.Close()
		},
	}
	cmd.Flags().StringVar(&in, "in", "bench-out/soak/soak.json", "the soak.json of \"courtctl bench soak\"")
	cmd.Flags().StringVar(&out, "out", "bench-out/soak/soak.png", "the PNG to write")
	return cmd
}

func newBenchSoakReportCmd() *cobra.Command {
	var in, image string
	cmd := &cobra.Command{
		Use:   "soak-report --in soak.json [--image soak.png]",
		Short: "Print a soak's verdict, per-node table and Postgres footprint as markdown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := readSoak(in)
			if err != nil {
				return err
			}
			loadgen.WriteSoakMarkdown(cmd.OutOrStdout(), res, image)
			return nil
		},
	}
	cmd.Flags().StringVar(&in, "in", "bench-out/soak/soak.json", "the soak.json of \"courtctl bench soak\"")
	cmd.Flags().StringVar(&image, "image", "", "path of the plot, relative to the markdown file (empty: none)")
	return cmd
}
