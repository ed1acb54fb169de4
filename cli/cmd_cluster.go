package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"courtmesh/admin"
	"courtmesh/directory"
	"courtmesh/mesh/pki"
)

// envCourtctlTLSDir is where courtctl finds the operator certificate when
// --tls-dir is not given.
const envCourtctlTLSDir = "COURTCTL_TLS_DIR"

// operatorFlags are the operator's credentials, for the admin calls.
type operatorFlags struct{ tlsDir string }

func (f *operatorFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.tlsDir, "tls-dir", "", "directory with ca.pem, operator.pem and operator-key.pem from \"courtctl cert create --operator --name NAME\" (default $"+envCourtctlTLSDir+")")
}

// client loads the operator certificate and returns an admin client.
func (f *operatorFlags) client() (*admin.Client, error) {
	dir := f.tlsDir
	if dir == "" {
		dir = os.Getenv(envCourtctlTLSDir)
	}
	if dir == "" {
		return nil, usagef("an operator certificate is required: pass --tls-dir DIR or set %s (issue one with \"courtctl cert create --operator --name NAME --ca-dir CA --out DIR\")", envCourtctlTLSDir)
	}
	id, err := pki.LoadOperator(dir)
	if err != nil {
		return nil, fmt.Errorf("%w (issue an operator certificate with \"courtctl cert create --operator --name NAME\")", err)
	}
	return admin.NewClient(id.ClientTLS()), nil
}

// checkOutput validates -o against the formats a command takes.
func checkOutput(o string, formats ...string) error {
	if !slices.Contains(formats, o) {
		return usagef("-o %q: want %s", o, strings.Join(formats, " or "))
	}
	return nil
}

// readMembers reads the membership from REDIS_URL / COURT_REDIS_PREFIX.
func readMembers(ctx context.Context) ([]directory.Member, error) {
	dir, _, closeFn, err := openDirectory(false)
	if err != nil {
		return nil, usageError{err}
	}
	defer closeFn()
	return dir.Members(ctx)
}

// findMember returns the live member id.
func findMember(ctx context.Context, id string) (directory.Member, error) {
	ms, err := readMembers(ctx)
	if err != nil {
		return directory.Member{}, err
	}
	return memberOf(ms, id)
}

// statusNode is one node in `courtctl status -o json`.
type statusNode struct {
	ID       string  `json:"id"`
	Role     string  `json:"role"`
	Region   string  `json:"region"`
	State    string  `json:"state"`
	Version  string  `json:"version"`
	Sockets  int     `json:"sockets"`
	Sessions int     `json:"sessions"`
	LinksUp  int     `json:"links_up"`
	Peers    int     `json:"peers"`
	LeaseAge float64 `json:"lease_age_seconds"`
	Uptime   float64 `json:"uptime_seconds"`
	MeshAddr string  `json:"mesh_addr,omitempty"`
	Admin    string  `json:"admin_addr,omitempty"`
}

func statusNodes(ms []directory.Member, now time.Time) []statusNode {
	out := make([]statusNode, 0, len(ms))
	for _, m := range ms {
		out = append(out, statusNode{
			ID: m.ID, Role: m.Role, Region: m.Region, State: m.State, Version: m.Version,
			Sockets: m.Sockets, Sessions: m.Sessions, LinksUp: m.Links, Peers: m.Peers,
			LeaseAge: max(0, now.Sub(m.Seen).Seconds()), Uptime: max(0, now.Sub(m.Started).Seconds()),
			MeshAddr: m.MeshAddr, Admin: m.AdminAddr,
		})
	}
	slices.SortFunc(out, func(a, b statusNode) int {
		if c := strings.Compare(a.Region, b.Region); c != 0 {
			return c
		}
		if c := strings.Compare(a.Role, b.Role); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func writeStatus(w io.Writer, nodes []statusNode, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string][]statusNode{"nodes": nodes})
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tNODE\tROLE\tSTATE\tVERSION\tSOCKETS\tSESSIONS\tLINKS\tLEASE AGE\tUPTIME")
	for _, n := range nodes {
		load := func(v int, role string) string {
			if n.Role != role {
				return "-"
			}
			return fmt.Sprint(v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d/%d up\t%.1fs\t%s\n", n.Region, n.ID, n.Role, n.State, n.Version,
			load(n.Sockets, "edge"), load(n.Sessions, "home"), n.LinksUp, n.Peers, n.LeaseAge,
			(time.Duration(n.Uptime) * time.Second).String())
	}
	if len(nodes) == 0 {
		fmt.Fprintln(tw, "(no live node: is REDIS_URL / COURT_REDIS_PREFIX the cluster's?)")
	}
	return tw.Flush()
}

func newStatusCmd() *cobra.Command {
	var (
		output string
		watch  bool
	)
	cmd := &cobra.Command{
		Use:   "status [-o table|json] [--watch]",
		Short: "Show every node of the cluster: role, region, state, version, load, links, lease age",
		Long: `status reads the membership in Redis (REDIS_URL, COURT_REDIS_PREFIX): every
live node with its role, region, state (active, draining, drained), build
version, sockets (edges) or sessions (homes), mesh links up, and the age of its
last announcement. --watch redraws it every second until interrupted.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for {
				ms, err := readMembers(cmd.Context())
				if err != nil {
					return err
				}
				if watch && output == "table" {
					fmt.Fprint(w, "\x1b[H\x1b[2J")
					fmt.Fprintf(w, "courtctl status  %s  (every 1s; Ctrl-C to stop)\n\n", time.Now().Format(time.TimeOnly))
				}
				if err := writeStatus(w, statusNodes(ms, time.Now()), output); err != nil {
					return err
				}
				if !watch {
					return nil
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(time.Second):
				}
			}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().BoolVar(&watch, "watch", false, "redraw every second")
	return cmd
}

func newDrainCmd() *cobra.Command {
	var (
		of     operatorFlags
		window time.Duration
		to     string
		wait   bool
		output string
	)
	cmd := &cobra.Command{
		Use:   "drain NODE [--window DUR] [--to NODE|REGION] [--wait] [-o table|json]",
		Short: "Drain a node: an edge goes lame duck, a home hands its sessions to its region or --to",
		Long: `drain takes a node out of service without dropping anything.

An edge goes lame duck: /readyz fails at once, new sockets are refused, and the
held sockets are told to reconnect (Socket.IO disconnect, close 1001), spread
over --window; the clients resync on another edge. A home stops taking new
sessions and hands every session to the other homes of its region, or with
--to to a home node or to the active homes of a region (spread among them),
live as "courtctl migrate" moves them: each pauses for about one claim round
and actions meanwhile are retried by the edges at the new owner. The node
stays up, drained, until "courtctl undrain NODE" or its restart. With --wait,
a progress bar (left, rate, ETA) until the node holds nothing; -o json prints
the final counts instead.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			if window < 0 {
				return usagef("--window %v: want a positive duration", window)
			}
			c, err := of.client()
			if err != nil {
				return err
			}
			ms, err := readMembers(cmd.Context())
			if err != nil {
				return err
			}
			m, err := memberOf(ms, args[0])
			if err != nil {
				return err
			}
			req := admin.DrainRequest{Window: admin.Duration(window)}
			if to != "" {
				if m.Role != "home" {
					return usagef("--to is for homes: %s is an %s, whose clients reconnect to any edge", m.ID, m.Role)
				}
				ts, err := targets(ms, to, m.ID)
				if err != nil {
					return err
				}
				for _, t := range ts {
					req.To = append(req.To, admin.Target{Node: t.ID, Region: t.Region})
				}
			}
			start := time.Now()
			st, err := c.Drain(cmd.Context(), m.AdminAddr, req)
			if err != nil {
				return err
			}
			if wait {
				var bar io.Writer
				if output == "table" {
					bar = cmd.ErrOrStderr()
				}
				if st, err = waitDrained(cmd.Context(), c, m.AdminAddr, st, bar); err != nil {
					return err
				}
			}
			return writeDrained(cmd.OutOrStdout(), drainResult{Status: st, To: req.To, Seconds: time.Since(start).Seconds()}, output)
		},
	}
	of.register(cmd)
	cmd.Flags().DurationVar(&window, "window", admin.DefaultWindow, "an edge's drain window: its sockets' reconnects are spread over it")
	cmd.Flags().StringVar(&to, "to", "", "a home's sessions go to this home node, or spread over the active homes of this region (default: the other homes of its region)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the node holds nothing, with a progress bar")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

// drainResult is `courtctl drain -o json`.
type drainResult struct {
	admin.Status
	To      []admin.Target `json:"to,omitempty"`
	Seconds float64        `json:"seconds"`
}

func writeDrained(w io.Writer, r drainResult, output string) error {
	if output == "json" {
		return json.NewEncoder(w).Encode(r)
	}
	fmt.Fprintf(w, "node %s (%s) is %s: %d sockets, %d sessions (%.1fs)\n", r.ID, r.Role, r.State, r.Sockets, r.Sessions, r.Seconds)
	if len(r.To) > 0 {
		nodes := make([]string, len(r.To))
		for i, t := range r.To {
			nodes[i] = t.Node + " (" + t.Region + ")"
		}
		fmt.Fprintf(w, "its sessions go to %s\n", strings.Join(nodes, ", "))
	}
	return nil
}

// held is what a node still holds: sockets for an edge, sessions for a home.
func held(st admin.Status) int { return st.Sockets + st.Sessions }

// waitDrained polls the node until it is drained, drawing a progress bar on
// bar (nil: none).
func waitDrained(ctx context.Context, c *admin.Client, addr string, st admin.Status, bar io.Writer) (admin.Status, error) {
	p := newProgress(held(st))
	for st.State != directory.StateDrained || held(st) > 0 {
		if bar != nil {
			p.draw(bar, held(st))
		}
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		next, err := c.Status(ctx, addr)
		if err != nil {
			return st, err
		}
		if next.State == directory.StateActive {
			return next, errors.New("the node was undrained while waiting")
		}
		st = next
	}
	if bar != nil {
		p.draw(bar, 0)
		fmt.Fprintln(bar)
	}
	return st, nil
}

// progress draws "[#####-----] 120 left  40/s  ETA 3s".
type progress struct {
	total int
	start time.Time
}

func newProgress(total int) *progress { return &progress{total: max(total, 1), start: time.Now()} }

func (p *progress) draw(w io.Writer, left int) {
	const width = 30
	done := max(0, p.total-left)
	filled := min(width, done*width/p.total)
	rate := float64(done) / max(time.Since(p.start).Seconds(), 0.001)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(left)/rate*float64(time.Second)) + time.Second/2).Truncate(time.Second).String()
	}
	fmt.Fprintf(w, "\r[%s%s] %d left  %.0f/s  ETA %s   ", strings.Repeat("#", filled), strings.Repeat("-", width-filled), left, rate, eta)
}

func newUndrainCmd() *cobra.Command {
	var (
		of     operatorFlags
		output string
	)
	cmd := &cobra.Command{
		Use:   "undrain NODE [-o table|json]",
		Short: "Make a drained node take work again",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output, "table", "json"); err != nil {
				return err
			}
			c, err := of.client()
			if err != nil {
				return err
			}
			m, err := findMember(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			st, err := c.Undrain(cmd.Context(), m.AdminAddr)
			if err != nil {
				return err
			}
			return writeDrained(cmd.OutOrStdout(), drainResult{Status: st}, output)
		},
	}
	of.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newVersionCmd(name string) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the build version",
		Args:  noArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", name, buildVersion())
		},
	}
}

// noArgs and exactArgs are cobra's, with their errors marked as usage
// errors (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return usageError{err}
	}
	return nil
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w; usage: %s", err, cmd.UseLine())}
		}
		return nil
	}
}
