package e2e

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// balancer is a region's load balancer as the rolling deploy needs one: one
// address that spreads new connections (WebSocket upgrades) round-robin over
// the region's edges. It reads each request's header, sends it to the next
// edge, and moves on to the one after when that edge is down (the dial
// fails) or refuses (503, as a draining edge answers); the first other
// answer is the client's, and the connection is piped both ways from then
// on. It holds no state of the edges: a restarted edge is used again at its
// first upgrade it accepts.
type balancer struct {
	ln      net.Listener
	edges   []string // host:port
	next    atomic.Uint64
	skipped atomic.Int64 // edges passed over: down or refusing
	mu      sync.Mutex
	conns   map[net.Conn]struct{} // guarded by mu
	wg      sync.WaitGroup
}

// maxHead bounds a request head the balancer reads.
const maxHead = 16 << 10

func newBalancer(t *testing.T, edges []string) *balancer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &balancer{ln: ln, edges: edges, conns: map[net.Conn]struct{}{}}
	b.wg.Add(1)
	go b.accept()
	t.Cleanup(func() {
		ln.Close()
		b.mu.Lock()
		for c := range b.conns {
			c.Close()
		}
		b.conns = nil
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

func (b *balancer) url() string { return "http://" + b.ln.Addr().String() }

func (b *balancer) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.serve(c)
		}()
	}
}

// serve passes one client connection to the first edge that takes it.
func (b *balancer) serve(c net.Conn) {
	if !b.track(c) {
		return
	}
	defer b.untrack(c)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	in := bufio.NewReader(c)
	var head bytes.Buffer
	for head.Len() < maxHead { // the request head, as sent, to the blank line
		line, err := in.ReadSlice('\n')
		if err != nil {
			return
		}
		head.Write(line)
		if len(line) <= 2 {
			break
		}
	}
	_ = c.SetReadDeadline(time.Time{})
	first := b.next.Add(1)
	for i := range uint64(len(b.edges)) {
		up, out, ok := b.try(b.edges[(first+i)%uint64(len(b.edges))], head.Bytes())
		if !ok {
			b.skipped.Add(1)
			continue
		}
		defer b.untrack(up)
		if !b.track(up) {
			return
		}
		b.pipe(c, in, up, out)
		return
	}
	_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

// try sends the request head to edge and reads its answer's status line; ok
// is false when the edge is down or answers 503.
func (b *balancer) try(edge string, head []byte) (up net.Conn, out *bufio.Reader, ok bool) {
	up, err := net.DialTimeout("tcp", edge, time.Second)
	if err != nil {
		return nil, nil, false
	}
	_ = up.SetDeadline(time.Now().Add(5 * time.Second))
	out = bufio.NewReader(up)
	if _, err := up.Write(head); err != nil {
		up.Close()
		return nil, nil, false
	}
	status, err := out.Peek(len("HTTP/1.1 503"))
	if err != nil || string(status[len("HTTP/1.1 "):]) == "503" {
		up.Close()
		return nil, nil, false
	}
	_ = up.SetDeadline(time.Time{})
	return up, out, true
}

// pipe copies the edge's answer and everything after it to the client, and
// the client's bytes (what it sent past the request head included) to the
// edge, until either side closes.
func (b *balancer) pipe(c net.Conn, in *bufio.Reader, up net.Conn, out *bufio.Reader) {
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, in); up.Close(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, out); c.Close(); done <- struct{}{} }()
	<-done
	<-done
}

// track records conn to be closed at cleanup; false when the balancer is
// closing.
func (b *balancer) track(conn net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		conn.Close()
		return false
	}
	b.conns[conn] = struct{}{}
	return true
}

func (b *balancer) untrack(conn net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.conns, conn)
	conn.Close()
}
