package meshtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"courtmesh/mesh"
	"courtmesh/mesh/meshtest"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const usAsiaRTT = 150 * time.Millisecond

// echo answers every request and records events in order.
type echo struct {
	mu     sync.Mutex
	events []*wire.Event
}

func (e *echo) HandleRequest(context.Context, mesh.PeerInfo, *wire.Request) (*wire.Response, error) {
	return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
}

func (e *echo) HandleEvent(_ mesh.PeerInfo, ev *wire.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.events = append(e.events, ev)
}

func (e *echo) snapshot() []*wire.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*wire.Event(nil), e.events...)
}

type pairNodes struct {
	wan        *meshtest.Network
	home, edge *mesh.Node
	edgeH      *echo
}

// startPair runs a home in us and an edge in asia that dials it, over wan.
func startPair(t *testing.T, wan *meshtest.Network, linkTimeout time.Duration) pairNodes {
	t.Helper()
	ids, err := pki.DevCluster(t.TempDir(),
		pki.Claims{ID: "home-us", Role: wire.RoleHome, Region: "us"},
		pki.Claims{ID: "edge-asia", Role: wire.RoleEdge, Region: "asia"})
	require.NoError(t, err)
	log := slog.New(slog.NewTextHandler(t.Output(), nil))
	cfg := func(id, region string, role wire.Role, h mesh.Handler) mesh.Config {
		return mesh.Config{
			Region: region, Role: role, Identity: ids[id], Handler: h,
			ListenPacket: wan.ListenPacket(region),
			PingInterval: 100 * time.Millisecond, LinkTimeout: linkTimeout, RequestTimeout: 2 * time.Second,
			Logger: log.With("test_node", id),
		}
	}
	hc := cfg("home-us", "us", wire.RoleHome, &echo{})
	hc.ListenAddr = "127.0.0.1:0"
	home := run(t, hc)
	edgeH := &echo{}
	ec := cfg("edge-asia", "asia", wire.RoleEdge, edgeH)
	ec.Peers = []mesh.Peer{{NodeID: "home-us", Region: "us", Addr: home.Addr().String()}}
	edge := run(t, ec)
	waitFor(t, 5*time.Second, func() error { return linkUp(home, "edge-asia") })
	return pairNodes{wan: wan, home: home, edge: edge, edgeH: edgeH}
}

func run(t *testing.T, cfg mesh.Config) *mesh.Node {
	t.Helper()
	n, err := mesh.New(cfg)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- n.Run(context.Background()) }()
	t.Cleanup(func() {
		require.NoError(t, n.Close())
		require.NoError(t, <-errc)
	})
	select {
	case <-n.Ready():
	case err := <-errc:
		t.Fatalf("run: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("not ready")
	}
	return n
}

func linkUp(n *mesh.Node, id string) error {
	for _, p := range n.Peers() {
		if p.NodeID == id && p.Up {
			return nil
		}
	}
	return fmt.Errorf("%s: link to %s not up", n.NodeID(), id)
}

// waitFor polls check until it returns nil or total passes.
func waitFor(t *testing.T, total time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for err := check(); err != nil; err = check() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %v", total, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRequestRTT(t *testing.T) {
	t.Parallel()
	p := startPair(t, meshtest.NewNetwork(regions.Default()), time.Second)
	for range 3 {
		start := time.Now()
		_, err := p.edge.Request(t.Context(), "home-us", &wire.Request{Event: "court:state"})
		require.NoError(t, err)
		rtt := time.Since(start)
		t.Logf("request RTT us-asia: %v", rtt)
		require.GreaterOrEqual(t, rtt, usAsiaRTT-10*time.Millisecond)
		require.Less(t, rtt, 3*usAsiaRTT)
	}
	waitFor(t, 2*time.Second, func() error {
		for _, ps := range p.edge.Peers() {
			if ps.RTT >= usAsiaRTT-10*time.Millisecond {
				return nil
			}
		}
		return errors.New("ping RTT not measured yet")
	})
}

func TestPartitionAndHeal(t *testing.T) {
	t.Parallel()
	const linkTimeout = 600 * time.Millisecond
	p := startPair(t, meshtest.NewNetwork(regions.Default()), linkTimeout)
	_, err := p.edge.Request(t.Context(), "home-us", &wire.Request{Event: "court:state"})
	require.NoError(t, err)

	p.wan.Partition("us", "asia")
	start := time.Now()
	waitFor(t, linkTimeout+time.Second, func() error {
		_, err := p.edge.Request(t.Context(), "home-us", &wire.Request{Event: "court:state"})
		var werr *wire.Error
		if errors.As(err, &werr) && werr.Code == wire.CodeUnavailable {
			return nil
		}
		return fmt.Errorf("request during partition: %w", err)
	})
	t.Logf("unavailable after %v", time.Since(start))
	// Once down, it fails fast.
	quick := time.Now()
	_, err = p.edge.Request(t.Context(), "home-us", &wire.Request{Event: "court:state"})
	require.Error(t, err)
	require.Less(t, time.Since(quick), 50*time.Millisecond)

	p.wan.Heal("us", "asia")
	waitFor(t, 10*time.Second, func() error {
		_, err := p.edge.Request(t.Context(), "home-us", &wire.Request{Event: "court:state"})
		return err
	})
	require.NoError(t, p.home.SendEvent("edge-asia", &wire.Event{UserID: "u", Name: "court:state", Payload: json.RawMessage(`{}`), SessionID: "s", Version: 1}))
	waitFor(t, 2*time.Second, func() error {
		if len(p.edgeH.snapshot()) == 0 {
			return errors.New("no event after heal")
		}
		return nil
	})
}

func TestEventsInOrderOverWAN(t *testing.T) {
	t.Parallel()
	p := startPair(t, meshtest.NewNetwork(regions.Default()), time.Second)
	const n = 300
	start := time.Now()
	for v := 1; v <= n; v++ {
		for _, s := range []string{"s1", "s2", "s3"} {
			ev := &wire.Event{UserID: "u-" + s, Name: "court:state", Payload: json.RawMessage(`{"v":1}`), SessionID: s, Version: uint64(v)}
			require.NoError(t, p.home.SendEvent("edge-asia", ev))
		}
	}
	waitFor(t, 5*time.Second, func() error {
		if got := len(p.edgeH.snapshot()); got != 3*n {
			return fmt.Errorf("%d of %d events", got, 3*n)
		}
		return nil
	})
	elapsed := time.Since(start)
	t.Logf("%d events over the WAN in %v", 3*n, elapsed)
	require.GreaterOrEqual(t, elapsed, usAsiaRTT/2)
	next := map[string]uint64{}
	for _, ev := range p.edgeH.snapshot() {
		next[ev.SessionID]++
		require.Equal(t, next[ev.SessionID], ev.Version, "session %s", ev.SessionID)
	}
}

func TestConnDelaysAndDrops(t *testing.T) {
	t.Parallel()
	wan := meshtest.NewNetwork(regions.Default())
	us, err := wan.ListenPacket("us")("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer us.Close()
	asia, err := wan.ListenPacket("asia")("udp", ":0")
	require.NoError(t, err)
	defer asia.Close()
	_, err = wan.ListenPacket("mars")("udp", ":0")
	require.ErrorIs(t, err, meshtest.ErrUnknownRegion)

	recv := func(c net.PacketConn, within time.Duration) (string, error) {
		_ = c.SetReadDeadline(time.Now().Add(within))
		b := make([]byte, 64)
		n, _, err := c.ReadFrom(b)
		return string(b[:n]), err
	}
	start := time.Now()
	for i := range 5 {
		_, err := us.WriteTo([]byte(fmt.Sprint(i)), asia.LocalAddr())
		require.NoError(t, err)
	}
	for i := range 5 {
		got, err := recv(asia, time.Second)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprint(i), got, "order kept")
	}
	require.GreaterOrEqual(t, time.Since(start), usAsiaRTT/2)

	wan.Partition("asia", "us")
	_, err = us.WriteTo([]byte("lost"), asia.LocalAddr())
	require.NoError(t, err)
	_, err = recv(asia, usAsiaRTT)
	require.True(t, isTimeout(err), "partitioned packet delivered: %v", err)
	wan.Heal("us", "asia")

	wan.SetLoss("us", "asia", 1)
	_, err = asia.WriteTo([]byte("lost"), us.LocalAddr())
	require.NoError(t, err)
	_, err = recv(us, usAsiaRTT)
	require.True(t, isTimeout(err), "lost packet delivered: %v", err)
	wan.SetLoss("us", "asia", 0)

	wan.SetRTTScale(0)
	start = time.Now()
	_, err = asia.WriteTo([]byte("fast"), us.LocalAddr())
	require.NoError(t, err)
	got, err := recv(us, time.Second)
	require.NoError(t, err)
	require.Equal(t, "fast", got)
	require.Less(t, time.Since(start), usAsiaRTT/2)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
