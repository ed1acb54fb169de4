package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"courtmesh/mesh/pki"
	"courtmesh/mesh/wire"
)

// Defaults for zero Config durations.
const (
	DefaultPingInterval   = time.Second
	DefaultLinkTimeout    = 3 * time.Second
	DefaultRequestTimeout = 5 * time.Second
	DefaultRevocationPoll = 5 * time.Second
)

// Config configures a Node. Only NodeID (or Identity), Region, Role,
// Identity and Handler are required.
type Config struct {
	// NodeID is this node's id. Empty means Identity.ID; when set it must
	// equal Identity.ID.
	NodeID string
	// Region is this node's region (a name from the region catalog). It
	// must equal the region of the certificate.
	Region string
	// Role is what this node does: wire.RoleEdge or wire.RoleHome. It must
	// equal the role of the certificate.
	Role wire.Role
	// ListenAddr is the UDP address to accept links on. Empty means do not
	// listen: the node only dials (edges).
	ListenAddr string
	// Identity is this node's certificate and the cluster CA.
	Identity *pki.Identity
	// Peers are the nodes this node dials and keeps links to.
	Peers []Peer
	// Handler serves the requests and events peers send to this node.
	Handler Handler
	// Revocations lists the revoked node ids: a revoked peer is refused at
	// the hello, and its links are cut within RevocationPoll. Nil means no
	// node is ever revoked (tests, and `courtd dev` without Redis).
	Revocations Revocations
	// RevocationPoll is how often the node reads Revocations again and
	// looks for a renewed certificate on disk. Zero means
	// DefaultRevocationPoll (5s).
	RevocationPoll time.Duration
	// ListenPacket opens the node's UDP socket. Nil means net.ListenPacket.
	// It is the seam for the WAN simulator (meshtest.Network.ListenPacket).
	ListenPacket func(network, addr string) (net.PacketConn, error)
	// PingInterval is how often each side pings on the control stream. Zero
	// means DefaultPingInterval (1s).
	PingInterval time.Duration
	// LinkTimeout is how long a link may go without a pong before it is
	// reported down and closed. It also bounds a dial's handshake. Zero means
	// DefaultLinkTimeout (3s). It must exceed PingInterval.
	LinkTimeout time.Duration
	// RequestTimeout bounds one Request, and one served request. Zero means
	// DefaultRequestTimeout (5s).
	RequestTimeout time.Duration
	// Logger receives the node's logs. Nil means discard.
	Logger *slog.Logger
	// Registerer registers the node's metrics. Nil means do not register.
	Registerer prometheus.Registerer
}

// Peer is a node to dial.
type Peer struct {
	// NodeID is the id the peer's certificate must name.
	NodeID string
	// Region is the peer's region, shown by Peers until the peer's hello
	// says otherwise.
	Region string
	// Addr is the peer's UDP address, host:port; resolved at every dial.
	Addr string
}

// PeerInfo identifies the sender of a request or an event, as its hello and
// certificate say.
type PeerInfo struct {
	NodeID string
	Region string
	Role   wire.Role
	// StateDocs: the peer takes court:state documents (its hello names
	// wire.FeatureStateDocs).
	StateDocs bool
	// DocAcks: the peer takes a response whose state is in a document
	// (its hello names wire.FeatureDocAcks).
	DocAcks bool
}

// PeerStatus is the state of the link to one peer.
type PeerStatus struct {
	NodeID string
	Region string
	// Role is empty until the peer's hello was received.
	Role wire.Role
	Up   bool
	// RTT is the latest ping round trip; zero while down or before the
	// first pong.
	RTT time.Duration
	// Since is when the link last went up or down (or when the node was
	// built, for a configured peer never reached).
	Since time.Time
}

// Handler serves what peers send to a node. Its methods are called
// concurrently: HandleRequest once per request, each in its own goroutine;
// HandleEvent in order for the events of one session (one flow), and
// concurrently across flows and links. A panic is logged and, for a request,
// answered with wire.CodeInternal. Close and Shutdown wait for calls in
// progress to return.
type Handler interface {
	// HandleRequest answers one request. A returned *wire.Error is sent to
	// the requester as is; any other error as wire.CodeInternal. ctx ends
	// when the link closes or RequestTimeout passes.
	HandleRequest(ctx context.Context, from PeerInfo, req *wire.Request) (*wire.Response, error)
	// HandleEvent takes one event. It should not block for long: it holds up
	// the following events of its flow.
	HandleEvent(from PeerInfo, ev *wire.Event)
}

// Revocations is the cluster's list of revoked node ids
// (directory.Redis keeps it in Redis).
type Revocations interface {
	// RevokedNodes returns every revoked node id.
	RevokedNodes(ctx context.Context) ([]string, error)
}

// LinkObserver is implemented by a Handler that wants to hear when the link
// to a peer goes up or down: a home retries the pushes that failed while an
// edge's link was down, an edge resyncs its sockets after a home's link
// flapped. LinkUp is called once the link is in use, before any event of
// the peer is handed to HandleEvent, so an event sent from LinkUp is queued
// ahead of any sent after; LinkDown once it is no longer in use (a duplicate
// link refused or replaced is neither). Both run on the link's goroutine:
// they must not block.
type LinkObserver interface {
	LinkUp(peer PeerInfo)
	LinkDown(peer PeerInfo)
}

// ErrConfig is wrapped by every configuration error New returns.
var ErrConfig = errors.New("mesh: invalid config")

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	c.Peers = slices.Clone(c.Peers)
	return c, c.fill()
}

func (c *Config) fill() error {
	if c.Identity == nil {
		return fmt.Errorf("%w: Identity is required", ErrConfig)
	}
	if c.NodeID == "" {
		c.NodeID = c.Identity.ID
	}
	if c.Region == "" {
		return fmt.Errorf("%w: Region is required", ErrConfig)
	}
	if !validRole(c.Role) {
		return fmt.Errorf("%w: Role %q", ErrConfig, c.Role)
	}
	if me := (pki.Claims{ID: c.NodeID, Role: c.Role, Region: c.Region}); me != c.Identity.Claims {
		return fmt.Errorf("%w: this node is %s but its certificate is for %s", ErrConfig, me, c.Identity.Claims)
	}
	if c.Handler == nil {
		return fmt.Errorf("%w: Handler is required", ErrConfig)
	}
	c.fillDurations()
	if c.LinkTimeout <= c.PingInterval {
		return fmt.Errorf("%w: LinkTimeout %v must exceed PingInterval %v", ErrConfig, c.LinkTimeout, c.PingInterval)
	}
	if c.ListenPacket == nil {
		c.ListenPacket = net.ListenPacket
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.checkPeers()
}

func (c *Config) fillDurations() {
	if c.PingInterval <= 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.LinkTimeout <= 0 {
		c.LinkTimeout = DefaultLinkTimeout
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.RevocationPoll <= 0 {
		c.RevocationPoll = DefaultRevocationPoll
	}
}

func (c *Config) checkPeers() error {
	seen := make(map[string]bool, len(c.Peers))
	for _, p := range c.Peers {
		switch {
		case !pki.ValidNodeID(p.NodeID):
			return fmt.Errorf("%w: peer node id %q", ErrConfig, p.NodeID)
		case p.NodeID == c.NodeID:
			return fmt.Errorf("%w: peer %q is this node", ErrConfig, p.NodeID)
		case seen[p.NodeID]:
			return fmt.Errorf("%w: peer %q listed twice", ErrConfig, p.NodeID)
		case p.Addr == "":
			return fmt.Errorf("%w: peer %q has no Addr", ErrConfig, p.NodeID)
		}
		seen[p.NodeID] = true
	}
	return nil
}

func validRole(r wire.Role) bool { return r == wire.RoleEdge || r == wire.RoleHome }
