// Package meshtest is a WAN simulator for mesh tests, over real loopback
// UDP. A Network maps each socket it opens to a region of a region catalog;
// a packet written from one region to another is delayed by half the
// catalog's round-trip time between them, dropped while the two regions are
// partitioned, and dropped at random with the loss probability set between
// them. Packets to one destination keep their order. ProxyTCP puts the same
// delays (and partitions) on TCP connections, such as a remote region's
// traffic to a Redis.
//
// Use it through mesh.Config.ListenPacket:
//
//	net := meshtest.NewNetwork(regions.Default())
//	cfg.ListenPacket = net.ListenPacket("asia")
package meshtest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"courtmesh/regions"
)

// ErrUnknownRegion is returned when a socket is opened in a region the
// catalog does not name.
var ErrUnknownRegion = errors.New("meshtest: unknown region")

// Network is a simulated WAN. Its methods are safe for concurrent use.
type Network struct {
	catalog *regions.Catalog

	mu          sync.Mutex
	regionOf    map[string]string     // guarded by mu; socket address → region
	partitioned map[[2]string]bool    // guarded by mu
	loss        map[[2]string]float64 // guarded by mu
	scale       float64               // guarded by mu
}

// NewNetwork returns a network whose latencies come from c.
func NewNetwork(c *regions.Catalog) *Network {
	return &Network{
		catalog:     c,
		regionOf:    make(map[string]string),
		partitioned: make(map[[2]string]bool),
		loss:        make(map[[2]string]float64),
		scale:       1,
	}
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// Partition drops every packet between regions a and b, in both directions,
// including those already in flight, until Heal.
func (n *Network) Partition(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.partitioned[pair(a, b)] = true
}

// Heal ends a partition between a and b.
func (n *Network) Heal(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.partitioned, pair(a, b))
}

// SetLoss sets the probability in [0, 1] that a packet between a and b, in
// either direction, is dropped.
func (n *Network) SetLoss(a, b string, p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.loss[pair(a, b)] = min(max(p, 0), 1)
}

// SetRTTScale multiplies every catalog RTT by f (1 at start; 0 turns
// latency off). It applies to packets written afterwards.
func (n *Network) SetRTTScale(f float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.scale = max(f, 0)
}

// route decides the fate of one packet from region src to address dst: its
// one-way delay, or drop.
func (n *Network) route(src string, dst net.Addr) (delay time.Duration, dstRegion string, drop bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	dstRegion, known := n.regionOf[dst.String()]
	if !known {
		return 0, "", false
	}
	p := pair(src, dstRegion)
	if n.partitioned[p] {
		return 0, dstRegion, true
	}
	if l := n.loss[p]; l > 0 && rand.Float64() < l {
		return 0, dstRegion, true
	}
	rtt, _ := n.catalog.RTT(src, dstRegion)
	return time.Duration(float64(rtt) * n.scale / 2), dstRegion, false
}

func (n *Network) isPartitioned(a, b string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.partitioned[pair(a, b)]
}

// ListenPacket returns a function with the signature of
// mesh.Config.ListenPacket that opens sockets in region. Each opens a real
// UDP socket on 127.0.0.1 (the host in addr is ignored, its port kept) and
// wraps it so that what it writes crosses the simulated WAN.
func (n *Network) ListenPacket(region string) func(network, addr string) (net.PacketConn, error) {
	return func(network, addr string) (net.PacketConn, error) {
		if _, ok := n.catalog.Lookup(region); !ok {
			return nil, fmt.Errorf("%w: %q", ErrUnknownRegion, region)
		}
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("meshtest: listen address %q: %w", addr, err)
		}
		laddr, err := net.ResolveUDPAddr(udp4(network), net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			return nil, fmt.Errorf("meshtest: listen address %q: %w", addr, err)
		}
		udp, err := net.ListenUDP(laddr.Network(), laddr)
		if err != nil {
			return nil, fmt.Errorf("meshtest: %w", err)
		}
		n.mu.Lock()
		n.regionOf[udp.LocalAddr().String()] = region
		n.mu.Unlock()
		return newConn(n, region, udp), nil
	}
}

func udp4(network string) string {
	if network == "udp" || network == "" {
		return "udp4"
	}
	return network
}

func (n *Network) forget(addr net.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.regionOf, addr.String())
}
