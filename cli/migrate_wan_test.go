package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
	"courtmesh/home/judge"
	"courtmesh/home/store"
	"courtmesh/home/store/pgtest"
	"courtmesh/loadgen"
	"courtmesh/mesh"
	"courtmesh/mesh/meshtest"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
	"courtmesh/token"
)

// twoHomeRegions is a test catalog in which eu, like us, may host homes.
const twoHomeRegions = `{
  "primary": "us",
  "regions": [
    {"name": "us",   "home": true,  "edge_port": 8080, "mesh_port": 7000},
    {"name": "asia", "home": false, "edge_port": 8081, "mesh_port": 7001},
    {"name": "eu",   "home": true,  "edge_port": 8082, "mesh_port": 7002}
  ],
  "rtt_ms": [
    {"a": "us", "b": "asia", "ms": 150},
    {"a": "us", "b": "eu",   "ms": 80},
    {"a": "eu", "b": "asia", "ms": 200}
  ],
  "intra_region_rtt_ms": 1
}`

// regionsMesh is a home in us and one in eu, each announced in the
// membership with its admin listener, and edges in us and asia, wired as
// courtd wires them, on the real Redis and a Postgres schema of the test's
// own, every mesh packet going through the WAN simulator.
type regionsMesh struct {
	usURL, asiaURL string
	secret         []byte
	pool           *pgxpool.Pool
	rdb            rueidis.Client
	prefix         string
	opDir          string // the operator's certificate, for courtctl
}

func startRegionsMesh(t *testing.T, timerScale float64) *regionsMesh {
	t.Helper()
	catalog, err := regions.Parse([]byte(twoHomeRegions))
	require.NoError(t, err)
	rdb, prefix := redistest.Client(t), redistest.Prefix(t)
	dir, err := directory.NewRedis(directory.RedisConfig{Client: rdb, Prefix: prefix})
	require.NoError(t, err)
	pool := pgtest.Pool(t)
	pkiDir := t.TempDir()
	ids, err := pki.DevCluster(pkiDir,
		pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "home-eu-1", Role: wire.RoleHome, Region: "eu"},
		pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"},
		pki.Claims{ID: "edge-asia-1", Role: wire.RoleEdge, Region: "asia"},
		pki.Claims{ID: "alice", Role: pki.RoleOperator})
	require.NoError(t, err)
	m := &regionsMesh{secret: []byte("regions-test-secret"), pool: pool, rdb: rdb, prefix: prefix, opDir: filepath.Join(pkiDir, "alice")}
	wan := meshtest.NewNetwork(catalog)
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	run := func(f func(context.Context) error) { wg.Go(func() { _ = f(ctx) }) }

	st, err := store.New(store.Config{DB: pool})
	require.NoError(t, err)
	var homes []mesh.Peer
	for _, h := range []struct{ id, region string }{{"home-us-1", "us"}, {"home-eu-1", "eu"}} {
		dev, err := judge.NewDev(judge.DevConfig{})
		require.NoError(t, err)
		r, err := newHomeRole(homeRoleConfig{NodeID: h.id, Region: h.region, MeshAddr: "127.0.0.1:0",
			Identity: ids[h.id], Directory: dir, Store: st, Judge: dev, TimerScale: timerScale,
			Cluster:      clusterConfig{Membership: dir, AdminAddr: "127.0.0.1:0", Identity: ids[h.id], Logger: logger},
			ListenPacket: wan.ListenPacket(h.region), Logger: logger})
		require.NoError(t, err)
		run(r.run)
		<-r.node.Ready()
		<-r.home.Ready()
		homes = append(homes, mesh.Peer{NodeID: h.id, Region: h.region, Addr: r.node.Addr().String()})
	}
	for _, e := range []struct {
		id, region string
		dir        directory.Store
	}{{"edge-us-1", "us", dir}, {"edge-asia-1", "asia", wanDirectory(t, wan, "asia", prefix, false)}} {
		r, err := newEdgeRole(edgeRoleConfig{NodeID: e.id, Region: e.region, ClientAddr: "127.0.0.1:0", Catalog: catalog,
			Identity: ids[e.id], Homes: homes, Verifier: &token.Verifier{Secret: m.secret}, Directory: e.dir,
			ListenPacket: wan.ListenPacket(e.region), Logger: logger})
		require.NoError(t, err)
		run(r.run)
		<-r.edge.Ready()
		require.Eventually(t, func() bool {
			v := meshForEdge{node: r.node, view: &membersView{}}
			return len(v.HomeNodes("us")) == 1 && len(v.HomeNodes("eu")) == 1
		}, 10*time.Second, 20*time.Millisecond, "%s links to both homes", e.id)
		if e.region == "us" {
			m.usURL = "http://" + r.edge.Addr().String()
		} else {
			m.asiaURL = "http://" + r.edge.Addr().String()
		}
	}
	require.Eventually(t, func() bool {
		ms, err := dir.Members(t.Context())
		return err == nil && len(ms) == 2 && ms[0].AdminAddr != "" && ms[1].AdminAddr != ""
	}, 10*time.Second, 50*time.Millisecond, "both homes announce their admin listener")
	return m
}

// partner is one client of the test: its socket, and every court:state
// pushed to it, recorded.
type partner struct {
	id   string
	c    *loadgen.Client
	mu   sync.Mutex
	seen []loadgen.State // guarded by mu
	wake chan struct{}
}

func (m *regionsMesh) partner(t *testing.T, url string) *partner {
	t.Helper()
	c, id := dialUser(t, m.secret, url)
	p := &partner{id: id, c: c, wake: make(chan struct{}, 1)}
	go func() {
		for {
			r, ok := c.Next()
			if !ok {
				return
			}
			p.mu.Lock()
			p.seen = append(p.seen, r.State)
			p.mu.Unlock()
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}()
	p.must(t, "court:register", map[string]string{"userId": id})
	return p
}

// must sends event and requires an ok ack within the edge's retry budget
// and a margin.
func (p *partner) must(t *testing.T, event string, payload any) *loadgen.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Second)
	defer cancel()
	raw, err := p.c.Emit(ctx, event, payload)
	require.NoError(t, err, "%s", event)
	var a ack
	require.NoError(t, json.Unmarshal(raw, &a), "%s", raw)
	require.True(t, a.OK, "%s: %s", event, a.Error)
	return a.State
}

// await waits up to 15 s for a pushed state matching pred.
func (p *partner) await(t *testing.T, what string, pred func(loadgen.State) bool) {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		p.mu.Lock()
		for _, s := range p.seen {
			if pred(s) {
				p.mu.Unlock()
				return
			}
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-deadline:
			t.Fatalf("%s: no court:state %s within 15s", p.id, what)
		}
	}
}

// versions returns the versions of session sid pushed to p, in order, and
// its last state of sid.
func (p *partner) versions(sid string) ([]uint64, loadgen.State) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var vs []uint64
	var last loadgen.State
	for _, s := range p.seen {
		if s.Session != nil && s.Session.ID == sid {
			vs, last = append(vs, s.Session.Version), s
		}
	}
	return vs, last
}

func inView(v string) func(loadgen.State) bool {
	return func(s loadgen.State) bool { return s.MyViewPhase == v }
}

// courtctl runs courtctl with args in this process and returns its output
// and exit code.
func courtctl(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := NewCourtctlCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	code := Execute(t.Context(), cmd)
	return out.String() + errOut.String(), code
}

// TestMigrateAcrossRegionsUnderWAN: under the WAN simulator (us–eu 80 ms,
// us–asia 150 ms, eu–asia 200 ms), a session whose partners are on the us
// and asia edges is moved live us→eu→us→eu→us by `courtctl migrate session
// --to REGION` while both partners take turns requesting and declining a
// settlement (some requests left to expire by their timer), then finish it.
// Each move changes the route's home region in Redis to the target's and
// takes the session at the next epoch; every action is acknowledged ok; the
// versions each partner is pushed strictly increase and both end on the same
// state; court_transitions holds every version once, in order, committed in
// both regions, with one request, decline and timer expiry for each one the
// partners saw.
func TestMigrateAcrossRegionsUnderWAN(t *testing.T) {
	const moves = 4
	m := startRegionsMesh(t, 0.01) // settlement 3 s, a phase 36 s
	t.Setenv("COURT_REDIS_PREFIX", m.prefix)
	t.Setenv("REDIS_URL", redistest.URL())
	t.Setenv(envCourtctlTLSDir, m.opDir)
	a, b := m.partner(t, m.usURL), m.partner(t, m.asiaURL)
	served := a.must(t, "court:serve", map[string]any{"partnerId": b.id, "coupleId": nil, "judgeType": "swift"})
	sid := served.Session.ID
	b.await(t, "PENDING_PARTNER", inView("PENDING_PARTNER"))
	b.must(t, "court:accept", map[string]any{})
	a.await(t, "EVIDENCE", inView("EVIDENCE"))

	// The partners spam until stop; every 4 s a request is left to expire.
	stop := make(chan struct{})
	var requests, declines, expiries int
	spammed := make(chan struct{})
	go func() {
		defer close(spammed)
		lastExpiry := time.Now()
		for round := 0; round < 2000; round++ {
			select {
			case <-stop:
				return
			default:
			}
			req, dec := a, b
			if round%2 == 1 {
				req, dec = b, a
			}
			asked := req.must(t, "court:request_settle", map[string]any{})
			requests++
			if time.Since(lastExpiry) >= 4*time.Second {
				req.await(t, "expired by its timer", func(s loadgen.State) bool {
					return s.Session != nil && s.Session.ID == sid && s.Session.Version > asked.Session.Version
				})
				expiries++
				lastExpiry = time.Now()
				continue
			}
			dec.must(t, "court:decline_settle", map[string]any{})
			declines++
		}
	}()

	region := "us"
	for i := 1; i <= moves; i++ {
		_, epoch, _ := routeFields(t, m, sid)
		to := map[string]string{"us": "eu", "eu": "us"}[region]
		out, code := courtctl(t, "migrate", "session", sid, "--to", to, "--wait", "-o", "json")
		require.Equal(t, exitOK, code, out)
		home, newEpoch, owner := routeFields(t, m, sid)
		require.Equal(t, to, home, "move %d: the route's home region is the target's", i)
		require.Equal(t, "home-"+to+"-1", owner)
		require.Equal(t, epoch+1, newEpoch, "move %d: taken at the next epoch", i)
		t.Logf("move %d to %s: %s", i, to, out)
		region = to
		time.Sleep(time.Second) // let the partners act a while in each region
	}
	close(stop)
	<-spammed
	require.Positive(t, expiries, "a settlement timer fired during the moves")

	a.must(t, "court:submit_evidence", map[string]string{"evidence": "e", "feelings": "f", "needs": "n"})
	b.must(t, "court:submit_evidence", map[string]string{"evidence": "e", "feelings": "f", "needs": "n"})
	for _, step := range []struct {
		view, event string
		payload     map[string]any
	}{
		{"PRIMING", "court:priming_complete", nil}, {"JOINT_MENU", "court:joint_ready", nil},
		{"RESOLUTION_SELECT", "court:resolution_pick", map[string]any{"resolutionId": "resolution_1"}},
		{"VERDICT", "court:accept_verdict", nil},
	} {
		a.await(t, step.view, inView(step.view))
		b.await(t, step.view, inView(step.view))
		a.must(t, step.event, step.payload)
		b.must(t, step.event, step.payload)
	}
	a.await(t, "CLOSED", inView("CLOSED"))
	b.await(t, "CLOSED", inView("CLOSED"))

	va, lastA := a.versions(sid)
	vb, lastB := b.versions(sid)
	for name, vs := range map[string][]uint64{"A": va, "B": vb} {
		for i := 1; i < len(vs); i++ {
			require.Greater(t, vs[i], vs[i-1], "%s: pushed versions strictly increase: %v", name, vs)
		}
	}
	require.Equal(t, "CLOSED", lastA.Phase)
	require.Equal(t, lastA.Phase, lastB.Phase, "same final state")
	require.Equal(t, lastA.Session.Version, lastB.Session.Version, "same final state")

	rows, err := m.pool.Query(t.Context(), `SELECT version, event, phase, node FROM court_transitions WHERE session_id = $1 ORDER BY version`, sid)
	require.NoError(t, err)
	counts, nodes := map[string]int{}, map[string]bool{}
	var n uint64
	for rows.Next() {
		var v int64
		var event, phase, node string
		require.NoError(t, rows.Scan(&v, &event, &phase, &node))
		n++
		require.Equal(t, n, uint64(v), "every version committed once, in order")
		counts[event]++
		nodes[node] = true
		if event == "timeout" && phase == "EVIDENCE" {
			counts["settlement expiry"]++
		}
	}
	require.NoError(t, rows.Err())
	require.Equal(t, requests, counts["request_settle"], "%v", counts)
	require.Equal(t, declines, counts["decline_settle"], "%v", counts)
	require.Equal(t, expiries, counts["settlement expiry"], "each settlement timer fired once, none lost: %v", counts)
	require.Equal(t, map[string]bool{"home-us-1": true, "home-eu-1": true}, nodes, "committed in both regions")
	require.Equal(t, 2, counts["accept_verdict"], "%v", counts)
	t.Logf("%d requests, %d declines, %d expiries over %d moves; transitions %v", requests, declines, expiries, moves, counts)
}

// routeFields reads the session's route from Redis: its home region, epoch
// and owner.
func routeFields(t *testing.T, m *regionsMesh, sid string) (home string, epoch uint64, owner string) {
	t.Helper()
	f, err := m.rdb.Do(t.Context(), m.rdb.B().Hgetall().Key(m.prefix+"route:"+sid).Build()).AsStrMap()
	require.NoError(t, err)
	epoch, err = strconv.ParseUint(f["epoch"], 10, 64)
	require.NoError(t, err, "route of %s: %v", sid, f)
	return f["home_region"], epoch, f["owner_node"]
}
