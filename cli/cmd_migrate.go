package cli

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
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
		Long: `migrate applies, with goose, the embedded SQL migrations that DATABASE_URL's
schema has not applied yet (a schema migrated before goose is carried over
first, nothing applied twice). "courtd migrate status" lists them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := requirePool(cmd.Context(), "")
			if err != nil {
				return err
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
	cmd.AddCommand(newMigrateStatusCmd())
	return cmd
}

func newMigrateStatusCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status [-o table|json]",
		Short: "List the migrations and whether DATABASE_URL's schema has applied each",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			pool, err := requirePool(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer pool.Close()
			st, err := store.MigrationStatus(cmd.Context(), pool)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return json.NewEncoder(w).Encode(map[string]any{"migrations": st})
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "VERSION\tNAME\tSTATE\tAPPLIED AT")
			for _, m := range st {
				state, at := "pending", ""
				if m.Applied {
					state, at = "applied", m.AppliedAt.UTC().Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", m.Version, m.Name, state, at)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
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
