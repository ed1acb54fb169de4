package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"courtmesh/directory"
)

// sessionRow is one live session in `courtctl sessions`.
type sessionRow struct {
	ID         string  `json:"id"`
	Phase      string  `json:"phase"`
	HomeRegion string  `json:"home_region"`
	OwnerNode  string  `json:"owner_node"`
	Epoch      uint64  `json:"epoch"`
	Version    int64   `json:"version"`
	AgeSeconds float64 `json:"age_seconds"`
	Creator    string  `json:"creator"`
	Partner    string  `json:"partner"`
}

// transitionRow is one committed transition, from court_transitions.
type transitionRow struct {
	Version int64     `json:"version"`
	Phase   string    `json:"phase"`
	Epoch   int64     `json:"owner_epoch"`
	Node    string    `json:"node"`
	Event   string    `json:"event"`
	At      time.Time `json:"at"`
}

// sessionFilter narrows `courtctl sessions`.
type sessionFilter struct {
	node, user, phase string
	limit             int
}

// maxListed bounds the sessions one listing reads.
const maxListed = 10000

// listSessions reads the live sessions from Postgres and their owners from
// the directory.
func listSessions(ctx context.Context, pool *pgxpool.Pool, dir directory.Directory, f sessionFilter) ([]sessionRow, error) {
	rows, err := pool.Query(ctx, `
SELECT id::text, phase, coalesce(home_region, ''), owner_epoch, version, created_at, created_by, coalesce(partner_id, '')
FROM court_sessions
WHERE ended_at IS NULL
  AND ($1 = '' OR phase = $1)
  AND ($2 = '' OR created_by = $2 OR partner_id = $2)
ORDER BY created_at
LIMIT $3`, f.phase, f.user, f.limit)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w (is DATABASE_URL the cluster's, migrated with \"courtd migrate\"?)", err)
	}
	now := time.Now()
	var out []sessionRow
	for rows.Next() {
		var r sessionRow
		var epoch int64
		var created time.Time
		if err := rows.Scan(&r.ID, &r.Phase, &r.HomeRegion, &epoch, &r.Version, &created, &r.Creator, &r.Partner); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		r.Epoch, r.AgeSeconds = uint64(epoch), now.Sub(created).Seconds()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	kept := out[:0]
	for _, r := range out {
		route, err := dir.RouteOf(ctx, r.ID, true)
		switch {
		case err == nil:
			r.OwnerNode, r.Epoch = route.OwnerNode, route.Epoch
			if route.OwnerInc == "" {
				r.OwnerNode = "(released)"
			}
			if route.HomeRegion != "" {
				r.HomeRegion = route.HomeRegion
			}
		case errors.Is(err, directory.ErrNotFound):
			r.OwnerNode = "(no route)"
		default:
			return nil, err
		}
		if f.node == "" || r.OwnerNode == f.node {
			kept = append(kept, r)
		}
	}
	return kept, nil
}

func writeSessions(w io.Writer, rows []sessionRow, output string) error {
	if output == "json" {
		if rows == nil {
			rows = []sessionRow{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string][]sessionRow{"sessions": rows})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tPHASE\tHOME REGION\tOWNER\tEPOCH\tVERSION\tAGE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", r.ID, r.Phase, r.HomeRegion, r.OwnerNode, r.Epoch, r.Version,
			(time.Duration(r.AgeSeconds) * time.Second).String())
	}
	return tw.Flush()
}

// openCluster opens the directory and Postgres a listing needs.
func openCluster(ctx context.Context) (directory.Store, *pgxpool.Pool, func(), error) {
	dir, _, closeDir, err := openDirectory(false)
	if err != nil {
		return nil, nil, nil, usageError{err}
	}
	pool, err := requirePool(ctx, ": sessions are read from the cluster's Postgres")
	if err != nil {
		closeDir()
		return nil, nil, nil, err
	}
	return dir, pool, func() { pool.Close(); closeDir() }, nil
}

func newSessionsCmd() *cobra.Command {
	var (
		f      = sessionFilter{limit: maxListed}
		output string
	)
	cmd := &cobra.Command{
		Use:   "sessions [--node N] [--user UUID] [--phase P] [-o table|json]",
		Short: "List the live sessions: phase, home region, owner node, epoch, version, age",
		Long: `sessions lists the live court sessions from Postgres (DATABASE_URL) with their
owners from Redis (REDIS_URL, COURT_REDIS_PREFIX). "sessions show ID" prints one
with its recent transitions.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			dir, pool, closeFn, err := openCluster(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			rows, err := listSessions(cmd.Context(), pool, dir, f)
			if err != nil {
				return err
			}
			return writeSessions(cmd.OutOrStdout(), rows, output)
		},
	}
	cmd.Flags().StringVar(&f.node, "node", "", "only the sessions this home node owns")
	cmd.Flags().StringVar(&f.user, "user", "", "only the session of this user id")
	cmd.Flags().StringVar(&f.phase, "phase", "", "only the sessions in this phase, e.g. EVIDENCE")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.AddCommand(newSessionShowCmd())
	return cmd
}

// transitionsShown is how many recent transitions `sessions show` prints.
const transitionsShown = 20

func newSessionShowCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show ID [-o table|json]",
		Short: "Print one session with its recent transitions",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			dir, pool, closeFn, err := openCluster(cmd.Context())
			if err != nil {
				return err
			}
			defer closeFn()
			return showSession(cmd.Context(), cmd.OutOrStdout(), pool, dir, args[0], output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func showSession(ctx context.Context, w io.Writer, pool *pgxpool.Pool, dir directory.Directory, id, output string) error {
	var (
		s       sessionRow
		epoch   int64
		created time.Time
		ended   *time.Time
	)
	err := pool.QueryRow(ctx, `
SELECT id::text, phase, coalesce(home_region, ''), owner_epoch, version, created_at, created_by, coalesce(partner_id, ''), ended_at
FROM court_sessions WHERE id::text = $1`, id).Scan(&s.ID, &s.Phase, &s.HomeRegion, &epoch, &s.Version, &created, &s.Creator, &s.Partner, &ended)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("no session %s (list them with \"courtctl sessions\")", id)
	}
	if err != nil {
		return fmt.Errorf("read session %s: %w", id, err)
	}
	s.Epoch, s.AgeSeconds = uint64(epoch), time.Since(created).Seconds()
	if route, err := dir.RouteOf(ctx, id, true); err == nil {
		s.OwnerNode, s.Epoch = route.OwnerNode, route.Epoch
	}
	rows, err := pool.Query(ctx, `
SELECT version, phase, owner_epoch, node, event, at FROM court_transitions
WHERE session_id::text = $1 ORDER BY version DESC LIMIT $2`, id, transitionsShown)
	if err != nil {
		return fmt.Errorf("read transitions of %s: %w", id, err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (transitionRow, error) {
		var t transitionRow
		return t, r.Scan(&t.Version, &t.Phase, &t.Epoch, &t.Node, &t.Event, &t.At)
	})
	if err != nil {
		return fmt.Errorf("read transitions of %s: %w", id, err)
	}
	if output == "json" {
		if ts == nil {
			ts = []transitionRow{}
		}
		return json.NewEncoder(w).Encode(struct {
			sessionRow
			Ended       *time.Time      `json:"ended_at,omitempty"`
			Transitions []transitionRow `json:"transitions"`
		}{s, ended, ts})
	}
	fmt.Fprintf(w, "session %s\n  phase %s, version %d, home region %s, owner %s at epoch %d\n  users %s, %s; created %s ago\n",
		s.ID, s.Phase, s.Version, s.HomeRegion, s.OwnerNode, s.Epoch, s.Creator, s.Partner, (time.Duration(s.AgeSeconds) * time.Second).String())
	if ended != nil {
		fmt.Fprintf(w, "  ended %s\n", ended.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "\nrecent transitions (newest first):\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tPHASE\tEVENT\tNODE\tEPOCH\tAT")
	for _, t := range ts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\n", t.Version, t.Phase, t.Event, t.Node, t.Epoch, t.At.Format(time.RFC3339Nano))
	}
	return tw.Flush()
}
