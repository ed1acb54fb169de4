package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"courtmesh/admin"
	"courtmesh/appdata"
	"courtmesh/directory"
	"courtmesh/edge"
	"courtmesh/home"
	"courtmesh/home/judge"
	"courtmesh/home/outbox"
	"courtmesh/home/screen"
	"courtmesh/home/store"
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
	Verifier       *token.Verifier
	Directory      directory.Store // also the shared counter of the edge's rate limiter
	HomePolicy     string
	// Catalog is the region catalog; nil: regions.Default().
	Catalog     *regions.Catalog
	TokenGrace  time.Duration // zero: edge.MaxTokenGrace
	LinkTimeout time.Duration // of the mesh links; zero: mesh.DefaultLinkTimeout
	Caps        edgeCaps
	// DrainWindow spreads the disconnects of a drain, SIGTERM's included;
	// zero: admin.DefaultWindow.
	DrainWindow  time.Duration
	Cluster      clusterConfig
	ListenPacket func(network, addr string) (net.PacketConn, error)
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// edgeCaps are an edge's abuse limits (zero: the edge's defaults).
type edgeCaps struct {
	LimiterGrace time.Duration
	PerUser      int
	PerIP        int
}

// register adds the flags of the caps to cmd.
func (c *edgeCaps) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&c.LimiterGrace, "limiter-grace", edge.DefaultLimiterGrace,
		"how long serve, evidence, addendum and hybrid still go through while the Redis rate limiter is unreachable")
	cmd.Flags().IntVar(&c.PerUser, "max-sockets-per-user", edge.DefaultMaxSocketsPerUser,
		"open sockets one user may hold on this edge (-1: no cap)")
	cmd.Flags().IntVar(&c.PerIP, "max-sockets-per-ip", 0,
		"open sockets one client address may hold on this edge (0: no cap; behind a load balancer every client shares one)")
}

// edgeRole is an edge server, the mesh node it forwards through, and its
// place in the cluster (membership, admin listener).
type edgeRole struct {
	id, region string
	node       *mesh.Node
	edge       *edge.Server
	limiter    *directory.RegionalLimiter // the edge's rate limits, reconciled through the directory
	cluster    *clusterMember
	view       *membersView
	seeds      []mesh.Peer
	window     time.Duration
	state      nodeState
	log        *slog.Logger
}

func newEdgeRole(c edgeRoleConfig) (*edgeRole, error) {
	handler := &edgeMeshHandler{log: discardIfNil(c.Logger).With("component", "edge-mesh", "node", c.NodeID)}
	view := &membersView{}
	node, err := mesh.New(mesh.Config{
		NodeID:       c.NodeID,
		Region:       c.Region,
		Role:         wire.RoleEdge,
		Identity:     c.Identity,
		Peers:        c.Homes,
		Handler:      handler,
		Revocations:  c.Directory,
		LinkTimeout:  c.LinkTimeout,
		PingInterval: pingInterval(c.LinkTimeout),
		ListenPacket: c.ListenPacket,
		Logger:       c.Logger,
		Registerer:   c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	limiter, err := directory.NewRegionalLimiter(directory.RegionalLimiterConfig{Counter: c.Directory, Logger: c.Logger})
	if err != nil {
		return nil, err
	}
	srv, err := edge.New(edge.Config{
		NodeID:            c.NodeID,
		Region:            c.Region,
		Addr:              c.ClientAddr,
		Catalog:           c.Catalog,
		Verifier:          c.Verifier,
		Directory:         c.Directory,
		Limiter:           limiter,
		Mesh:              meshForEdge{node: node, view: view},
		HomePolicy:        c.HomePolicy,
		TokenGrace:        c.TokenGrace,
		LimiterGrace:      c.Caps.LimiterGrace,
		MaxSocketsPerUser: c.Caps.PerUser,
		MaxSocketsPerIP:   c.Caps.PerIP,
		Logger:            c.Logger,
		Registerer:        c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	handler.edge = srv
	r := &edgeRole{id: c.NodeID, region: c.Region, node: node, edge: srv, limiter: limiter, view: view, seeds: c.Homes,
		window: c.DrainWindow, log: discardIfNil(c.Logger)}
	if r.window <= 0 {
		r.window = admin.DefaultWindow
	}
	r.state.set(directory.StateActive)
	r.cluster = newClusterMember(c.Cluster, r, r.follow)
	if err := registerDraining(c.Registerer, r.state.get); err != nil {
		return nil, err
	}
	return r, nil
}

// follow dials every live home of the membership, and the seeds.
func (r *edgeRole) follow(ms []directory.Member) {
	r.view.set(ms)
	if err := r.node.SetPeers(homePeers(r.seeds, ms, r.id)); err != nil {
		r.log.Warn("membership lists a bad peer", "err", err)
	}
}

// member implements memberNode.
func (r *edgeRole) member() directory.Member {
	up, peers := linkCounts(r.node)
	return directory.Member{ID: r.id, Role: "edge", Region: r.region, State: r.state.get(),
		Sockets: r.edge.Sockets(), Links: up, Peers: peers}
}

// Status implements admin.Node.
func (r *edgeRole) Status() admin.Status {
	return admin.Status{ID: r.id, Role: "edge", Region: r.region, State: r.state.get(), Sockets: r.edge.Sockets()}
}

// Drain implements admin.Node: the edge goes lame duck over window, and is
// drained once its last socket is gone. Its clients reconnect to any edge:
// it refuses targets.
func (r *edgeRole) Drain(window time.Duration, to []admin.Target) error {
	if len(to) > 0 {
		return errors.New("an edge's clients reconnect to any edge: --to is for homes")
	}
	r.state.set(directory.StateDraining)
	r.cluster.kick()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), window+drainGrace)
		defer cancel()
		if err := r.edge.Drain(ctx, window); err != nil {
			r.log.Warn("edge drain did not finish", "err", err)
		}
		if r.state.swap(directory.StateDraining, directory.StateDrained) {
			r.cluster.kick()
		}
	}()
	return nil
}

// Migrate implements admin.Node: edges hold no sessions.
func (r *edgeRole) Migrate(context.Context, string, string, string) error {
	return errors.New("edges hold no sessions: migrate from the home that owns the session")
}

// Undrain implements admin.Node.
func (r *edgeRole) Undrain() {
	r.edge.Undrain()
	r.state.set(directory.StateActive)
	r.cluster.kick()
}

// shutdown is SIGTERM's drain: lame duck over the drain window, then close.
func (r *edgeRole) shutdown(context.Context) error {
	r.state.set(directory.StateDraining)
	r.cluster.kick()
	ctx, cancel := context.WithTimeout(context.Background(), r.window*4/3+drainGrace)
	defer cancel()
	return r.edge.Shutdown(ctx)
}

// drainGrace is how long after its window a drain waits for the last
// sockets to close.
const drainGrace = 5 * time.Second

// linkCounts returns the links up and the peers known of node.
func linkCounts(node *mesh.Node) (up, peers int) {
	for _, p := range node.Peers() {
		peers++
		if p.Up {
			up++
		}
	}
	return up, peers
}

// pingInterval is the mesh ping interval for a link timeout: a third of it,
// at most mesh.DefaultPingInterval; zero (no timeout given) leaves the
// mesh default.
func pingInterval(linkTimeout time.Duration) time.Duration {
	if linkTimeout == 0 {
		return 0
	}
	return min(mesh.DefaultPingInterval, linkTimeout/3)
}

// drainTimeout bounds a graceful shutdown of a role.
const drainTimeout = 15 * time.Second

// run serves until ctx is cancelled (SIGTERM), then drains in this order:
//  1. the edge goes lame duck (announced draining): it stops accepting and
//     tells its clients to reconnect elsewhere, spread over the drain
//     window, then closes (edge.Server.Shutdown);
//  2. the mesh node says GOAWAY to its peers and closes (mesh.Node.Shutdown);
//  3. the node leaves the membership.
func (r *edgeRole) run(ctx context.Context) error {
	return runDraining(ctx, []runner{r.node, r.edge, r.limiter, r.cluster}, r.shutdown, r.node.Shutdown)
}

// runner is a component with the STYLE.md lifecycle.
type runner interface {
	Run(ctx context.Context) error
}

// runDraining runs every runner until ctx is cancelled or one fails, then
// calls the shutdown steps in order, each within drainTimeout, and stops the
// runners.
func runDraining(ctx context.Context, runners []runner, shutdown ...func(context.Context) error) error {
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	g, gctx := errgroup.WithContext(runCtx)
	for _, r := range runners {
		g.Go(func() error { return r.Run(gctx) })
	}
	g.Go(func() error {
		select {
		case <-gctx.Done():
			return nil
		case <-ctx.Done():
		}
		var errs []error
		for _, step := range shutdown {
			sctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
			errs = append(errs, step(sctx))
			cancel()
		}
		stop()
		return errors.Join(errs...)
	})
	return g.Wait()
}

// ready reports whether the edge accepts sockets and reaches a home.
func (r *edgeRole) ready() error { return r.edge.CheckReady() }

// edgeMeshHandler hands events relayed by homes to the edge. Edges serve no
// requests, and take client events from homes only (the peer's role is the
// one its certificate names).
type edgeMeshHandler struct {
	edge *edge.Server
	log  *slog.Logger
}

func (h *edgeMeshHandler) HandleRequest(context.Context, mesh.PeerInfo, *wire.Request) (*wire.Response, error) {
	return nil, errForbidden("edges serve no requests")
}

func (h *edgeMeshHandler) HandleEvent(from mesh.PeerInfo, ev *wire.Event) {
	if from.Role != wire.RoleHome {
		h.log.Warn("dropped a client event from a node that is not a home", "peer", from.NodeID, "role", from.Role)
		return
	}
	h.edge.DeliverEvent(ev)
}

// errForbidden is the answer to a request the sender's role may not make.
func errForbidden(reason string) *wire.Error {
	return &wire.Error{Code: wire.CodeIdentity, Reason: reason}
}

// LinkUp resyncs the edge's sockets after a home's link came (back) up.
func (h *edgeMeshHandler) LinkUp(peer mesh.PeerInfo) {
	if peer.Role == wire.RoleHome {
		h.edge.HomeLinkChanged()
	}
}

// LinkDown resyncs the edge's sockets once a home's link went down: the
// pushes queued on it are lost, and its sessions move to another home.
func (h *edgeMeshHandler) LinkDown(peer mesh.PeerInfo) {
	if peer.Role == wire.RoleHome {
		h.edge.HomeLinkChanged()
	}
}

// meshForEdge adapts a mesh node to what the edge needs; view keeps homes
// that drain out of the new work.
type meshForEdge struct {
	node *mesh.Node
	view *membersView
}

func (m meshForEdge) Request(ctx context.Context, nodeID string, req *wire.Request) (*wire.Response, error) {
	return m.node.Request(ctx, nodeID, req)
}

// HomeNodes lists the home nodes of region whose link is up, sorted.
func (m meshForEdge) HomeNodes(region string) []string {
	var ids []string
	for _, p := range m.node.Peers() {
		if p.Up && p.Role == wire.RoleHome && p.Region == region && m.view.takesWork(p.NodeID) {
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
	// AdvertiseAddr is the mesh address announced to the edges; empty: the
	// bound one.
	AdvertiseAddr string
	Cluster       clusterConfig
	Identity      *pki.Identity
	Directory     directory.Store
	Store         home.Store
	Judge         judge.Judge
	App           *appdata.Source
	Screen        screen.Screener
	TimerScale    float64
	LeaseTTL      time.Duration
	LinkTimeout   time.Duration // of the mesh links; zero: mesh.DefaultLinkTimeout
	// Outbox, when set, delivers the side effects the store queued.
	Outbox *outbox.Dispatcher
	// Pruner, when set, deletes history and outbox rows past the retention.
	Pruner       *store.Pruner
	ListenPacket func(network, addr string) (net.PacketConn, error)
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// homeRole is a home server, the mesh node it listens on, the outbox
// dispatcher and retention job it runs, and its place in the cluster
// (membership, admin listener).
type homeRole struct {
	id, region string
	advertise  string
	node       *mesh.Node
	home       *home.Server
	outbox     *outbox.Dispatcher
	pruner     *store.Pruner
	cluster    *clusterMember
	log        *slog.Logger
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
		Revocations:  c.Directory,
		LinkTimeout:  c.LinkTimeout,
		PingInterval: pingInterval(c.LinkTimeout),
		ListenPacket: c.ListenPacket,
		Logger:       c.Logger,
		Registerer:   c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	srv, err := home.New(home.Config{
		NodeID:      c.NodeID,
		Region:      c.Region,
		Directory:   c.Directory,
		Store:       c.Store,
		Judge:       c.Judge,
		App:         c.App,
		Screen:      c.Screen,
		Mesh:        meshForHome{node},
		TimerScale:  c.TimerScale,
		LeaseTTL:    c.LeaseTTL,
		AfterCommit: exitAfterCommit(c.Logger),
		Logger:      c.Logger,
		Registerer:  c.Registerer,
	})
	if err != nil {
		return nil, err
	}
	handler.home = srv
	r := &homeRole{id: c.NodeID, region: c.Region, advertise: c.AdvertiseAddr, node: node, home: srv,
		outbox: c.Outbox, pruner: c.Pruner, log: discardIfNil(c.Logger)}
	r.cluster = newClusterMember(c.Cluster, r, srv.FollowMembers)
	if err := registerDraining(c.Registerer, srv.State); err != nil {
		return nil, err
	}
	return r, nil
}

// member implements memberNode. The mesh address announced is
// AdvertiseAddr, else the bound one.
func (r *homeRole) member() directory.Member {
	addr := r.advertise
	if a := r.node.Addr(); addr == "" && a != nil {
		addr = a.String()
	}
	up, peers := linkCounts(r.node)
	return directory.Member{ID: r.id, Role: "home", Region: r.region, MeshAddr: addr, State: r.home.State(),
		Sessions: r.home.Sessions(), Links: up, Peers: peers}
}

// Status implements admin.Node.
func (r *homeRole) Status() admin.Status {
	return admin.Status{ID: r.id, Role: "home", Region: r.region, State: r.home.State(), Sessions: r.home.Sessions()}
}

// Drain implements admin.Node: the home hands every session to the nodes
// of to, or to its region if none, and stays up, drained. The window is an
// edge's; a home ignores it.
func (r *homeRole) Drain(_ time.Duration, to []admin.Target) error {
	targets := make([]home.Target, len(to))
	for i, t := range to {
		targets[i] = home.Target{Node: t.Node, Region: t.Region}
	}
	if err := r.home.CheckTargets(targets); err != nil {
		return err
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, err := r.home.DrainTo(ctx, targets); err != nil {
				r.log.Warn("home drain did not finish", "err", err)
			}
		}()
		r.cluster.kick()
		<-done
		r.cluster.kick()
	}()
	return nil
}

// Migrate implements admin.Node (home.Server.Migrate).
func (r *homeRole) Migrate(ctx context.Context, session, to, region string) error {
	return r.home.Migrate(ctx, session, to, region)
}

// Undrain implements admin.Node.
func (r *homeRole) Undrain() {
	r.home.Undrain()
	r.cluster.kick()
}

// shutdown is SIGTERM's drain: announced draining, every session handed
// over, then the home closes.
func (r *homeRole) shutdown(ctx context.Context) error {
	r.cluster.kick()
	return r.home.Shutdown(ctx)
}

// run serves until ctx is cancelled (SIGTERM), then drains in this order:
//  1. the home refuses new actions (the edges retry them at the new owner)
//     and leaves the region, so its peers take every session it held over
//     at their next claim round (home.Server.Shutdown, a drain);
//  2. the mesh node says GOAWAY to its peers and closes (mesh.Node.Shutdown);
//  3. the node leaves the membership.
func (r *homeRole) run(ctx context.Context) error {
	runners := []runner{r.node, r.home}
	if r.outbox != nil {
		runners = append(runners, r.outbox)
	}
	if r.pruner != nil {
		runners = append(runners, r.pruner)
	}
	runners = append(runners, r.cluster)
	return runDraining(ctx, runners, r.shutdown, r.node.Shutdown)
}

// ready reports whether the home holds its lease and serves.
func (r *homeRole) ready() error {
	select {
	case <-r.home.Ready():
		return nil
	default:
		return errors.New("home not ready: no node lease yet")
	}
}

// meshForHome adapts a mesh node to what the home needs: client events go
// to edges only (presence in Redis names the edges; a name that is not an
// edge's, by its certificate, gets nothing).
type meshForHome struct{ node *mesh.Node }

// TakesStateDocs reports whether the edge nodeID, linked now, takes
// court:state documents; edges of an earlier release do not.
func (m meshForHome) TakesStateDocs(nodeID string) bool {
	p, up := m.node.Peer(nodeID)
	return up && p.StateDocs
}

// TakesDocAcks reports whether the edge nodeID, linked now, builds an
// action's ack from its document; edges of an earlier release do not.
func (m meshForHome) TakesDocAcks(nodeID string) bool {
	p, up := m.node.Peer(nodeID)
	return up && p.DocAcks
}

// Edges returns the edges linked now.
func (m meshForHome) Edges() []string {
	var edges []string
	for _, p := range m.node.Peers() {
		if p.Up && p.Role == wire.RoleEdge {
			edges = append(edges, p.NodeID)
		}
	}
	return edges
}

func (m meshForHome) SendEvent(nodeID string, ev *wire.Event) error {
	if role, up := m.node.PeerRole(nodeID); up && role != wire.RoleEdge {
		return errForbidden(fmt.Sprintf("node %s is a %s: client events go to edges only", nodeID, role))
	}
	return m.node.SendEvent(nodeID, ev)
}

// homeMeshHandler hands requests forwarded by edges to the home. Only edges
// forward clients' actions: a request from any other node (whose role its
// certificate names) is refused.
type homeMeshHandler struct{ home *home.Server }

func (h *homeMeshHandler) HandleRequest(ctx context.Context, from mesh.PeerInfo, req *wire.Request) (*wire.Response, error) {
	if from.Role != wire.RoleEdge {
		return nil, errForbidden(fmt.Sprintf("node %s is a %s: homes answer actions forwarded by edges only", from.NodeID, from.Role))
	}
	return h.home.HandleRequest(ctx, req)
}

// HandleEvent drops events: homes receive none in this protocol version.
func (h *homeMeshHandler) HandleEvent(mesh.PeerInfo, *wire.Event) {}

func discardIfNil(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// LinkUp retries the pushes that failed while an edge's link was down.
func (h *homeMeshHandler) LinkUp(peer mesh.PeerInfo) {
	if peer.Role == wire.RoleEdge {
		h.home.EdgeLinkUp(peer.NodeID)
	}
}

// LinkDown: nothing to do; pushes to the edge fail and are kept for LinkUp.
func (h *homeMeshHandler) LinkDown(mesh.PeerInfo) {}
