package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/directory"
)

// newMoveCmd is `courtctl migrate`: live migration of sessions between home
// nodes. (`courtd migrate` is the schema's.)
func newMoveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Move sessions live to another home node or region",
		Long: `migrate moves sessions live between home nodes, within a region or across
regions (the session's home region in Redis changes with it): the owner drops
the session after its commit in flight and hands its lease to the target, whose
next claim round (250 ms) takes it at the next epoch with its timers; actions
meanwhile are retried by the edges and answered by the new owner.`,
	}
	cmd.AddCommand(newMoveSessionCmd(), newMoveNodeCmd())
	return cmd
}

// moveFlags are the flags both migrate commands share.
type moveFlags struct {
	of     operatorFlags
	to     string
	wait   bool
	output string
}

func (f *moveFlags) register(cmd *cobra.Command) {
	f.of.register(cmd)
	cmd.Flags().StringVar(&f.to, "to", "", "target home node id, or a region (its active home holding the fewest sessions) (required)")
	cmd.Flags().BoolVar(&f.wait, "wait", false, "wait until the target holds the sessions, with a progress bar")
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
}

// moveResult is `courtctl migrate … -o json`.
type moveResult struct {
	To       string   `json:"to"`
	Region   string   `json:"region"`
	Moved    []string `json:"moved"`
	Failed   []string `json:"failed"`
	Seconds  float64  `json:"seconds"`
	Verified bool     `json:"verified"` // --wait: the target holds every moved session
}

// targets resolves --to among the live members, leaving out from: the
// home node to, or the active homes of region to, sorted by id.
func targets(ms []directory.Member, to, from string) ([]directory.Member, error) {
	if to == from {
		return nil, fmt.Errorf("%s already holds them: pick another --to", to)
	}
	var out []directory.Member
	for _, m := range ms {
		if m.Role != "home" || m.ID == from {
			continue
		}
		if m.ID == to {
			if m.State != directory.StateActive {
				return nil, fmt.Errorf("home %s is %s: undrain it first", to, m.State)
			}
			return []directory.Member{m}, nil
		}
		if m.Region == to && m.State == directory.StateActive {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, usagef("--to %q is neither an active home node nor a region with one other than %s (see \"courtctl status\")", to, from)
	}
	return out, nil
}

// target resolves --to to one home: the node, or the region's active home
// holding the fewest sessions.
func target(ms []directory.Member, to, from string) (directory.Member, error) {
	ts, err := targets(ms, to, from)
	if err != nil {
		return directory.Member{}, err
	}
	best := ts[0]
	for _, m := range ts[1:] {
		if m.Sessions < best.Sessions {
			best = m
		}
	}
	return best, nil
}

// moveSessions asks from to move ids to the target, then with wait polls
// the routes until the target holds them all.
func moveSessions(ctx context.Context, w, bar io.Writer, f *moveFlags, from string, ids []string) error {
	if f.to == "" {
		return usagef("--to NODE|REGION is required")
	}
	if err := checkOutput(f.output, "table", "json"); err != nil {
		return err
	}
	c, err := f.of.client()
	if err != nil {
		return err
	}
	dir, _, closeDir, err := openDirectory(false)
	if err != nil {
		return usageError{err}
	}
	defer closeDir()
	ms, err := dir.Members(ctx)
	if err != nil {
		return err
	}
	src, err := memberOf(ms, from)
	if err != nil {
		return err
	}
	dst, err := target(ms, f.to, from)
	if err != nil {
		return err
	}
	start := time.Now()
	res := moveResult{To: dst.ID, Region: dst.Region, Moved: []string{}, Failed: []string{}}
	for _, id := range ids {
		if err := c.Migrate(ctx, src.AdminAddr, id, dst.ID, dst.Region); err != nil {
			res.Failed = append(res.Failed, id)
			fmt.Fprintf(bar, "migrate %s: %v\n", id, err)
			continue
		}
		res.Moved = append(res.Moved, id)
	}
	if f.wait && len(res.Moved) > 0 {
		if bar != nil && f.output == "json" {
			bar = nil
		}
		if err := waitMoved(ctx, dir, res.Moved, dst.ID, bar); err != nil {
			return err
		}
		res.Verified = true
	}
	res.Seconds = time.Since(start).Seconds()
	if f.output == "json" {
		if err := json.NewEncoder(w).Encode(res); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(w, "moved %d sessions from %s to %s (%s) in %.2fs; %d failed\n", len(res.Moved), from, dst.ID, dst.Region, res.Seconds, len(res.Failed))
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%d of %d sessions not moved", len(res.Failed), len(ids))
	}
	return nil
}

func memberOf(ms []directory.Member, id string) (directory.Member, error) {
	for _, m := range ms {
		if m.ID == id {
			if m.AdminAddr == "" {
				return m, fmt.Errorf("node %s announces no admin listener: start it with --admin-addr", id)
			}
			return m, nil
		}
	}
	return directory.Member{}, fmt.Errorf("node %s is not in the membership (see \"courtctl status\")", id)
}

// waitMoved polls the routes of ids until node holds every one. A session
// another node took instead (node's lease lapsed before it acquired it, so
// the region took it over) fails the wait.
func waitMoved(ctx context.Context, dir directory.Directory, ids []string, node string, bar io.Writer) error {
	p := newProgress(len(ids))
	left := ids
	for {
		var still []string
		for _, id := range left {
			r, err := dir.RouteOf(ctx, id, true)
			if errors.Is(err, directory.ErrNotFound) {
				continue // ended meanwhile
			}
			if err != nil {
				return err
			}
			if r.OwnerInc != "" && r.OwnerNode != node {
				return fmt.Errorf("session %s was taken over by %s instead of %s (did %s stop or lose its lease?): see \"courtctl status\"", id, r.OwnerNode, node, node)
			}
			if r.OwnerInc == "" {
				still = append(still, id)
			}
		}
		left = still
		if bar != nil {
			p.draw(bar, len(left))
		}
		if len(left) == 0 {
			if bar != nil {
				fmt.Fprintln(bar)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func newMoveSessionCmd() *cobra.Command {
	var f moveFlags
	cmd := &cobra.Command{
		Use:   "session ID --to NODE|REGION [--wait] [-o table|json]",
		Short: "Move one session live to a home node or region",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.to == "" {
				return usagef("--to NODE|REGION is required")
			}
			dir, _, closeDir, err := openDirectory(false)
			if err != nil {
				return usageError{err}
			}
			r, err := dir.RouteOf(cmd.Context(), args[0], true)
			closeDir()
			if errors.Is(err, directory.ErrNotFound) {
				return fmt.Errorf("no live session %s (list them with \"courtctl sessions\")", args[0])
			}
			if err != nil {
				return err
			}
			if r.OwnerInc == "" {
				return fmt.Errorf("session %s is between owners right now: retry in a second", args[0])
			}
			return moveSessions(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &f, r.OwnerNode, args)
		},
	}
	f.register(cmd)
	return cmd
}

func newMoveNodeCmd() *cobra.Command {
	var (
		f     moveFlags
		count int
	)
	cmd := &cobra.Command{
		Use:   "node NODE --to NODE|REGION [--count N] [--wait] [-o table|json]",
		Short: "Move sessions of a home live to another home node or region (rebalancing)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 0 {
				return usagef("--count %d: want 0 (all) or more", count)
			}
			if f.to == "" {
				return usagef("--to NODE|REGION is required")
			}
			dir, _, closeDir, err := openDirectory(false)
			if err != nil {
				return usageError{err}
			}
			ids, err := dir.Owned(cmd.Context(), args[0])
			closeDir()
			if err != nil {
				return err
			}
			if count > 0 && count < len(ids) {
				ids = ids[:count]
			}
			if len(ids) == 0 {
				return fmt.Errorf("node %s owns no session", args[0])
			}
			return moveSessions(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &f, args[0], ids)
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&count, "count", 0, "how many sessions to move (0: all)")
	return cmd
}
