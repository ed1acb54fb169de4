package cli

import (
	"context"
	"log/slog"
	"net"
	"slices"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/edge"
	"courtmesh/home"
	"courtmesh/mesh"
	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
	"courtmesh/regions"
	"courtmesh/token"
)

// edgeRoleConfig is what one edge process (or one edge inside `courtd dev`)
// needs.
type edgeRoleConfig struct {
	NodeID, Region string
	ClientAddr     string
	Identity       *pki.Identity
	Homes          []mesh.Peer
	Secret         []byte
	Directory      directory.Directory
	HomePolicy     string
	ListenPacket   func(network, addr string) (net.PacketConn, error)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
}

// edgeRole is an edge server and the mesh node it forwards through.
type edgeRole struct {
	node *mesh.Node
	edge *edge.Server
}

func newEdgeRole(c edgeRoleConfig) (*edgeRole, error) {
	log := c.Logger.With("component", "edge", "region", c.Region, "node", c.NodeID)
	handler := &edgeMeshHandler{}
	node, err := mesh.New(mesh.Config{
		NodeID:       c.NodeID,
		Region:       c.Region,
		Role:         wire.RoleEdge,
		Identity:     c.Identity,
		Peers:        c.Homes,
		Handler:      handler,
		ListenPacket: c.ListenPacket,
		Logger:       c.Logger.With("component", "mesh", "region", c.Region, "node", c.NodeID),
		Registerer:   c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	srv, err := edge.New(edge.Config{
		NodeID:     c.NodeID,
		Region:     c.Region,
		Addr:       c.ClientAddr,
		Catalog:    regions.Default(),
		Verifier:   &token.Verifier{Secret: c.Secret},
		Directory:  c.Directory,
		Mesh:       meshForEdge{node},
		HomePolicy: c.HomePolicy,
		Logger:     log,
		Registerer: c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	handler.edge = srv
	return &edgeRole{node: node, edge: srv}, nil
}

func (r *edgeRole) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.node.Run(ctx) })
	g.Go(func() error { return r.edge.Run(ctx) })
	return g.Wait()
}

// edgeMeshHandler hands events relayed by homes to the edge. Edges serve no
// requests.
type edgeMeshHandler struct{ edge *edge.Server }

func (h *edgeMeshHandler) HandleRequest(context.Context, mesh.PeerInfo, *wire.Request) (*wire.Response, error) {
	return nil, &wire.Error{Code: wire.CodeBadFrame, Reason: "edges serve no requests"}
}

func (h *edgeMeshHandler) HandleEvent(_ mesh.PeerInfo, ev *wire.Event) { h.edge.DeliverEvent(ev) }

// meshForEdge adapts a mesh node to what the edge needs.
type meshForEdge struct{ node *mesh.Node }

func (m meshForEdge) Request(ctx context.Context, nodeID string, req *wire.Request) (*wire.Response, error) {
	return m.node.Request(ctx, nodeID, req)
}

// HomeNodes lists the home nodes of region whose link is up, sorted.
func (m meshForEdge) HomeNodes(region string) []string {
	var ids []string
	for _, p := range m.node.Peers() {
		if p.Up && p.Role == wire.RoleHome && p.Region == region {
			ids = append(ids, p.NodeID)
		}
	}
	slices.Sort(ids)
	return ids
}

// homeRoleConfig is what one home process needs.
type homeRoleConfig struct {
	NodeID, Region string
	MeshAddr       string
	Identity       *pki.Identity
	Directory      directory.Directory
	TimerScale     float64
	ListenPacket   func(network, addr string) (net.PacketConn, error)
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
}

// homeRole is a home server and the mesh node it listens on.
type homeRole struct {
	node *mesh.Node
	home *home.Server
}

func newHomeRole(c homeRoleConfig) (*homeRole, error) {
	handler := &homeMeshHandler{}
	node, err := mesh.New(mesh.Config{
		NodeID:       c.NodeID,
		Region:       c.Region,
		Role:         wire.RoleHome,
		ListenAddr:   c.MeshAddr,
		Identity:     c.Identity,
		Handler:      handler,
		ListenPacket: c.ListenPacket,
		Logger:       c.Logger.With("component", "mesh", "region", c.Region, "node", c.NodeID),
		Registerer:   c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	srv, err := home.New(home.Config{
		NodeID:     c.NodeID,
		Region:     c.Region,
		Directory:  c.Directory,
		Mesh:       node,
		TimerScale: c.TimerScale,
		Logger:     c.Logger.With("component", "home", "region", c.Region, "node", c.NodeID),
		Registerer: c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	handler.home = srv
	return &homeRole{node: node, home: srv}, nil
}

func (r *homeRole) run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return r.node.Run(ctx) })
	g.Go(func() error { return r.home.Run(ctx) })
	return g.Wait()
}

// homeMeshHandler hands requests forwarded by edges to the home.
type homeMeshHandler struct{ home *home.Server }

func (h *homeMeshHandler) HandleRequest(ctx context.Context, _ mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
	return h.home.HandleRequest(ctx, req)
}

// HandleEvent drops events: homes receive none in this protocol version.
func (h *homeMeshHandler) HandleEvent(mesh.PeerInfo, *wire.Event) {}
