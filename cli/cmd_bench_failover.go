package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/loadgen"
	"courtmesh/regions"
)

func newBenchSessionsCmd() *cobra.Command {
	var (
		cfg   loadgen.Config
		urls  string
		count int
	)
	cmd := &cobra.Command{
		Use:   "sessions --urls <edge,...> --count N",
		Short: "Create N PENDING sessions (creators serve and hang up) for failover benchmarks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URLs = splitList(urls)
			if len(cfg.URLs) == 0 || count <= 0 {
				return usagef("--urls and a positive --count are required")
			}
			secret, _, _ := jwtSecret(true)
			cfg.Secret = []byte(secret)
			cfg.Progress = cmd.ErrOrStderr()
			start := time.Now()
			n, err := loadgen.OpenSessions(cmd.Context(), cfg, count)
			fmt.Fprintf(cmd.OutOrStdout(), "sessions created: %d of %d in %.1fs\n", n, count, time.Since(start).Seconds())
			return err
		},
	}
	cmd.Flags().StringVar(&urls, "urls", "", "comma-separated edge URLs")
	cmd.Flags().IntVar(&count, "count", 0, "sessions to create")
	cmd.Flags().IntVar(&cfg.Concurrency, "concurrency", 200, "creators in flight")
	return cmd
}

func newBenchWaitCmd() *cobra.Command {
	var (
		url, metric string
		want        float64
		sinceMS     int64
		timeout     time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait --url <metrics url> --metric <name> --want N [--since-ms T]",
		Short: "Wait until a metric reaches N; print the time since --since-ms (unix ms), e.g. a kill -9",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			at, err := loadgen.WaitGauge(ctx, url, metric, want, 10*time.Millisecond)
			if err != nil {
				return err
			}
			if sinceMS > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s reached %g after %d ms\n", metric, want, at.UnixMilli()-sinceMS)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "Prometheus text endpoint")
	cmd.Flags().StringVar(&metric, "metric", "court_home_sessions", "metric (samples summed)")
	cmd.Flags().Float64Var(&want, "want", 0, "value to wait for")
	cmd.Flags().Int64Var(&sinceMS, "since-ms", 0, "unix ms the elapsed time is measured from")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up after this long")
	return cmd
}

func newBenchReportCmd() *cobra.Command {
	var (
		dir string
		wan bool
	)
	cmd := &cobra.Command{
		Use:   "report --dir <bench output> [--wan]",
		Short: "Print the side-by-side tables of a `make bench` run as markdown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if wan {
				return writeWANReport(cmd.OutOrStdout(), dir)
			}
			b, err := loadgen.LoadBench(dir)
			if err != nil {
				return err
			}
			b.WriteMarkdown(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "bench-out", "the folder scripts/bench.sh wrote")
	cmd.Flags().BoolVar(&wan, "wan", false, "only the asia rows (scripts/bench-asia.sh): us and asia couples with the WAN on every path")
	return cmd
}

// writeWANReport writes the asia rows of the results in dir, for the
// catalog's us–asia RTT.
func writeWANReport(w io.Writer, dir string) error {
	res, err := loadgen.LoadWAN(dir)
	if err != nil {
		return err
	}
	if res == nil {
		return fmt.Errorf("no ours-wan-*.json in %s (scripts/bench-asia.sh writes them)", dir)
	}
	rtt, _ := regions.Default().RTT("us", "asia")
	res.WriteMarkdown(w, rtt)
	return nil
}
