package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/home/judge"
	"courtmesh/home/store"
)

func newMigrateCmd() *cobra.Command {
	var appSchema bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the Postgres migrations (court_sessions, cases, verdicts, outbox) to DATABASE_URL",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := openPool(cmd.Context())
			if err != nil {
				return err
			}
			if pool == nil {
				return usagef("%s is not set", envDatabaseURL)
			}
			defer pool.Close()
			if err := store.Migrate(cmd.Context(), pool); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "migrations applied")
			if appSchema {
				return createAppStandIns(cmd.Context(), pool, cmd.OutOrStdout())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&appSchema, "app-schema", false, "also create stand-ins of the app's profiles and usage_tracking tables and functions where they are missing (development and tests; never touches existing ones)")
	return cmd
}

func newJudgeCmd() *cobra.Command {
	var (
		addr  string
		delay time.Duration
	)
	cmd := &cobra.Command{
		Use:   "judge",
		Short: "Serve the deterministic dev judge over the judge HTTP contract (docs/judge.md)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dev, err := judge.NewDev(judge.DevConfig{Delay: delay})
			if err != nil {
				return err
			}
			return serveHTTP(cmd.Context(), addr, judge.NewDevHandler(dev), func(a string) {
				fmt.Fprintf(cmd.OutOrStdout(), "dev judge http://%s\n", a)
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8090", "listen address")
	cmd.Flags().DurationVar(&delay, "delay", 0, "artificial delay of each call")
	return cmd
}
