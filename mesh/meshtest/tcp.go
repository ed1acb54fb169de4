package meshtest

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// tcpChunkQueue bounds the chunks in flight one way on one proxied
// connection; a full queue stops the reader, as a full TCP window would.
const tcpChunkQueue = 1024

// partitionPoll is how often a connection held by a partition looks again.
const partitionPoll = 10 * time.Millisecond

// TCPProxy carries the TCP connections of clients in one region to a server
// in another (a Redis primary, for one) across the simulated WAN: every
// byte takes half the catalog's RTT each way, and bytes are held, not lost,
// while the two regions are partitioned (TCP retransmits them after the
// heal). Loss set with SetLoss does not apply: TCP hides it as delay.
type TCPProxy struct {
	net      *Network
	src, dst string
	target   string
	ln       net.Listener

	mu     sync.Mutex
	closed bool                  // guarded by mu
	conns  map[net.Conn]struct{} // guarded by mu
	wg     sync.WaitGroup
}

// ProxyTCP listens on listenAddr ("127.0.0.1:0" picks a port) and forwards
// every connection to target, a server in region dst, as seen from region
// src. Close stops it.
func (n *Network) ProxyTCP(src, dst, target, listenAddr string) (*TCPProxy, error) {
	for _, r := range []string{src, dst} {
		if _, ok := n.catalog.Lookup(r); !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownRegion, r)
		}
	}
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("meshtest: %w", err)
	}
	p := &TCPProxy{net: n, src: src, dst: dst, target: target, ln: ln, conns: make(map[net.Conn]struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's listen address, to dial instead of the target.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, cuts every proxied connection and waits for them.
func (p *TCPProxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return net.ErrClosed
	}
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *TCPProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		p.pipe(c, up, p.src, p.dst)
		p.pipe(up, c, p.dst, p.src)
	}
}

// track records both ends, or closes them when the proxy is closed.
func (p *TCPProxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

type chunk struct {
	data []byte
	at   time.Time
}

// pipe copies from → to, the bytes written by region a to region b, each
// chunk delayed by the one-way time between them. The end of either side
// closes both.
func (p *TCPProxy) pipe(from, to net.Conn, a, b string) {
	q := make(chan chunk, tcpChunkQueue)
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := from.Read(buf)
			if n > 0 {
				q <- chunk{data: buf[:n], at: time.Now().Add(p.net.oneWay(a, b))}
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		defer func() {
			p.drop(from, to)
			for range q { // the reader, its end closed, sends at most one more
			}
		}()
		for c := range q {
			time.Sleep(time.Until(c.at))
			for p.net.isPartitioned(a, b) && !p.isClosed() {
				time.Sleep(partitionPoll)
			}
			if _, err := to.Write(c.data); err != nil {
				return
			}
		}
	}()
}

// drop closes both ends of a connection and forgets them. A reader still
// blocked on the closed end returns, which ends its queue.
func (p *TCPProxy) drop(a, b net.Conn) {
	a.Close()
	b.Close()
	p.mu.Lock()
	delete(p.conns, a)
	delete(p.conns, b)
	p.mu.Unlock()
}

func (p *TCPProxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// oneWay is half the scaled RTT between regions a and b.
func (n *Network) oneWay(a, b string) time.Duration {
	n.mu.Lock()
	scale := n.scale
	n.mu.Unlock()
	rtt, _ := n.catalog.RTT(a, b)
	return time.Duration(float64(rtt) * scale / 2)
}
