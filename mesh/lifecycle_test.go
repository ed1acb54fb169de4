package mesh_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"courtmesh/mesh"
	"courtmesh/mesh/meshtest"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
)

// metricValue returns the value of the series name{label=value} in reg.
func metricValue(t *testing.T, reg prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					switch {
					case m.Gauge != nil:
						return m.Gauge.GetValue()
					case m.Counter != nil:
						return m.Counter.GetValue()
					case m.Histogram != nil:
						return float64(m.Histogram.GetSampleCount())
					}
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

// deepestQueue returns the upper bound of the highest non-empty bucket of
// court_mesh_send_queue_depth.
func deepestQueue(t *testing.T, reg prometheus.Gatherer) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "court_mesh_send_queue_depth" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		deepest, below := 0.0, uint64(0)
		for _, b := range h.GetBucket() {
			if b.GetCumulativeCount() > below {
				deepest, below = b.GetUpperBound(), b.GetCumulativeCount()
			}
		}
		if h.GetSampleCount() > below {
			deepest = math.Inf(1)
		}
		return deepest
	}
	t.Fatal("no court_mesh_send_queue_depth")
	return 0
}

func TestLinkDownDetected(t *testing.T) {
	t.Parallel()
	wan := meshtest.NewNetwork(regions.Default())
	wan.SetRTTScale(0)
	ids := identities(t, "home", "edge")
	homeReg, edgeReg := prometheus.NewRegistry(), prometheus.NewRegistry()

	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	hc.ListenAddr, hc.ListenPacket, hc.Registerer = "127.0.0.1:0", wan.ListenPacket("us"), homeReg
	home := startNode(t, hc)
	ec := nodeConfig(t, ids["edge"], "asia", wire.RoleEdge, &recorder{})
	ec.ListenPacket, ec.Registerer = wan.ListenPacket("asia"), edgeReg
	ec.Peers = []mesh.Peer{{NodeID: "home", Region: "us", Addr: home.Addr().String()}}
	edge := startNode(t, ec)

	require.NoError(t, linkIs(edge, "home", true)())
	eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))
	require.Equal(t, 1.0, metricValue(t, edgeReg, "court_mesh_link_up", "peer_region", "us"))
	require.Equal(t, 1.0, metricValue(t, homeReg, "court_mesh_link_up", "peer_region", "asia"))
	eventually(t, 2*time.Second, 10*time.Millisecond, func() error {
		if metricValue(t, edgeReg, "court_mesh_rtt_seconds", "peer_region", "us") == 0 {
			return errors.New("no RTT observed")
		}
		return nil
	})

	wan.Partition("us", "asia")
	start := time.Now()
	bound := testLinkTimeout + testPing + 500*time.Millisecond
	eventually(t, bound, 5*time.Millisecond, linkIs(edge, "home", false))
	eventually(t, bound, 5*time.Millisecond, linkIs(home, "edge", false))
	t.Logf("both sides saw the link down after %v", time.Since(start))
	// The last pong may have come up to a ping interval (and its RTT)
	// before the partition.
	require.GreaterOrEqual(t, time.Since(start), testLinkTimeout-2*testPing)
	require.Equal(t, 0.0, metricValue(t, edgeReg, "court_mesh_link_up", "peer_region", "us"))
	require.Equal(t, 0.0, metricValue(t, homeReg, "court_mesh_link_up", "peer_region", "asia"))

	_, err := edge.Request(t.Context(), "home", &wire.Request{Event: "x"})
	require.Equal(t, wire.CodeUnavailable, wireCode(t, err))
	require.Equal(t, 1.0, metricValue(t, edgeReg, "court_mesh_requests_total", "result", "unavailable"))
	require.Error(t, home.SendEvent("edge", &wire.Event{SessionID: "s"}))
	require.Equal(t, 1.0, metricValue(t, homeReg, "court_mesh_events_dropped_total", "reason", "link_down"))

	wan.Heal("us", "asia")
	eventually(t, 5*time.Second, 10*time.Millisecond, linkIs(edge, "home", true))
	_, err = edge.Request(t.Context(), "home", &wire.Request{Event: "y"})
	require.NoError(t, err)
}

func TestShutdownDrains(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	started, release := make(chan struct{}), make(chan struct{})
	homeH := &recorder{respond: func(_ context.Context, _ mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
		if req.Event == "slow" {
			close(started)
			<-release
		}
		return &wire.Response{Ack: json.RawMessage(`"done"`)}, nil
	}}
	home := startHome(t, ids["home"], "127.0.0.1:0", homeH)
	edge := startEdge(t, ids["edge"], home, &recorder{})

	slow := make(chan error, 1)
	go func() {
		resp, err := edge.Request(t.Context(), "home", &wire.Request{Event: "slow"})
		if err == nil && string(resp.Ack) != `"done"` {
			err = fmt.Errorf("ack %s", resp.Ack)
		}
		slow <- err
	}()
	<-started
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- home.Shutdown(ctx)
	}()
	// The edge takes the link out of use at the GoAway, before the slow
	// request is answered.
	eventually(t, 2*time.Second, 5*time.Millisecond, linkIs(edge, "home", false))
	_, err := home.Request(t.Context(), "edge", &wire.Request{Event: "x"})
	require.Equal(t, wire.CodeShuttingDown, wireCode(t, err))
	close(release)
	require.NoError(t, <-slow, "a request in flight is answered during the drain")
	require.NoError(t, <-shut)
}

func TestEventQueueFull(t *testing.T) {
	t.Parallel()
	ids := identities(t, "home", "edge")
	reg := prometheus.NewRegistry()
	block := make(chan struct{})
	edgeH := &blockingHandler{block: block}
	hc := nodeConfig(t, ids["home"], "us", wire.RoleHome, &recorder{})
	hc.ListenAddr, hc.Registerer = "127.0.0.1:0", reg
	home := startNode(t, hc)
	edge := startEdge(t, ids["edge"], home, edgeH)
	t.Cleanup(func() { close(block) }) // runs before the nodes are closed
	eventually(t, 2*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))

	payload, err := json.Marshal(strings.Repeat("x", 8<<10))
	require.NoError(t, err)
	var full error
	for i := 0; i < 20000 && full == nil; i++ {
		full = home.SendEvent("edge", &wire.Event{UserID: "u", Name: "court:state", Payload: payload, SessionID: "s1", Version: uint64(i)})
	}
	require.ErrorIs(t, full, mesh.ErrQueueFull)
	require.GreaterOrEqual(t, metricValue(t, reg, "court_mesh_events_dropped_total", "reason", "queue_full"), 1.0)
	require.Greater(t, deepestQueue(t, reg), 1.0, "the send queue depth shows the stalled flow backing up")

	// The stalled flow starves neither the pings nor the requests: the link
	// stays up over two link timeouts and serves both ways.
	require.Never(t, func() bool { return linkIs(home, "edge", true)() != nil }, 2*testLinkTimeout, testPing)
	_, err = home.Request(t.Context(), "edge", &wire.Request{Event: "x"})
	require.NoError(t, err)
	_, err = edge.Request(t.Context(), "home", &wire.Request{Event: "y"})
	require.NoError(t, err)
}

// blockingHandler blocks every event until block is closed.
type blockingHandler struct {
	recorder
	block chan struct{}
}

func (b *blockingHandler) HandleEvent(from mesh.PeerInfo, ev *wire.Event) { <-b.block }
