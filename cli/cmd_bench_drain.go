package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"courtmesh/admin"
	"courtmesh/directory"
	"courtmesh/loadgen"
	"courtmesh/protocol"
	"courtmesh/token"
)

// drainBench is the result of `courtctl bench drain`.
type drainBench struct {
	Node   string `json:"node"`
	Role   string `json:"role"`
	Held   int    `json:"held"` // sockets or sessions when the drain began
	Window string `json:"window,omitempty"`
	// EmptySeconds is the time from the drain call until the node held
	// nothing and reported drained.
	EmptySeconds float64 `json:"empty_seconds"`
	// Pause is, for a home, the time each sampled session had no owner
	// acting for it (from the drain call until a peer acquired it: an upper
	// bound); for an edge, when each socket was told to reconnect.
	Pause loadgen.Summary `json:"pause"`
	// ClientErrors: sockets that failed to open or were not told to
	// reconnect (edge); sampled sessions no peer took (home).
	ClientErrors int `json:"client_errors"`
}

func newBenchDrainCmd() *cobra.Command {
	var (
		of      operatorFlags
		url     string
		sockets int
		sample  int
		window  time.Duration
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "drain NODE [--url EDGE --sockets N --window DUR] [--sample N]",
		Short: "Drain a node under measurement: time until empty, pauses, client errors (make bench)",
		Long: `bench drain drains NODE through its admin listener and measures it. For an
edge it first opens --sockets registered sockets on --url (the edge's client
URL), then measures when each is told to reconnect and how long until the edge
is empty. For a home it samples --sample of the sessions it owns and measures,
for each, the time until a peer acquired it (the pause's upper bound), and how
long until the home is empty. Prints one JSON line.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := of.client()
			if err != nil {
				return err
			}
			m, err := findMember(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			var res drainBench
			switch m.Role {
			case "edge":
				if url == "" || sockets <= 0 {
					return usagef("an edge's drain needs --url and --sockets")
				}
				res, err = benchDrainEdge(ctx, c, m, url, sockets, window, cmd.ErrOrStderr())
			default:
				res, err = benchDrainHome(ctx, c, m, sample)
			}
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
		},
	}
	of.register(cmd)
	cmd.Flags().StringVar(&url, "url", "", "the edge's client URL (edge drains)")
	cmd.Flags().IntVar(&sockets, "sockets", 0, "sockets to open on the edge before its drain")
	cmd.Flags().IntVar(&sample, "sample", 200, "sessions of the home whose pause is measured")
	cmd.Flags().DurationVar(&window, "window", admin.DefaultWindow, "the edge's drain window")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

// waitEmpty polls the node until it is drained and holds nothing.
func waitEmpty(ctx context.Context, c *admin.Client, addr string) error {
	for {
		st, err := c.Status(ctx, addr)
		if err != nil {
			return err
		}
		if st.State == directory.StateDrained && held(st) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node not empty: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func benchDrainEdge(ctx context.Context, c *admin.Client, m directory.Member, url string, n int, window time.Duration, progress io.Writer) (drainBench, error) {
	secret, _, _ := jwtSecret(true)
	res := drainBench{Node: m.ID, Role: m.Role, Window: window.String()}
	var (
		mu    sync.Mutex
		conns []*loadgen.Client
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(200)
	for range n {
		g.Go(func() error {
			user := newBenchUser()
			tok, err := token.Mint([]byte(secret), user, time.Hour)
			if err != nil {
				return err
			}
			cl, err := loadgen.Dial(gctx, url, tok)
			if err == nil {
				_, err = cl.Emit(gctx, protocol.Register, map[string]string{"userId": user})
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.ClientErrors++
				return nil
			}
			conns = append(conns, cl)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.Held = len(conns)
	fmt.Fprintf(progress, "bench drain: %d sockets open on %s (%d failed)\n", len(conns), m.ID, res.ClientErrors)
	var told loadgen.Series
	start := time.Now()
	var wg sync.WaitGroup
	for _, cl := range conns {
		wg.Go(func() {
			for {
				if _, ok := cl.Next(); !ok {
					told.Add(time.Since(start))
					return
				}
			}
		})
	}
	if _, err := c.Drain(ctx, m.AdminAddr, admin.DrainRequest{Window: admin.Duration(window)}); err != nil {
		return res, err
	}
	err := waitEmpty(ctx, c, m.AdminAddr)
	res.EmptySeconds = time.Since(start).Seconds()
	for _, cl := range conns {
		_ = cl.Close()
	}
	wg.Wait()
	res.Pause = told.Summary()
	return res, err
}

func benchDrainHome(ctx context.Context, c *admin.Client, m directory.Member, sample int) (drainBench, error) {
	res := drainBench{Node: m.ID, Role: m.Role}
	dir, _, closeDir, err := openDirectory(false)
	if err != nil {
		return res, usageError{err}
	}
	defer closeDir()
	owned, err := dir.Owned(ctx, m.ID)
	if err != nil {
		return res, err
	}
	res.Held = len(owned)
	rand.Shuffle(len(owned), func(i, j int) { owned[i], owned[j] = owned[j], owned[i] })
	picked := owned[:min(sample, len(owned))]
	var pauses loadgen.Series
	start := time.Now()
	if _, err := c.Drain(ctx, m.AdminAddr, admin.DrainRequest{}); err != nil {
		return res, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(64)
	for _, sid := range picked {
		g.Go(func() error {
			for gctx.Err() == nil {
				r, err := dir.RouteOf(gctx, sid, true)
				switch {
				case errors.Is(err, directory.ErrNotFound):
					pauses.Fail() // ended: no longer measurable
					return nil
				case err != nil:
					return err
				case r.OwnerNode != m.ID && r.OwnerInc != "":
					pauses.Add(time.Since(start))
					return nil
				}
				time.Sleep(2 * time.Millisecond) // polling Redis
			}
			pauses.Fail()
			return nil
		})
	}
	err = errors.Join(g.Wait(), waitEmpty(ctx, c, m.AdminAddr))
	res.EmptySeconds = time.Since(start).Seconds()
	res.Pause = pauses.Summary()
	res.ClientErrors = res.Pause.Errors
	return res, err
}

func newBenchUser() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rand.N(256))
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
