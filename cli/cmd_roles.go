package cli

import (
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"courtmesh/admin"
	"courtmesh/directory"
	"courtmesh/edge"
	"courtmesh/home"
	"courtmesh/home/outbox"
	"courtmesh/home/store"
	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
)

type roleFlags struct {
	nodeID, region, tlsDir string
	verbose                bool
	linkTimeout            time.Duration
}

func (f *roleFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.nodeID, "node-id", "", "node id; must match the node certificate (required)")
	cmd.Flags().StringVar(&f.region, "region", "", "region of this node, from regions/regions.json (required)")
	cmd.Flags().StringVar(&f.tlsDir, "tls-dir", "", "directory with ca.pem, node.pem and node-key.pem from \"courtctl cert create\" (required)")
	cmd.Flags().BoolVar(&f.verbose, "verbose", false, "debug logs")
	cmd.Flags().DurationVar(&f.linkTimeout, "mesh-link-timeout", mesh.DefaultLinkTimeout,
		"how long a mesh link may go without a pong before it is reported down (pings every third of it, at most every 1s)")
}

// load checks the flags and loads the node's identity, which must be this
// node's: the id, role and region its certificate names.
func (f *roleFlags) load(role wire.Role) (*pki.Identity, *slog.Logger, error) {
	if f.nodeID == "" || f.region == "" || f.tlsDir == "" {
		return nil, nil, usagef("--node-id, --region and --tls-dir are required")
	}
	if f.linkTimeout != 0 && f.linkTimeout < 300*time.Millisecond {
		return nil, nil, usagef("--mesh-link-timeout %s: at least 300ms", f.linkTimeout)
	}
	if _, ok := regions.Default().Lookup(f.region); !ok {
		return nil, nil, usagef("unknown region %q", f.region)
	}
	id, err := pki.Load(f.tlsDir)
	if err != nil {
		return nil, nil, err
	}
	if me := (pki.Claims{ID: f.nodeID, Role: role, Region: f.region}); id.Claims != me {
		return nil, nil, usagef("the certificate in %s is for %s, but this is %s: issue this node's own with \"courtctl cert create --node %s --role %s --region %s\"",
			f.tlsDir, id.Claims, me, f.nodeID, role, f.region)
	}
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	return id, newLogger(level), nil
}

func newEdgeCmd() *cobra.Command {
	var (
		f          roleFlags
		addr       string
		homes      []string
		homePolicy string
		opsAddr    string
		tokenGrace time.Duration
		caps       edgeCaps
		window     time.Duration
		cf         clusterFlags
	)
	cmd := &cobra.Command{
		Use:   "edge",
		Short: "Run an edge: Socket.IO clients in, QUIC to the homes out",
		Long: `edge accepts the app's Socket.IO clients on --addr and forwards their actions
to home nodes over the QUIC mesh; it finds the homes in the membership in Redis.
SIGTERM drains it: lame duck over --drain-window, then exit. Environment: SUPABASE_JWT_SECRET (required),
REDIS_URL (required), COURT_REDIS_PREFIX, REDIS_REPLICA_URL (optional: the
region's replica, read while it answers, else the primary); GOGC (default 50
here, not Go's 100: less memory per idle socket, see docs/performance.md).
After a burst of allocation (a wave of handshakes) the edge returns its free
memory to the system at the first quiet second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defaultGCPercent(edgeGCPercent)
			id, logger, err := f.load(wire.RoleEdge)
			if err != nil {
				return err
			}
			var peers []mesh.Peer
			for _, h := range homes {
				p, err := parsePeer(h)
				if err != nil {
					return err
				}
				peers = append(peers, p)
			}
			secret, _, _ := jwtSecret(false)
			verifier, err := edgeVerifier(cmd.Context(), secret, "", logger)
			if err != nil {
				return usageError{err}
			}
			reg := newOpsRegistry()
			dir, closeDir, err := openEdgeDirectory(logger, reg)
			if err != nil {
				return err
			}
			defer closeDir()
			r, err := newEdgeRole(edgeRoleConfig{
				NodeID: f.nodeID, Region: f.region, ClientAddr: addr, Identity: id, Homes: peers,
				Verifier: verifier, Directory: dir, HomePolicy: homePolicy, TokenGrace: tokenGrace,
				LinkTimeout: f.linkTimeout, Caps: caps, DrainWindow: window, Cluster: cf.config(dir, id, logger),
				Logger: logger, Registerer: reg,
			})
			if err != nil {
				return err
			}
			g, ctx := errgroup.WithContext(cmd.Context())
			g.Go(func() error { return r.run(ctx) })
			g.Go(func() error { return runOps(ctx, opsAddr, reg, r.ready, logger) })
			g.Go(func() error { return releaseAfterBursts(ctx, logger) })
			return g.Wait()
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "client (Socket.IO) listen address")
	cmd.Flags().StringArrayVar(&homes, "home", nil, "home node to dial besides those the membership in Redis lists, as <region>:<node-id>@<host:port> (repeatable, optional)")
	cmd.Flags().DurationVar(&window, "drain-window", admin.DefaultWindow, "how long a drain (SIGTERM's included) spreads the sockets' reconnects over")
	cf.register(cmd)
	cmd.Flags().StringVar(&opsAddr, "ops-addr", "", "address of /metrics, /healthz and /readyz, read-only (empty: none)")
	cmd.Flags().StringVar(&homePolicy, "home-policy", "primary", "home region of new sessions: primary | creator (nearest home region to this edge)")
	cmd.Flags().DurationVar(&tokenGrace, "token-grace", edge.MaxTokenGrace, "how long after its token's exp a socket is closed (at most 30s)")
	caps.register(cmd)
	return cmd
}

func newHomeCmd() *cobra.Command {
	var (
		f        roleFlags
		jf       judgeFlags
		meshAddr string
		wf       webhookFlags
		leaseTTL time.Duration
		opsAddr  string
		keep     = retentionFlag{d: store.DefaultRetention}
		app      appFlags
		cf       clusterFlags
		adv      string
	)
	cmd := &cobra.Command{
		Use:   "home",
		Short: "Run a home node: owns sessions, runs their state machine and timers",
		Long: `home listens for edges on the QUIC mesh (--mesh-addr) and owns a share of
its region's court sessions under leases; it announces itself in the membership
in Redis, where the edges find it. SIGTERM drains it: every session is handed
to the region's other homes, then it exits. Environment: REDIS_URL and
DATABASE_URL (required; run ` + "`courtd migrate`" + ` first), COURT_REDIS_PREFIX,
COURT_TIMER_SCALE, COURT_WEBHOOK_SECRET (with --webhook URL). It reads the
app's profiles and usage_tracking in that database for the checks before an
action and refuses to start without them unless --require-app-schema=false
(` + "`courtd migrate --app-schema`" + ` creates stand-ins for development).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			id, logger, err := f.load(wire.RoleHome)
			if err != nil {
				return err
			}
			scale, err := timerScale()
			if err != nil {
				return usageError{err}
			}
			j, err := jf.open()
			if err != nil {
				return err
			}
			dir, _, closeDir, err := openDirectory(false)
			if err != nil {
				return err
			}
			defer closeDir()
			pool, err := requirePool(cmd.Context(), "")
			if err != nil {
				return err
			}
			defer pool.Close()
			if err := store.CheckSchema(cmd.Context(), pool); err != nil {
				return err
			}
			st, err := openStore(pool, false, logger)
			if err != nil {
				return err
			}
			appSrc, scr, err := app.open(cmd.Context(), pool, logger)
			if err != nil {
				return err
			}
			reg := newOpsRegistry()
			obCfg, err := wf.config(outbox.Config{DB: pool, Logger: logger, Registerer: reg})
			if err != nil {
				return err
			}
			ob, err := outbox.New(obCfg)
			if err != nil {
				return err
			}
			var pruner *store.Pruner
			if keep.d > 0 {
				pruner, err = store.NewPruner(store.PrunerConfig{DB: pool, Retention: keep.d, Logger: logger, Registerer: reg})
				if err != nil {
					return err
				}
			}
			r, err := newHomeRole(homeRoleConfig{
				NodeID: f.nodeID, Region: f.region, MeshAddr: meshAddr, AdvertiseAddr: adv, Identity: id,
				Cluster:   cf.config(dir, id, logger),
				Directory: dir, Store: st, Judge: j, App: appSrc, Screen: scr, TimerScale: scale, LeaseTTL: leaseTTL, Outbox: ob, Pruner: pruner,
				LinkTimeout: f.linkTimeout, Logger: logger, Registerer: reg,
			})
			if err != nil {
				return err
			}
			g, ctx := errgroup.WithContext(cmd.Context())
			g.Go(func() error { return r.run(ctx) })
			g.Go(func() error { return runOps(ctx, opsAddr, reg, r.ready, logger) })
			return g.Wait()
		},
	}
	f.register(cmd)
	jf.register(cmd, "")
	app.register(cmd, true)
	cmd.Flags().StringVar(&opsAddr, "ops-addr", "", "address of /metrics, /healthz and /readyz, read-only (empty: none)")
	cmd.Flags().StringVar(&meshAddr, "mesh-addr", "127.0.0.1:7000", "QUIC listen address")
	cmd.Flags().StringVar(&adv, "advertise-addr", "", "mesh address the edges dial, announced in the membership (empty: the bound --mesh-addr)")
	cf.register(cmd)
	wf.register(cmd, "")
	cmd.Flags().Var(&keep, "retention", "how long court_transitions rows of ended sessions and delivered court_outbox rows are kept, e.g. 30d or 36h (at least 1h); 0 keeps them forever")
	cmd.Flags().DurationVar(&leaseTTL, "lease-ttl", home.DefaultLeaseTTL, "node lease TTL: how long after a crash this node's sessions are taken over")
	return cmd
}

// NewCourtdCmd returns the courtd command tree.
func NewCourtdCmd() *cobra.Command {
	root := &cobra.Command{
		Use:     "courtd",
		Short:   "courtmesh node daemon",
		Version: buildVersion(),
	}
	root.AddCommand(newDevCmd(), newEdgeCmd(), newHomeCmd(), newMigrateCmd(), newJudgeCmd(), newVersionCmd("courtd"))
	return root
}

// clusterFlags are how a node joins the cluster.
type clusterFlags struct{ adminAddr string }

func (f *clusterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.adminAddr, "admin-addr", "127.0.0.1:0",
		"admin listener (HTTPS, operator certificates only; drain, undrain, pprof), announced in the membership; set a reachable address in production (empty: none)")
}

func (f *clusterFlags) config(dir directory.Membership, id *pki.Identity, logger *slog.Logger) clusterConfig {
	return clusterConfig{Membership: dir, AdminAddr: f.adminAddr, Identity: id, Logger: logger}
}
