package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/admin"
	"courtmesh/directory"
	"courtmesh/membership"
	"courtmesh/mesh"
	"courtmesh/mesh/pki"
)

// clusterConfig is how a node joins the cluster's membership and whether it
// has an admin listener.
type clusterConfig struct {
	// Membership is where the node announces itself; nil: it does not (the
	// embedded dev mesh).
	Membership directory.Membership
	// AdminAddr is the admin listener's address; empty: none.
	AdminAddr string
	Identity  *pki.Identity
	Logger    *slog.Logger
}

// registerDraining exports court_node_draining on reg (nil: nowhere): 1
// while the node drains, for the dashboard's drains in progress.
func registerDraining(reg prometheus.Registerer, state func() string) error {
	if reg == nil {
		return nil
	}
	g := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "court_node_draining",
		Help: "1 while this node drains (an edge's sockets or a home's sessions are being moved away), else 0.",
	}, func() float64 {
		if state() == directory.StateDraining {
			return 1
		}
		return 0
	})
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("register court_node_draining: %w", err)
	}
	return nil
}

// memberNode is a role as the membership and the admin surface see it.
type memberNode interface {
	admin.Node
	// member is the node's announcement, Seen aside.
	member() directory.Member
}

// clusterMember announces a node, serves its admin listener, and hands the
// membership to follow (nil: the role follows nobody).
type clusterMember struct {
	cfg     clusterConfig
	node    memberNode
	ann     *membership.Announcer
	follow  func([]directory.Member)
	started time.Time
	// adminAddr is the bound admin address, announced.
	adminAddr atomic.Pointer[string]
}

func newClusterMember(cfg clusterConfig, node memberNode, follow func([]directory.Member)) *clusterMember {
	c := &clusterMember{cfg: cfg, node: node, follow: follow, started: time.Now().UTC()}
	if cfg.Membership != nil {
		c.ann = membership.NewAnnouncer(cfg.Membership, membership.DefaultTTL, c.announcement, cfg.Logger)
	}
	return c
}

// announcement is what the announcer publishes.
func (c *clusterMember) announcement() directory.Member {
	m := c.node.member()
	m.Version, m.Started = buildVersion(), c.started
	if a := c.adminAddr.Load(); a != nil {
		m.AdminAddr = *a
	}
	return m
}

// kick announces at once: the node's state changed.
func (c *clusterMember) kick() {
	if c.ann != nil {
		c.ann.Kick()
	}
}

// Run serves the admin listener, announces the node and follows the
// membership until ctx ends.
func (c *clusterMember) Run(ctx context.Context) error {
	if c.cfg.Membership == nil {
		return nil
	}
	errc := make(chan error, 3)
	n := 0
	if c.cfg.AdminAddr != "" {
		ln, err := net.Listen("tcp", c.cfg.AdminAddr)
		if err != nil {
			return fmt.Errorf("admin listener on %s: %w", c.cfg.AdminAddr, err)
		}
		addr := ln.Addr().String()
		c.adminAddr.Store(&addr)
		c.cfg.Logger.Info("admin listener", "component", "admin", "addr", addr)
		srv := admin.NewServer(c.node, c.cfg.Identity.ServerTLS(), requireOperator, c.cfg.Logger)
		n++
		go func() { errc <- srv.Serve(ctx, ln) }()
	}
	n++
	go func() { errc <- c.ann.Run(ctx) }()
	if c.follow != nil {
		n++
		go func() {
			errc <- membership.Follow(ctx, c.cfg.Membership, membership.DefaultPoll, c.follow, c.cfg.Logger)
		}()
	}
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// requireOperator is the admin surface's check: an operator certificate
// (pki.RequireOperator); node certificates are refused.
func requireOperator(cs tls.ConnectionState) error {
	_, err := pki.RequireOperator(cs)
	return err
}

// membersView is the last membership an edge read, by node id.
type membersView struct {
	p atomic.Pointer[map[string]directory.Member]
}

func (v *membersView) set(ms []directory.Member) {
	m := make(map[string]directory.Member, len(ms))
	for _, mem := range ms {
		m[mem.ID] = mem
	}
	v.p.Store(&m)
}

// takesWork reports whether node id may be given new work: it is active,
// or the membership does not know it (a --home seed, or no membership).
func (v *membersView) takesWork(id string) bool {
	p := v.p.Load()
	if p == nil {
		return true
	}
	m, ok := (*p)[id]
	return !ok || m.State == directory.StateActive
}

// homePeers merges the seeds with the live homes of ms: the membership's
// address wins for a node in both.
func homePeers(seeds []mesh.Peer, ms []directory.Member, self string) []mesh.Peer {
	out := make([]mesh.Peer, 0, len(seeds)+len(ms))
	seen := make(map[string]bool)
	for _, m := range ms {
		if m.Role != "home" || m.MeshAddr == "" || m.ID == self || !pki.ValidNodeID(m.ID) {
			continue
		}
		out = append(out, mesh.Peer{NodeID: m.ID, Region: m.Region, Addr: m.MeshAddr})
		seen[m.ID] = true
	}
	for _, p := range seeds {
		if !seen[p.NodeID] {
			out = append(out, p)
		}
	}
	return out
}

// nodeState is a role's membership state.
type nodeState struct {
	mu sync.Mutex
	st string // guarded by mu
}

func (s *nodeState) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

func (s *nodeState) set(st string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st = st
}

// swap sets to if the state is from, and reports whether it did.
func (s *nodeState) swap(from, to string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st != from {
		return false
	}
	s.st = to
	return true
}
