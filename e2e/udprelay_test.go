package e2e

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// udpRelay forwards UDP datagrams between loopback clients and a target (a
// home's QUIC mesh address) and can cut them: while cut, every datagram is
// dropped both ways, as a network partition does. Each client address gets
// an upstream socket of its own, kept across a cut.
type udpRelay struct {
	pc     net.PacketConn
	target *net.UDPAddr
	mu     sync.Mutex
	until  time.Time               // cut until; guarded by mu
	closed bool                    // guarded by mu
	ups    map[string]*net.UDPConn // client address → upstream; guarded by mu
	wg     sync.WaitGroup
}

func newUDPRelay(t *testing.T, target string) *udpRelay {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	ta, err := net.ResolveUDPAddr("udp", target)
	require.NoError(t, err)
	r := &udpRelay{pc: pc, target: ta, ups: map[string]*net.UDPConn{}}
	r.wg.Add(1)
	go r.down()
	t.Cleanup(func() {
		pc.Close()
		r.mu.Lock()
		r.closed = true
		for _, up := range r.ups {
			up.Close()
		}
		r.mu.Unlock()
		r.wg.Wait()
	})
	return r
}

func (r *udpRelay) addr() string { return r.pc.LocalAddr().String() }

// cut drops every datagram for d from now.
func (r *udpRelay) cut(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.until = time.Now().Add(d)
}

func (r *udpRelay) isCut() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Now().Before(r.until)
}

// down forwards clients' datagrams to the target.
func (r *udpRelay) down() {
	defer r.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		up, err := r.upstream(from)
		if err != nil || r.isCut() {
			continue
		}
		_, _ = up.Write(buf[:n])
	}
}

// upstream returns the client's upstream socket, creating it and its
// reader on first use.
func (r *udpRelay) upstream(client net.Addr) (*net.UDPConn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, net.ErrClosed
	}
	if up, ok := r.ups[client.String()]; ok {
		return up, nil
	}
	up, err := net.DialUDP("udp", nil, r.target)
	if err != nil {
		return nil, err
	}
	r.ups[client.String()] = up
	r.wg.Add(1)
	go r.back(up, client)
	return up, nil
}

// back forwards the target's datagrams to client.
func (r *udpRelay) back(up *net.UDPConn, client net.Addr) {
	defer r.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, err := up.Read(buf)
		if err != nil {
			return
		}
		if !r.isCut() {
			_, _ = r.pc.WriteTo(buf[:n], client)
		}
	}
}
