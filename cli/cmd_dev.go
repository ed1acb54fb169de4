package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/home"
	"courtmesh/home/outbox"
	"courtmesh/home/store"
	"courtmesh/mesh"
	"courtmesh/mesh/meshtest"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
	"courtmesh/token"
)

type devFlags struct {
	usAddr, asiaAddr, meshAddr string
	wan                        bool
	wanRedisAddr               string
	verbose                    bool
	judge                      judgeFlags
	webhook                    webhookFlags
	opsAddr                    string
	jwksAddr                   string
	app                        appFlags
}

func newDevCmd() *cobra.Command {
	var f devFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole mesh in one process: edges in us and asia, a home in us",
		Long: `dev starts, in one process, an edge in us and one in asia and a home in us,
connected over real QUIC with mutual TLS on loopback (certificates made in a
temporary directory), with the dev judge. With REDIS_URL unset the directory
is an embedded in-memory stand-in, and with DATABASE_URL unset so is the
session store; with them set, the real Redis and Postgres (migrated at
start).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDev(cmd, f) },
	}
	cmd.Flags().StringVar(&f.usAddr, "us-addr", "127.0.0.1:8080", "client listen address of the us edge")
	cmd.Flags().StringVar(&f.asiaAddr, "asia-addr", "127.0.0.1:8081", "client listen address of the asia edge")
	cmd.Flags().StringVar(&f.meshAddr, "mesh-addr", "127.0.0.1:0", "QUIC listen address of the us home")
	cmd.Flags().BoolVar(&f.wan, "wan", false, "simulate the WAN: mesh links between regions, and the asia edge's Redis traffic (with REDIS_URL set), carry the RTT of regions/")
	cmd.Flags().StringVar(&f.wanRedisAddr, "wan-redis-addr", "127.0.0.1:0", "with --wan and REDIS_URL: listen address of the asia edge's path to the Redis primary (a replica in asia replicates through it)")
	cmd.Flags().BoolVar(&f.verbose, "verbose", false, "debug logs")
	f.judge.register(cmd, "dev")
	f.webhook.register(cmd, webhookNone)
	f.app.register(cmd, false)
	cmd.Flags().StringVar(&f.jwksAddr, "jwks-addr", "127.0.0.1:8079", "listen address of the dev JWKS that verifies the tokens of 'courtctl token --alg ES256' (used when SUPABASE_URL is unset)")
	cmd.Flags().StringVar(&f.opsAddr, "ops-addr", "", "address of /metrics, /healthz and /readyz for the whole dev mesh (empty: none)")
	return cmd
}

func runDev(cmd *cobra.Command, f devFlags) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := newLogger(level)
	scale, err := timerScale()
	if err != nil {
		return usageError{err}
	}
	secret, devSecret, _ := jwtSecret(true)
	dir, embedded, closeDir, err := openDirectory(true)
	if err != nil {
		return err
	}
	defer closeDir()
	obCfg, err := f.webhook.config(outbox.Config{Logger: logger})
	if err != nil {
		return err
	}
	st, ob, pool, closeStore, err := openDevStore(ctx, obCfg)
	if err != nil {
		return err
	}
	defer closeStore()
	appSrc, scr, err := f.app.open(ctx, pool, logger)
	if err != nil {
		return err
	}
	j, err := f.judge.open()
	if err != nil {
		return err
	}

	certDir, err := os.MkdirTemp("", "courtmesh-dev-pki-")
	if err != nil {
		return fmt.Errorf("make cert dir: %w", err)
	}
	defer os.RemoveAll(certDir)
	ids, err := pki.DevCluster(certDir,
		pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"},
		pki.Claims{ID: "edge-asia-1", Role: wire.RoleEdge, Region: "asia"})
	if err != nil {
		return fmt.Errorf("make dev certificates: %w", err)
	}

	catalog := regions.Default()
	listenFor := func(string) func(string, string) (net.PacketConn, error) { return nil }
	reg := newOpsRegistry()
	asiaDir, asiaRedis := directory.Store(dir), ""
	if f.wan {
		wan := meshtest.NewNetwork(catalog)
		listenFor = wan.ListenPacket
		if !embedded {
			w, err := openWANRedis(wan, catalog, "asia", os.Getenv(envRedisURL), f.wanRedisAddr,
				logger, prometheus.WrapRegistererWith(prometheus.Labels{"node": "edge-asia-1"}, reg))
			if err != nil {
				return err
			}
			defer w.Close()
			asiaDir, asiaRedis = w.Dir, w.Proxy
		}
	}

	homeRole, err := newHomeRole(homeRoleConfig{
		NodeID: "home-us-1", Region: "us", MeshAddr: f.meshAddr, Identity: ids["home-us-1"],
		Directory: dir, Store: st, Judge: j, App: appSrc, Screen: scr, Outbox: ob, TimerScale: scale, ListenPacket: listenFor("us"),
		Logger: logger, Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"node": "home-us-1"}, reg),
	})
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return homeRole.run(gctx) })
	g.Go(func() error { return runOps(gctx, f.opsAddr, reg, homeRole.ready, logger) })
	select {
	case <-homeRole.node.Ready():
	case <-gctx.Done():
		return g.Wait()
	}
	jwksURL, err := startDevJWKS(gctx, g, f.jwksAddr, logger)
	if err != nil {
		return err
	}
	verifier, err := edgeVerifier(gctx, secret, jwksURL, logger)
	if err != nil {
		return err
	}
	homes := []mesh.Peer{{NodeID: "home-us-1", Region: "us", Addr: homeRole.node.Addr().String()}}

	var edges []*edgeRole
	for _, e := range []struct {
		id, region, addr string
		dir              directory.Store
	}{
		{"edge-us-1", "us", f.usAddr, dir},
		{"edge-asia-1", "asia", f.asiaAddr, asiaDir},
	} {
		r, err := newEdgeRole(edgeRoleConfig{
			NodeID: e.id, Region: e.region, ClientAddr: e.addr, Identity: ids[e.id], Homes: homes,
			Verifier: verifier, Directory: e.dir, ListenPacket: listenFor(e.region),
			Logger: logger, Registerer: prometheus.WrapRegistererWith(prometheus.Labels{"node": e.id}, reg),
		})
		if err != nil {
			return err
		}
		edges = append(edges, r)
		g.Go(func() error { return r.run(gctx) })
	}
	for i, e := range edges {
		select {
		case <-e.edge.Ready():
		case <-gctx.Done():
			return g.Wait()
		}
		fmt.Fprintf(out, "edge %s http://%s\n", []string{"us", "asia"}[i], e.edge.Addr())
	}
	printDevHelp(out, devInfo{embeddedRedis: embedded, embeddedPG: ob == nil, devSecret: devSecret, jwks: jwksURL, wan: f.wan, wanRedis: asiaRedis, scale: scale, outbox: obCfg})
	return g.Wait()
}

// openDevStore opens the session store of `courtd dev`: Postgres at
// DATABASE_URL, migrated, with its outbox dispatcher (obCfg, on the pool)
// and the pool, or the in-memory stand-in when DATABASE_URL is unset (outbox
// and pool nil).
func openDevStore(ctx context.Context, obCfg outbox.Config) (home.Store, *outbox.Dispatcher, *pgxpool.Pool, func(), error) {
	logger := obCfg.Logger
	pool, err := openPool(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if pool == nil {
		st, err := openStore(nil, true, logger)
		return st, nil, nil, func() {}, err
	}
	if err := store.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, nil, nil, err
	}
	st, err := openStore(pool, false, logger)
	if err != nil {
		pool.Close()
		return nil, nil, nil, nil, err
	}
	obCfg.DB = pool
	ob, err := outbox.New(obCfg)
	if err != nil {
		pool.Close()
		return nil, nil, nil, nil, err
	}
	return st, ob, pool, pool.Close, nil
}

// startDevJWKS serves the dev JWKS on addr in g and returns its base URL,
// or "" when SUPABASE_URL is set (the project's own JWKS is used then).
func startDevJWKS(ctx context.Context, g *errgroup.Group, addr string, logger *slog.Logger) (string, error) {
	if os.Getenv(envSupabaseURL) != "" {
		return "", nil
	}
	h, err := devJWKSHandler()
	if err != nil {
		return "", err
	}
	bound := make(chan string, 1)
	g.Go(func() error { return serveHTTP(ctx, addr, h, func(a string) { bound <- a }) })
	select {
	case a := <-bound:
		return token.JWKSOf("http://" + a), nil
	case <-ctx.Done():
		return "", fmt.Errorf("dev JWKS: %w", ctx.Err())
	}
}
