package meshtest

import (
	"net"
	"sync"
	"time"
)

// linkQueueLen bounds the packets in flight from one socket to one
// destination; more are dropped, as a router's full buffer would.
const linkQueueLen = 4096

// Conn is a UDP socket whose writes cross the simulated WAN. It implements
// net.PacketConn, plus SetReadBuffer and SetWriteBuffer, which quic-go uses
// when present. It deliberately does not expose the socket's SyscallConn or
// ReadMsgUDP/WriteMsgUDP, so quic-go writes every packet through WriteTo.
type Conn struct {
	net    *Network
	region string
	udp    *net.UDPConn

	mu     sync.Mutex
	closed bool                   // guarded by mu
	links  map[string]chan packet // guarded by mu; destination → queue
	stop   chan struct{}
	wg     sync.WaitGroup
}

type packet struct {
	data      []byte
	to        net.Addr
	dstRegion string
	at        time.Time
}

var _ net.PacketConn = (*Conn)(nil)

func newConn(n *Network, region string, udp *net.UDPConn) *Conn {
	return &Conn{net: n, region: region, udp: udp, links: make(map[string]chan packet), stop: make(chan struct{})}
}

// ReadFrom reads a packet from the socket.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) { return c.udp.ReadFrom(b) }

// WriteTo sends b to addr across the simulated WAN. It never blocks: a
// delayed packet is copied and queued, and a dropped one is reported as
// written, as UDP would.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	delay, dstRegion, drop := c.net.route(c.region, addr)
	if drop {
		return len(b), nil
	}
	if delay <= 0 {
		return c.udp.WriteTo(b, addr)
	}
	p := packet{data: append([]byte(nil), b...), to: addr, dstRegion: dstRegion, at: time.Now().Add(delay)}
	q, err := c.queue(addr)
	if err != nil {
		return 0, err
	}
	select {
	case q <- p:
	default: // full: dropped
	}
	return len(b), nil
}

// queue returns the delay queue to addr, starting its sender on first use.
func (c *Conn) queue(addr net.Addr) (chan packet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, net.ErrClosed
	}
	key := addr.String()
	q, ok := c.links[key]
	if !ok {
		q = make(chan packet, linkQueueLen)
		c.links[key] = q
		c.wg.Add(1)
		go c.send(q)
	}
	return q, nil
}

// send writes the packets of one queue, each at its time. The delay of a
// destination is the same for every packet, so the queue is in time order.
func (c *Conn) send(q chan packet) {
	defer c.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		var p packet
		select {
		case <-c.stop:
			return
		case p = <-q:
		}
		if wait := time.Until(p.at); wait > 0 {
			t.Reset(wait)
			select {
			case <-c.stop:
				return
			case <-t.C:
			}
		}
		if !c.net.isPartitioned(c.region, p.dstRegion) {
			_, _ = c.udp.WriteTo(p.data, p.to)
		}
	}
}

// Close closes the socket, drops the packets still in flight and forgets
// the socket's region.
func (c *Conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	c.wg.Wait()
	c.net.forget(c.udp.LocalAddr())
	return c.udp.Close()
}

// LocalAddr returns the socket's address.
func (c *Conn) LocalAddr() net.Addr { return c.udp.LocalAddr() }

// SetDeadline sets the socket's read and write deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.udp.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.udp.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline; it applies to packets
// sent without delay.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }

// SetReadBuffer sets the socket's receive buffer size.
func (c *Conn) SetReadBuffer(n int) error { return c.udp.SetReadBuffer(n) }

// SetWriteBuffer sets the socket's send buffer size.
func (c *Conn) SetWriteBuffer(n int) error { return c.udp.SetWriteBuffer(n) }
