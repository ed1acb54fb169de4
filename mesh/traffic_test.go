package mesh_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"courtmesh/mesh"
	"courtmesh/mesh/wire"
)

// countingConn is a node's UDP socket that counts what quic-go sends on it:
// sendmsg calls and the packets they carry (several with UDP GSO). It keeps
// the *net.UDPConn methods quic-go needs for GSO and batched reads.
type countingConn struct {
	*net.UDPConn
	sends, packets, bytes atomic.Int64
}

func (c *countingConn) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (int, int, error) {
	c.sends.Add(1)
	c.bytes.Add(int64(len(b)))
	c.packets.Add(int64(segments(len(b), oob)))
	return c.UDPConn.WriteMsgUDP(b, oob, addr)
}

func (c *countingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	c.sends.Add(1)
	c.bytes.Add(int64(len(b)))
	c.packets.Add(1)
	return c.UDPConn.WriteTo(b, addr)
}

// segments is the number of UDP datagrams a sendmsg of n bytes with oob
// puts on the wire: n divided by the UDP_SEGMENT size, rounded up.
func segments(n int, oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 1
	}
	for _, m := range msgs {
		if m.Header.Level == unix.IPPROTO_UDP && m.Header.Type == unix.UDP_SEGMENT && len(m.Data) >= 2 {
			if size := int(*(*uint16)(unsafePointer(m.Data))); size > 0 {
				return (n + size - 1) / size
			}
		}
	}
	return 1
}

// traffic counts one node's sends.
type traffic struct{ conn *countingConn }

func (tr *traffic) listen(network, addr string) (net.PacketConn, error) {
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		return nil, err
	}
	tr.conn = &countingConn{UDPConn: pc.(*net.UDPConn)}
	return tr.conn, nil
}

func (tr *traffic) snapshot() [3]int64 {
	return [3]int64{tr.conn.sends.Load(), tr.conn.packets.Load(), tr.conn.bytes.Load()}
}

// docHandler is an edge's handler that counts the events it receives.
type docHandler struct {
	mu   sync.Mutex
	got  map[string]int
	cond *sync.Cond
}

func newDocHandler() *docHandler {
	h := &docHandler{got: make(map[string]int)}
	h.cond = sync.NewCond(&h.mu)
	return h
}

func (h *docHandler) HandleRequest(context.Context, mesh.PeerInfo, *wire.Request) (*wire.Response, error) {
	return nil, fmt.Errorf("not a home")
}

func (h *docHandler) HandleEvent(_ mesh.PeerInfo, ev *wire.Event) {
	h.mu.Lock()
	h.got[ev.SessionID]++
	h.mu.Unlock()
	h.cond.Broadcast()
}

// wait blocks until session has received n events.
func (h *docHandler) wait(session string, n int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.got[session] < n {
		h.cond.Wait()
	}
}

// homeHandler answers every request as a court transition does: an ack
// carrying a whole state, and a state document pushed to the edge on the
// session's flow (events per request of them).
type homeHandler struct {
	node   atomic.Pointer[mesh.Node]
	ack    json.RawMessage
	doc    json.RawMessage
	events int
}

func (h *homeHandler) HandleRequest(_ context.Context, from mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
	for range h.events {
		ev := &wire.Event{UserID: req.UserID, Name: "mesh:statedoc", Payload: h.doc, SessionID: req.UserID}
		if err := h.node.Load().SendEvent(from.NodeID, ev); err != nil {
			return nil, err
		}
	}
	return &wire.Response{Ack: h.ack}, nil
}

func (h *homeHandler) HandleEvent(mesh.PeerInfo, *wire.Event) {}

// jsonOf returns a JSON string value of about n bytes.
func jsonOf(n int) json.RawMessage {
	return json.RawMessage(`"` + strings.Repeat("x", n) + `"`)
}

// BenchmarkTransitionTraffic measures what one court transition costs the
// mesh between a home and an edge on loopback with real QUIC and TLS: the
// edge's request, the home's answer carrying a whole state (ack bytes),
// and the state documents the home pushes to the edge on the session's
// flow; couples sessions act at once. It reports the process's CPU per
// transition (both nodes and the benchmark's own goroutines), and the
// sendmsg calls, UDP packets and bytes both nodes sent per transition.
func BenchmarkTransitionTraffic(b *testing.B) {
	for _, c := range []struct {
		name             string
		ack, doc, events int
		couples          int
	}{
		{"ack=24KiB/doc=2KiB/couples=10", 24 << 10, 2 << 10, 1, 10},
		// The same transition whose ack names the document's version
		// (wire.Response.StateInDoc) instead of carrying the state.
		{"ack=16B/doc=2KiB/couples=10", 16, 2 << 10, 1, 10},
		{"ack=1KiB/docs=3x300B/couples=10", 1 << 10, 300, 3, 10},
		{"ack=1KiB/docs=3x300B/couples=1", 1 << 10, 300, 3, 1},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchTraffic(b, c.ack, c.doc, c.events, c.couples)
		})
	}
}

func benchTraffic(b *testing.B, ackSize, docSize, events, couples int) {
	ids := identities(b, "home", "edge")
	hh := &homeHandler{ack: jsonOf(ackSize), doc: jsonOf(docSize), events: events}
	var homeTr, edgeTr traffic
	hcfg := nodeConfig(b, ids["home"], "us", wire.RoleHome, hh)
	hcfg.ListenAddr = "127.0.0.1:0"
	hcfg.ListenPacket = homeTr.listen
	home := startNode(b, hcfg)
	hh.node.Store(home)
	eh := newDocHandler()
	ecfg := nodeConfig(b, ids["edge"], "asia", wire.RoleEdge, eh)
	ecfg.Peers = []mesh.Peer{{NodeID: "home", Region: "us", Addr: home.Addr().String()}}
	ecfg.ListenPacket = edgeTr.listen
	edge := startNode(b, ecfg)
	eventually(b, 5*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))

	// One couple acts in turn: a request, then its documents, then the
	// next request, as a session's transitions follow each other.
	act := func(session string, n int) error {
		for i := 1; i <= n; i++ {
			if _, err := edge.Request(context.Background(), "home", &wire.Request{UserID: session, Event: "court:accept"}); err != nil {
				return err
			}
			eh.wait(session, i*events)
		}
		return nil
	}
	for i := range couples { // warm up: streams open, MTU discovered
		if err := act(fmt.Sprintf("warm%d", i), 20); err != nil {
			b.Fatal(err)
		}
	}
	h0, e0, cpu0 := homeTr.snapshot(), edgeTr.snapshot(), processCPU()
	b.ResetTimer()
	var wg sync.WaitGroup
	errs := make(chan error, couples)
	for i := range couples {
		n := b.N / couples
		if i < b.N%couples {
			n++
		}
		wg.Go(func() { errs <- act(fmt.Sprintf("s%d", i), n) })
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	h1, e1, cpu1 := homeTr.snapshot(), edgeTr.snapshot(), processCPU()
	n := float64(b.N)
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(h1[0]-h0[0]+e1[0]-e0[0])/n, "sendmsg/op")
	b.ReportMetric(float64(h1[1]-h0[1]+e1[1]-e0[1])/n, "packets/op")
	b.ReportMetric(float64(h1[1]-h0[1])/n, "home-packets/op")
	b.ReportMetric(float64(h1[2]-h0[2]+e1[2]-e0[2])/n, "udp-B/op")
}

func unsafePointer(b []byte) unsafe.Pointer { return unsafe.Pointer(&b[0]) }

// BenchmarkEventBursts measures events pushed in bursts, as a home pushes
// the documents of many sessions at once: bursts of 64 events of 300 bytes
// over 16 sessions, each burst waited for at the edge. It reports the
// process's CPU per event, and the sendmsg calls and UDP packets both nodes
// sent per event.
func BenchmarkEventBursts(b *testing.B) {
	ids := identities(b, "home", "edge")
	var homeTr, edgeTr traffic
	hcfg := nodeConfig(b, ids["home"], "us", wire.RoleHome, &recorder{})
	hcfg.ListenAddr = "127.0.0.1:0"
	hcfg.ListenPacket = homeTr.listen
	home := startNode(b, hcfg)
	eh := newDocHandler()
	ecfg := nodeConfig(b, ids["edge"], "asia", wire.RoleEdge, eh)
	ecfg.Peers = []mesh.Peer{{NodeID: "home", Region: "us", Addr: home.Addr().String()}}
	ecfg.ListenPacket = edgeTr.listen
	startNode(b, ecfg)
	eventually(b, 5*time.Second, 10*time.Millisecond, linkIs(home, "edge", true))

	const burst, sessions = 64, 16
	payload := jsonOf(300)
	sent := make(map[string]int)
	push := func(n int) {
		for i := range n {
			s := fmt.Sprint("s", i%sessions)
			sent[s]++
			ev := &wire.Event{UserID: "u", Name: "mesh:statedoc", Payload: payload, SessionID: s, Version: uint64(sent[s])}
			if err := home.SendEvent("edge", ev); err != nil {
				b.Fatal(err)
			}
		}
		for s, n := range sent {
			eh.wait(s, n)
		}
	}
	push(10 * burst) // warm up
	h0, e0, cpu0 := homeTr.snapshot(), edgeTr.snapshot(), processCPU()
	b.ResetTimer()
	for done := 0; done < b.N; done += burst {
		push(min(burst, b.N-done))
	}
	b.StopTimer()
	h1, e1, cpu1 := homeTr.snapshot(), edgeTr.snapshot(), processCPU()
	n := float64(b.N)
	b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "cpu-µs/op")
	b.ReportMetric(float64(h1[0]-h0[0]+e1[0]-e0[0])/n, "sendmsg/op")
	b.ReportMetric(float64(h1[1]-h0[1]+e1[1]-e0[1])/n, "packets/op")
}
