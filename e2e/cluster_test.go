package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"courtmesh/directory/redistest"
	"courtmesh/home/store/pgtest"
)

// clusterOpts shapes a test cluster.
type clusterOpts struct {
	homes      int    // home nodes in us (default 1)
	timerScale string // COURT_TIMER_SCALE (default 1)
	homeArgs   []string
	homeEnv    []string // added to the homes' environment only
	edgeArgs   []string
	// relayAsia, when set, puts a UDP relay (c.relays, one per home) on the
	// asia edge's mesh links, to cut them.
	relayAsia bool
	// pgProxy, when set, is placed between the homes and Postgres.
	pgProxy bool
	// appSchema creates stand-ins of the app's tables (courtd migrate
	// --app-schema), so the homes run the app's checks against them;
	// without it they run as "Supabase not configured".
	appSchema bool
	// usEdgeRedisProxy, when set, is placed between the us edge and Redis.
	usEdgeRedisProxy bool
	// plain runs binaries built without the race detector.
	plain bool
	// noSeeds starts the edges without --home: they find the homes in the
	// membership.
	noSeeds bool
	// replica starts a Redis replica (c.replica) that both edges read the
	// directory from (REDIS_REPLICA_URL).
	replica bool
}

// cluster is courtmesh in its deployment shape: separate courtd processes
// for the us home nodes and the us and asia edges, on the real Redis and a
// Postgres schema of the test's own.
type cluster struct {
	usURL, asiaURL string
	env            []string
	homes          []*proc
	homeIDs        []string
	homeOps        []string // http://host:port of each home's ops endpoint
	edgeOps        map[string]string
	edges          map[string]*proc // by region
	pool           *pgxpool.Pool    // the test's schema
	redisPrefix    string
	pg             *tcpProxy          // between the homes and Postgres, when asked for
	relays         []*udpRelay        // between the asia edge and each home, when asked for
	usEdgeRedis    *tcpProxy          // between the us edge and Redis, when asked for
	replica        *redistest.Replica // the edges' replica, when asked for
	pkiDir         string             // the CA in ca/, each node's certificate in <node id>/
}

func startCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	if o.homes == 0 {
		o.homes = 1
	}
	if o.timerScale == "" {
		o.timerScale = "1"
	}
	bin := binaries(t, o.plain)
	redistest.Client(t) // fails under CI=true when Redis is down
	dbURL, pool := testSchema(t)
	var pg *tcpProxy
	if o.pgProxy {
		u, err := url.Parse(dbURL)
		require.NoError(t, err)
		pg = newTCPProxy(t, u.Host)
		u.Host = pg.addr()
		dbURL = u.String()
	}
	c := &cluster{pg: pg, pool: pool, redisPrefix: redistest.Prefix(t), edgeOps: map[string]string{}, edges: map[string]*proc{}}
	c.env = []string{
		"SUPABASE_JWT_SECRET=e2e-secret-" + t.Name(),
		"REDIS_URL=" + redistest.URL(),
		"DATABASE_URL=" + dbURL,
		"COURT_REDIS_PREFIX=" + c.redisPrefix,
		"COURT_TIMER_SCALE=" + o.timerScale,
		"COURT_WEBHOOK_SECRET=" + e2eWebhookSecret,
	}
	courtd := filepath.Join(bin, "courtd")
	migrate := []string{"migrate"}
	if o.appSchema {
		migrate = append(migrate, "--app-schema")
	} else {
		o.homeArgs = append([]string{"--require-app-schema=false"}, o.homeArgs...)
	}
	out, err := runWithEnv(c.env, courtd, migrate...)
	require.NoError(t, err, "courtd migrate: %s", out)

	pkiDir := t.TempDir()
	c.pkiDir = pkiDir
	ctl := filepath.Join(bin, "courtctl")
	_, err = runWithEnv(nil, ctl, "ca", "create", "--dir", filepath.Join(pkiDir, "ca"))
	require.NoError(t, err)
	var homeFlags, relayFlags []string
	for i := 1; i <= o.homes; i++ {
		c.homeIDs = append(c.homeIDs, fmt.Sprintf("home-us-%d", i))
	}
	certs := [][3]string{{"edge-us-1", "edge", "us"}, {"edge-asia-1", "edge", "asia"}}
	for _, id := range c.homeIDs {
		certs = append(certs, [3]string{id, "home", "us"})
	}
	for _, n := range certs {
		out, err := runWithEnv(nil, ctl, "cert", "create", "--ca-dir", filepath.Join(pkiDir, "ca"),
			"--node", n[0], "--role", n[1], "--region", n[2], "--out", filepath.Join(pkiDir, n[0]))
		require.NoError(t, err, "%s", out)
	}
	for _, id := range c.homeIDs {
		addr, ops := freePort(t, "udp"), freePort(t, "tcp")
		c.homeOps = append(c.homeOps, "http://"+ops)
		args := append([]string{"home", "--node-id", id, "--region", "us", "--tls-dir", filepath.Join(pkiDir, id),
			"--mesh-addr", addr, "--ops-addr", ops, "--judge", "dev"}, o.homeArgs...)
		c.homes = append(c.homes, start(t, id, courtd, append(slices.Clone(c.env), o.homeEnv...), args...))
		if !o.noSeeds {
			homeFlags = append(homeFlags, "--home", "us:"+id+"@"+addr)
		}
		if o.relayAsia {
			r := newUDPRelay(t, addr)
			c.relays = append(c.relays, r)
			relayFlags = append(relayFlags, "--home", "us:"+id+"@"+r.addr())
		}
	}
	edgeEnv := c.env
	if o.replica {
		c.replica = redistest.StartReplica(t, "")
		edgeEnv = append(slices.Clone(c.env), "REDIS_REPLICA_URL="+c.replica.URL)
	}
	for _, e := range []struct{ node, region string }{{"edge-us-1", "us"}, {"edge-asia-1", "asia"}} {
		addr, ops := freePort(t, "tcp"), freePort(t, "tcp")
		c.edgeOps[e.region] = "http://" + ops
		homes := homeFlags
		if e.region == "asia" && o.relayAsia {
			homes = relayFlags
		}
		args := append([]string{"edge", "--node-id", e.node, "--region", e.region,
			"--tls-dir", filepath.Join(pkiDir, e.node), "--addr", addr, "--ops-addr", ops}, append(slices.Clone(homes), o.edgeArgs...)...)
		env := edgeEnv
		if e.region == "us" && o.usEdgeRedisProxy {
			u, err := url.Parse(redistest.URL())
			require.NoError(t, err)
			c.usEdgeRedis = newTCPProxy(t, u.Host)
			u.Host = c.usEdgeRedis.addr()
			env = append(slices.Clone(edgeEnv), "REDIS_URL="+u.String())
		}
		c.edges[e.region] = start(t, e.node, courtd, env, args...)
		waitReady(t, "http://"+addr, 20*time.Second)
		if e.region == "us" {
			c.usURL = "http://" + addr
		} else {
			c.asiaURL = "http://" + addr
		}
	}
	return c
}

// nodeEnv is the environment of the JS scenarios.
func (c *cluster) nodeEnv() []string {
	return append([]string{"US_URL=" + c.usURL, "ASIA_URL=" + c.asiaURL}, c.env...)
}

func runWithEnv(env []string, bin string, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(cmd.Environ(), env...)
	return cmd.CombinedOutput()
}

// testSchema creates a Postgres schema for the test and returns a
// DATABASE_URL whose search_path is it, and a pool on it. The schema is
// dropped at cleanup.
func testSchema(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	pgtest.Empty(t) // fails under CI=true when Postgres is down
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "e2e_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgtest.URL())
	require.NoError(t, err)
	_, err = admin.Exec(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	admin.Close(ctx)
	u, err := url.Parse(pgtest.URL())
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	pool, err := pgxpool.New(ctx, u.String())
	require.NoError(t, err)
	t.Cleanup(func() {
		pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if admin, err := pgx.Connect(ctx, pgtest.URL()); err == nil {
			_, _ = admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			admin.Close(ctx)
		}
	})
	return u.String(), pool
}

// waitReady polls an edge's /readyz until it reports ready (its mesh link to
// a home is up).
func waitReady(t *testing.T, base string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond) // polling a process that is starting
	}
	t.Fatalf("%s not ready within %v", base, timeout)
}
