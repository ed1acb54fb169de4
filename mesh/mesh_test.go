package mesh_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/wire"
)

func TestRequestRoundTrip(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home-us-1", "edge-asia-1")
	homeH := &recorder{respond: func(_ context.Context, _ mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
		switch req.Event {
		case "court:not_owner":
			return nil, &wire.Error{Code: wire.CodeNotOwner, Reason: "session moved"}
		case "court:broken":
			return nil, errors.New("database on fire")
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`), SessionID: "s1", Version: 7}, nil
	}}
	home := startHome(t, ids["home-us-1"], "127.0.0.1:0", homeH)
	edgeH := &recorder{}
	edge := startEdge(t, ids["edge-asia-1"], home, edgeH)
	ctx := t.Context()

	t.Run("ok", func(t *testing.T) {
		resp, err := edge.Request(ctx, "home-us-1", &wire.Request{UserID: "u1", Event: "court:serve", EdgeNode: "edge-asia-1"})
		require.NoError(t, err)
		require.JSONEq(t, `{"ok":true}`, string(resp.Ack))
		require.Equal(t, "s1", resp.SessionID)
		require.Equal(t, uint64(7), resp.Version)
		homeH.mu.Lock()
		from := homeH.froms[0]
		homeH.mu.Unlock()
		require.Equal(t, mesh.PeerInfo{NodeID: "edge-asia-1", Region: "asia", Role: wire.RoleEdge, StateDocs: true, DocAcks: true}, from)
	})
	t.Run("wire error passes through", func(t *testing.T) {
		_, err := edge.Request(ctx, "home-us-1", &wire.Request{Event: "court:not_owner"})
		require.Equal(t, wire.CodeNotOwner, wireCode(t, err))
	})
	t.Run("other error is internal", func(t *testing.T) {
		_, err := edge.Request(ctx, "home-us-1", &wire.Request{Event: "court:broken"})
		require.Equal(t, wire.CodeInternal, wireCode(t, err))
	})
	t.Run("home to edge over the edge's link", func(t *testing.T) {
		resp, err := home.Request(ctx, "edge-asia-1", &wire.Request{Event: "mesh:ping"})
		require.NoError(t, err)
		require.JSONEq(t, `{"ok":true,"event":"mesh:ping"}`, string(resp.Ack))
	})
	t.Run("unknown node is unavailable at once", func(t *testing.T) {
		start := time.Now()
		_, err := edge.Request(ctx, "home-eu-9", &wire.Request{Event: "court:serve"})
		require.Equal(t, wire.CodeUnavailable, wireCode(t, err))
		require.Less(t, time.Since(start), 100*time.Millisecond)
		require.Equal(t, wire.CodeUnavailable, wireCode(t, edge.SendEvent("home-eu-9", &wire.Event{SessionID: "s"})))
	})
	t.Run("peers", func(t *testing.T) {
		require.NoError(t, linkIs(edge, "home-us-1", true)())
		require.NoError(t, linkIs(home, "edge-asia-1", true)())
		p, _ := peerStatus(edge, "home-us-1")
		require.Equal(t, wire.RoleHome, p.Role)
		require.Equal(t, "us", p.Region)
		eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
			if p, _ := peerStatus(edge, "home-us-1"); p.RTT <= 0 {
				return errors.New("no RTT yet")
			}
			return nil
		})
	})
}

func TestConcurrentRequests(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	home := startHome(t, ids["home"], "127.0.0.1:0", &recorder{})
	edge := startEdge(t, ids["edge"], home, &recorder{})
	const n = 200
	errc := make(chan error, n)
	for i := range n {
		go func() {
			_, err := edge.Request(t.Context(), "home", &wire.Request{Event: fmt.Sprint("e", i)})
			errc <- err
		}()
	}
	for range n {
		require.NoError(t, <-errc)
	}
}

func TestEventsInOrder(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	homeH, edgeH := &recorder{}, &recorder{}
	home := startHome(t, ids["home"], "127.0.0.1:0", homeH)
	edge := startEdge(t, ids["edge"], home, edgeH)
	eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))

	// Payloads of every size up to a few KiB, each naming its session and
	// version: the frames' pooled buffers must not carry one into another.
	payload := func(s string, v int) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"s":%q,"v":%d,"pad":%q}`, s, v, strings.Repeat("x", v*37%5000)))
	}
	const n = 500
	for v := 1; v <= n; v++ {
		for _, s := range []string{"s1", "s2"} {
			ev := &wire.Event{UserID: "u", Name: "court:state", Payload: payload(s, v), SessionID: s, Version: uint64(v)}
			require.NoError(t, home.SendEvent("edge", ev))
		}
	}
	require.NoError(t, edge.SendEvent("home", &wire.Event{UserID: "u", Name: "x", Payload: json.RawMessage(`1`), SessionID: "s3", Version: 1}))
	eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if c := edgeH.eventCount(); c != 2*n {
			return fmt.Errorf("edge has %d events", c)
		}
		if c := homeH.eventCount(); c != 1 {
			return fmt.Errorf("home has %d events", c)
		}
		return nil
	})
	for _, s := range []string{"s1", "s2"} {
		for i, ev := range edgeH.eventsOf(s) {
			require.Equal(t, uint64(i+1), ev.Version, "session %s", s)
			require.Equal(t, string(payload(s, i+1)), string(ev.Payload), "session %s", s)
		}
	}
}

func TestReconnectAfterAcceptorRestart(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	addr := freeUDPAddr(t)
	cfg := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	cfg.ListenAddr = addr
	home1, err := mesh.New(cfg)
	require.NoError(t, err)
	errc := make(chan error, 1)
	go func() { errc <- home1.Run(context.Background()) }()
	<-home1.Ready()
	edge := startEdge(t, ids["edge"], home1, &recorder{})
	_, err = edge.Request(t.Context(), "home", &wire.Request{Event: "a"})
	require.NoError(t, err)

	require.NoError(t, home1.Close())
	require.NoError(t, <-errc)
	eventually(t, 3*time.Second, 10*time.Millisecond, linkIs(edge, "home", false))
	_, err = edge.Request(t.Context(), "home", &wire.Request{Event: "b"})
	require.Equal(t, wire.CodeUnavailable, wireCode(t, err))

	cfg.Registerer = nil
	startHome(t, ids["home"], addr, &recorder{})
	eventually(t, 5*time.Second, 20*time.Millisecond, func() error {
		_, err := edge.Request(t.Context(), "home", &wire.Request{Event: "c"})
		return err
	})
}

func TestSelfConnectDetected(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home")
	addr := freeUDPAddr(t)
	cfg := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	cfg.ListenAddr = addr
	cfg.Peers = []mesh.Peer{{NodeID: "home-2", Region: "us", Addr: addr}}
	n := startNode(t, cfg) // Ready: the one dial was made and found itself
	require.NoError(t, linkIs(n, "home-2", false)())
}

func TestBothSidesDialKeepOneLink(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home-a", "home-b")
	addrA, addrB := freeUDPAddr(t), freeUDPAddr(t)
	cfgA := nodeConfig(t, ids["home-a"], "us", wire.RoleHome, &recorder{})
	cfgA.ListenAddr, cfgA.Peers = addrA, []mesh.Peer{{NodeID: "home-b", Region: "us", Addr: addrB}}
	cfgB := nodeConfig(t, ids["home-b"], "us", wire.RoleHome, &recorder{})
	cfgB.ListenAddr, cfgB.Peers = addrB, []mesh.Peer{{NodeID: "home-a", Region: "us", Addr: addrA}}
	// Started together, so that both dial at once.
	nodes := startNodes(t, cfgA, cfgB)
	a, b := nodes[0], nodes[1]
	// Both may dial at once; then each side briefly has two links and both
	// must settle on the same one. Settled: up on both sides, with the same
	// link as one ping interval earlier.
	since := func() [2]time.Time {
		pa, _ := peerStatus(a, "home-b")
		pb, _ := peerStatus(b, "home-a")
		return [2]time.Time{pa.Since, pb.Since}
	}
	var last [2]time.Time
	eventually(t, 3*time.Second, 5*testPing, func() error {
		prev := last
		last = since()
		if err := linkIs(a, "home-b", true)(); err != nil {
			return err
		}
		if err := linkIs(b, "home-a", true)(); err != nil {
			return err
		}
		if last != prev {
			return errors.New("links still changing")
		}
		return nil
	})
	// And stable: neither side keeps replacing its link.
	require.Never(t, func() bool { return since() != last }, 10*testPing, testPing)
	for _, c := range []struct {
		from *mesh.Node
		to   string
	}{{a, "home-b"}, {b, "home-a"}} {
		_, err := c.from.Request(t.Context(), c.to, &wire.Request{Event: "x"})
		require.NoError(t, err)
	}
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "other")
	base := func() mesh.Config {
		return mesh.Config{Region: "us", Role: wire.RoleHome, Identity: ids["home"], Handler: &recorder{}}
	}
	cases := map[string]func(c *mesh.Config){
		"no identity":           func(c *mesh.Config) { c.Identity = nil },
		"node id mismatch":      func(c *mesh.Config) { c.NodeID = "other" },
		"no region":             func(c *mesh.Config) { c.Region = "" },
		"bad role":              func(c *mesh.Config) { c.Role = "judge" },
		"role not the cert's":   func(c *mesh.Config) { c.Role = wire.RoleEdge },
		"region not the cert's": func(c *mesh.Config) { c.Region = "eu" },
		"no handler":            func(c *mesh.Config) { c.Handler = nil },
		"timeout below ping":    func(c *mesh.Config) { c.PingInterval, c.LinkTimeout = time.Second, time.Second },
		"peer is self":          func(c *mesh.Config) { c.Peers = []mesh.Peer{{NodeID: "home", Addr: "x:1"}} },
		"peer twice": func(c *mesh.Config) {
			c.Peers = []mesh.Peer{{NodeID: "a", Addr: "x:1"}, {NodeID: "a", Addr: "x:2"}}
		},
		"peer without addr": func(c *mesh.Config) { c.Peers = []mesh.Peer{{NodeID: "a"}} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := base()
			mutate(&c)
			_, err := mesh.New(c)
			require.ErrorIs(t, err, mesh.ErrConfig)
		})
	}
	n, err := mesh.New(base())
	require.NoError(t, err)
	require.Equal(t, "home", n.NodeID())
	require.NoError(t, n.Close())
	require.NoError(t, n.Close())
	require.ErrorIs(t, n.Run(t.Context()), mesh.ErrClosed)
}

func TestRunEndsWithContext(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home")
	cfg := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	cfg.ListenAddr = "127.0.0.1:0"
	n, err := mesh.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- n.Run(ctx) }()
	<-n.Ready()
	require.NotNil(t, n.Addr())
	require.ErrorIs(t, n.Run(ctx), mesh.ErrRunTwice)
	cancel()
	require.NoError(t, <-errc)
	require.NoError(t, n.Close())
}
