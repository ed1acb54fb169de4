package cli

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
	"courtmesh/edge"
	"courtmesh/home/judge"
	"courtmesh/home/store"
	"courtmesh/loadgen"
	"courtmesh/mesh"
	"courtmesh/mesh/meshtest"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
	"courtmesh/token"
)

// wanMesh is the dev topology (home us, edges us and asia) wired as courtd
// wires it, on the real Redis, with every mesh packet going through the WAN
// simulator, and the asia edge's Redis traffic too: the primary is in us.
type wanMesh struct {
	wan            *meshtest.Network
	usURL, asiaURL string
	secret         []byte
}

// wanOpts shapes a wanMesh.
type wanOpts struct {
	// replica gives the asia edge a Redis replica in asia, replicating from
	// the primary across the WAN, to read the directory from.
	replica bool
	// holdPresence, when set, holds the asia edge's presence writes until
	// it is closed: they have not reached the primary yet.
	holdPresence chan struct{}
}

// heldPresence holds a directory's presence writes until release is closed.
type heldPresence struct {
	directory.Store
	release <-chan struct{}
}

func (h heldPresence) AddPresence(ctx context.Context, edgeNode string, ttl time.Duration, users ...string) error {
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	return h.Store.AddPresence(ctx, edgeNode, ttl, users...)
}

func startWANMesh(t *testing.T, o wanOpts) *wanMesh {
	t.Helper()
	prefix := redistest.Prefix(t)
	dir, err := directory.NewRedis(directory.RedisConfig{Client: redistest.Client(t), Prefix: prefix})
	require.NoError(t, err)
	ids, err := pki.DevCluster(t.TempDir(),
		pki.Claims{ID: "home-us-1", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "edge-us-1", Role: wire.RoleEdge, Region: "us"},
		pki.Claims{ID: "edge-asia-1", Role: wire.RoleEdge, Region: "asia"})
	require.NoError(t, err)
	w := &wanMesh{wan: meshtest.NewNetwork(regions.Default()), secret: []byte("wan-test-secret")}
	asiaDir := wanDirectory(t, w.wan, "asia", prefix, o.replica)
	if o.holdPresence != nil {
		asiaDir = heldPresence{Store: asiaDir, release: o.holdPresence}
	}
	logger := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 3)
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
	})
	run := func(f func(context.Context) error) {
		go func() { _ = f(ctx); done <- struct{}{} }()
	}

	dev, err := judge.NewDev(judge.DevConfig{})
	require.NoError(t, err)
	home, err := newHomeRole(homeRoleConfig{NodeID: "home-us-1", Region: "us", MeshAddr: "127.0.0.1:0",
		Identity: ids["home-us-1"], Directory: dir, Store: store.NewMemory(), Judge: dev, TimerScale: 1,
		ListenPacket: w.wan.ListenPacket("us"), Logger: logger})
	require.NoError(t, err)
	run(home.run)
	<-home.node.Ready()
	homes := []mesh.Peer{{NodeID: "home-us-1", Region: "us", Addr: home.node.Addr().String()}}
	for _, e := range []struct {
		id, region string
		dir        directory.Store
	}{{"edge-us-1", "us", dir}, {"edge-asia-1", "asia", asiaDir}} {
		r, err := newEdgeRole(edgeRoleConfig{NodeID: e.id, Region: e.region, ClientAddr: "127.0.0.1:0",
			Identity: ids[e.id], Homes: homes, Verifier: &token.Verifier{Secret: w.secret}, Directory: e.dir,
			ListenPacket: w.wan.ListenPacket(e.region), Logger: logger})
		require.NoError(t, err)
		run(r.run)
		<-r.edge.Ready()
		require.Eventually(t, func() bool { return len(meshForEdge{node: r.node, view: &membersView{}}.HomeNodes("us")) == 1 },
			10*time.Second, 20*time.Millisecond, "%s links to the home", e.id)
		if e.region == "us" {
			w.usURL = "http://" + r.edge.Addr().String()
		} else {
			w.asiaURL = "http://" + r.edge.Addr().String()
		}
	}
	return w
}

// wanDirectory is the directory of a node in region (not the primary's)
// on the real Redis: the primary through a TCP proxy across wan, and, with
// replica, a replica in region that replicates through another.
func wanDirectory(t *testing.T, wan *meshtest.Network, region, prefix string, replica bool) directory.Store {
	t.Helper()
	u, err := url.Parse(redistest.URL())
	require.NoError(t, err)
	dial := func(addr string) rueidis.Client {
		c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: []string{addr}})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		return c
	}
	proxy := func() string {
		p, err := wan.ProxyTCP(region, "us", u.Host, "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { p.Close() })
		return p.Addr()
	}
	cfg := directory.RedisConfig{Client: dial(proxy()), Prefix: prefix}
	if replica {
		rep := redistest.StartReplica(t, proxy())
		cfg.Replica = dial(strings.TrimPrefix(rep.URL, "redis://"))
	}
	d, err := directory.NewRedis(cfg)
	require.NoError(t, err)
	return d
}

// user connects a new user to url and registers it.
func (w *wanMesh) user(t *testing.T, url string) (*loadgen.Client, string) {
	t.Helper()
	c, id := dialUser(t, w.secret, url)
	requireAck(t, c, "court:register", map[string]string{"userId": id}, true)
	return c, id
}

// dialUser connects a new user, with a token signed with secret, to url.
func dialUser(t *testing.T, secret []byte, url string) (*loadgen.Client, string) {
	t.Helper()
	id := newTestUUID(t)
	tok, err := token.Mint(secret, id, time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := loadgen.Dial(ctx, url, tok)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c, id
}

func newTestUUID(t *testing.T) string {
	t.Helper()
	var b [16]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

type ack struct {
	OK    bool           `json:"ok"`
	Error string         `json:"error"`
	State *loadgen.State `json:"state"`
}

func emit(t *testing.T, c *loadgen.Client, event string, payload any) (ack, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	t0 := time.Now()
	raw, err := c.Emit(ctx, event, payload)
	require.NoError(t, err, "%s", event)
	var a ack
	require.NoError(t, json.Unmarshal(raw, &a))
	return a, time.Since(t0)
}

func requireAck(t *testing.T, c *loadgen.Client, event string, payload any, ok bool) ack {
	t.Helper()
	a, _ := emit(t, c, event, payload)
	require.Equal(t, ok, a.OK, "%s ack: %+v", event, a)
	return a
}

// states reads court:state pushes until pred matches, and returns the
// session versions seen on the way.
func states(t *testing.T, c *loadgen.Client, pred func(loadgen.State) bool) []uint64 {
	t.Helper()
	var versions []uint64
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-c.States:
			if r.State.Session != nil {
				versions = append(versions, r.State.Session.Version)
			}
			if pred(r.State) {
				return versions
			}
		case <-deadline:
			t.Fatalf("no matching court:state within 10s; versions so far %v", versions)
		}
	}
}

// TestWANPartitionAndHeal runs a session between a partner on the us edge and
// one on the asia edge with 150 ms between the regions (mesh links and the
// asia edge's Redis alike, no replica), cuts asia off, and
// heals it: events arrive in order across the WAN, the asia actor gets a clear
// error within a bounded time during the partition, and the mesh recovers by
// itself.
func TestWANPartitionAndHeal(t *testing.T) {
	t.Parallel()
	w := startWANMesh(t, wanOpts{})
	a, _ := w.user(t, w.usURL)
	b, bID := w.user(t, w.asiaURL)

	requireAck(t, a, "court:serve", map[string]any{"partnerId": bID, "coupleId": nil, "judgeType": "swift"}, true)
	states(t, b, func(s loadgen.State) bool { return s.MyViewPhase == "PENDING_PARTNER" })
	accepted, took := emit(t, b, "court:accept", map[string]any{})
	require.True(t, accepted.OK)
	require.GreaterOrEqual(t, took, 140*time.Millisecond, "an asia action crosses the 150 ms us–asia RTT")
	versions := states(t, a, func(s loadgen.State) bool { return s.Phase == "EVIDENCE" })
	require.IsIncreasing(t, versions, "A's states arrive in version order")

	w.wan.Partition("us", "asia")
	failed, took := emit(t, b, "court:dismiss", map[string]any{})
	require.False(t, failed.OK)
	require.Equal(t, "Court service unavailable. Please try again.", failed.Error)
	// The action may wait on the directory's Redis, cut off too, before its
	// mesh request (which gives up after the mesh's 5 s); the edge's request
	// timeout bounds the whole action.
	require.Less(t, took, edge.DefaultRequestTimeout+time.Second, "the error comes within the edge's request timeout")

	w.wan.Heal("us", "asia")
	require.Eventually(t, func() bool {
		got, _ := emit(t, b, "court:register", map[string]any{})
		return got.OK && got.State != nil && got.State.Phase == "EVIDENCE"
	}, 30*time.Second, 200*time.Millisecond, "asia reaches the home again after the heal, without a restart")
	requireAck(t, b, "court:dismiss", map[string]any{}, true)
	states(t, a, func(s loadgen.State) bool { return s.Phase == "IDLE" })
}

// TestWANAsiaInRegion: with a replica in asia, an asia user's connect and
// register cross no ocean, and each action of an asia couple crosses it
// once, on the mesh: no Redis round trip to us rides on top (rate limits,
// lookups and presence are answered in asia or written after the ack).
// The RTT is scaled to 600 ms so that a busy machine's noise stays far
// below one crossing; the figures are in docs/benchmarks.md.
func TestWANAsiaInRegion(t *testing.T) {
	t.Parallel()
	const scale = 4
	rtt := scale * 150 * time.Millisecond
	w := startWANMesh(t, wanOpts{replica: true})
	w.wan.SetRTTScale(scale)
	t0 := time.Now()
	a, _ := w.user(t, w.asiaURL)
	require.Less(t, time.Since(t0), rtt/2, "connect and register of a user in no session stay in asia")
	b, bID := w.user(t, w.asiaURL)

	onceAcross := func(event string, c *loadgen.Client, payload any) {
		t.Helper()
		got, took := emit(t, c, event, payload)
		require.True(t, got.OK, "%s: %+v", event, got)
		require.GreaterOrEqual(t, took, rtt-10*time.Millisecond, "%s goes to the us home", event)
		require.Less(t, took, rtt*3/2, "%s crosses the ocean once", event)
	}
	onceAcross("court:serve", a, map[string]any{"partnerId": bID, "coupleId": nil, "judgeType": "swift"})
	states(t, b, func(s loadgen.State) bool { return s.MyViewPhase == "PENDING_PARTNER" })
	onceAcross("court:accept", b, map[string]any{})
	onceAcross("court:submit_evidence", a, map[string]string{"evidence": "e", "feelings": "f", "needs": "n"})
}

// TestWANServedBeforeThePartnersPresence serves a partner whose presence has
// not reached the Redis primary (its edge writes it after the register's
// ack, across the ocean): the partner gets the session's first state by the
// home's push, which fans a user not yet located out to every edge, not by
// the resync that follows the presence write. Its states stay in version
// order once the presence and that resync arrive.
func TestWANServedBeforeThePartnersPresence(t *testing.T) {
	t.Parallel()
	hold := make(chan struct{})
	w := startWANMesh(t, wanOpts{holdPresence: hold})
	released := false
	release := func() {
		if !released {
			released = true
			close(hold)
		}
	}
	t.Cleanup(release)
	a, _ := w.user(t, w.asiaURL)
	b, bID := w.user(t, w.asiaURL)
	requireAck(t, a, "court:serve", map[string]any{"partnerId": bID, "coupleId": nil, "judgeType": "swift"}, true)
	require.Equal(t, []uint64{1}, states(t, b, func(s loadgen.State) bool { return s.MyViewPhase == "PENDING_PARTNER" }),
		"b's first state arrives while its presence is held")

	release()
	requireAck(t, b, "court:accept", map[string]any{}, true)
	require.Equal(t, []uint64{2}, states(t, b, func(s loadgen.State) bool { return s.MyViewPhase == "EVIDENCE" }),
		"no version twice, none out of order")
}
