package cli

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/home/outbox"
)

func newOutboxCmd() *cobra.Command {
	var (
		dead   bool
		output string
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "outbox [--dead] [-o table|json] [--limit N]",
		Short: "List the outbox rows not delivered yet (pending and dead-lettered), from DATABASE_URL",
		Long: `outbox lists the side effects (push notifications, memory jobs) not delivered
yet: pending ones and, after their last failed attempt, dead-lettered ones.
--dead lists only the dead. Payloads (private text) are never shown. Requeue
dead rows with "courtctl outbox requeue".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			pool, err := requirePool(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer pool.Close()
			entries, err := outbox.List(cmd.Context(), pool, dead, limit)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				if entries == nil {
					entries = []outbox.Entry{}
				}
				return json.NewEncoder(w).Encode(map[string]any{"rows": entries})
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tKIND\tSESSION\tSTATE\tATTEMPTS\tAGE\tLAST ERROR")
			for _, e := range entries {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\n", e.ID, e.Kind, e.SessionID, e.State, e.Attempts,
					time.Since(e.CreatedAt).Round(time.Second), e.LastError)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&dead, "dead", false, "only dead-lettered rows")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many rows, oldest first")
	cmd.AddCommand(newOutboxRequeueCmd())
	return cmd
}

func newOutboxRequeueCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "requeue (ID... | --all-dead)",
		Short: "Make dead-lettered outbox rows pending again, due now",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return usagef("give the ids of dead rows, or --all-dead")
			}
			ids := make([]int64, 0, len(args))
			for _, a := range args {
				id, err := strconv.ParseInt(a, 10, 64)
				if err != nil {
					return usagef("outbox id %q is not a number", a)
				}
				ids = append(ids, id)
			}
			pool, err := requirePool(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer pool.Close()
			n, err := outbox.Requeue(cmd.Context(), pool, ids)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d dead rows requeued\n", n)
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all-dead", false, "requeue every dead-lettered row")
	return cmd
}
