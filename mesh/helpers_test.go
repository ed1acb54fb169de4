package mesh_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

func TestMain(m *testing.M) {
	if os.Getenv(wakeEchoEnv) != "" {
		wakeEcho()
		return
	}
	*mesh.DialBackoffMin = 20 * time.Millisecond
	*mesh.DialBackoffMax = 200 * time.Millisecond
	goleak.VerifyTestMain(m)
}

// Short liveness settings for tests on loopback.
const (
	testPing        = 100 * time.Millisecond
	testLinkTimeout = time.Second
)

func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelInfo
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelWarn // a benchmark's output is its results
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: level}))
}

// identities makes a fresh cluster CA and one identity per id: a home in us
// for an id starting with "home", an edge in asia otherwise (what startHome
// and startEdge run).
func identities(t testing.TB, ids ...string) map[string]*pki.Identity {
	t.Helper()
	var claims []pki.Claims
	for _, id := range ids {
		c := pki.Claims{ID: id, Role: wire.RoleEdge, Region: "asia"}
		if strings.HasPrefix(id, "home") {
			c.Role, c.Region = wire.RoleHome, "us"
		}
		claims = append(claims, c)
	}
	m, err := pki.DevCluster(t.TempDir(), claims...)
	require.NoError(t, err)
	return m
}

// recorder is a Handler that answers requests with respond (echo by
// default) and records events.
type recorder struct {
	respond func(ctx context.Context, from mesh.PeerInfo, req *wire.Request) (*wire.Response, error)

	mu     sync.Mutex
	froms  []mesh.PeerInfo
	events []*wire.Event
}

func (r *recorder) HandleRequest(ctx context.Context, from mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
	r.mu.Lock()
	r.froms = append(r.froms, from)
	r.mu.Unlock()
	if r.respond != nil {
		return r.respond(ctx, from, req)
	}
	return &wire.Response{Ack: []byte(fmt.Sprintf(`{"ok":true,"event":%q}`, req.Event))}, nil
}

func (r *recorder) HandleEvent(from mesh.PeerInfo, ev *wire.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) eventCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) eventsOf(session string) []*wire.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*wire.Event
	for _, ev := range r.events {
		if ev.SessionID == session {
			out = append(out, ev)
		}
	}
	return out
}

// nodeConfig returns a config with test timings for identity id.
func nodeConfig(t testing.TB, ident *pki.Identity, region string, role wire.Role, h mesh.Handler) mesh.Config {
	return mesh.Config{
		Region:         region,
		Role:           role,
		Identity:       ident,
		Handler:        h,
		PingInterval:   testPing,
		LinkTimeout:    testLinkTimeout,
		RequestTimeout: 2 * time.Second,
		Logger:         testLogger(t).With("test_node", ident.ID),
		Registerer:     prometheus.NewRegistry(),
	}
}

// startNode runs a node until the test ends and waits until it is ready.
func startNode(t testing.TB, cfg mesh.Config) *mesh.Node {
	t.Helper()
	return startNodes(t, cfg)[0]
}

// startNodes starts several nodes at once and waits until all are ready.
func startNodes(t testing.TB, cfgs ...mesh.Config) []*mesh.Node {
	t.Helper()
	nodes := make([]*mesh.Node, len(cfgs))
	errcs := make([]chan error, len(cfgs))
	for i, cfg := range cfgs {
		n, err := mesh.New(cfg)
		require.NoError(t, err)
		errc := make(chan error, 1)
		go func() { errc <- n.Run(context.Background()) }()
		t.Cleanup(func() {
			require.NoError(t, n.Close())
			require.NoError(t, <-errc)
		})
		nodes[i], errcs[i] = n, errc
	}
	for i, n := range nodes {
		select {
		case <-n.Ready():
		case err := <-errcs[i]:
			t.Fatalf("node %s stopped: %v", n.NodeID(), err)
		case <-time.After(5 * time.Second):
			t.Fatalf("node %s not ready", n.NodeID())
		}
	}
	return nodes
}

// startHome runs a home node listening on addr.
func startHome(t testing.TB, ident *pki.Identity, addr string, h mesh.Handler) *mesh.Node {
	cfg := nodeConfig(t, ident, "us", wire.RoleHome, h)
	cfg.ListenAddr = addr
	return startNode(t, cfg)
}

// startEdge runs an edge node that dials home.
func startEdge(t testing.TB, ident *pki.Identity, home *mesh.Node, h mesh.Handler) *mesh.Node {
	cfg := nodeConfig(t, ident, "asia", wire.RoleEdge, h)
	cfg.Peers = []mesh.Peer{{NodeID: home.NodeID(), Region: "us", Addr: home.Addr().String()}}
	return startNode(t, cfg)
}

// eventually polls check every `every` until it returns nil or total
// passes.
func eventually(t testing.TB, total, every time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", total, err)
		}
		time.Sleep(every)
	}
}

func peerStatus(n *mesh.Node, id string) (mesh.PeerStatus, bool) {
	for _, p := range n.Peers() {
		if p.NodeID == id {
			return p, true
		}
	}
	return mesh.PeerStatus{}, false
}

// linkIs returns a check that n's link to id is up (or down).
func linkIs(n *mesh.Node, id string, up bool) func() error {
	return func() error {
		p, ok := peerStatus(n, id)
		if !ok {
			return fmt.Errorf("%s does not know %s", n.NodeID(), id)
		}
		if p.Up != up {
			return fmt.Errorf("%s: link to %s up=%v, want %v", n.NodeID(), id, p.Up, up)
		}
		return nil
	}
}

func wireCode(t *testing.T, err error) string {
	t.Helper()
	var werr *wire.Error
	require.True(t, errors.As(err, &werr), "want a *wire.Error, got %v", err)
	return werr.Code
}

// freeUDPAddr returns a loopback address with a port free a moment ago.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	return addr
}
