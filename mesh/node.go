package mesh

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"golang.org/x/sync/errgroup"

	"courtmesh/lifecycle"
	"courtmesh/mesh/wire"
)

// Errors.
var (
	// ErrQueueFull is returned by SendEvent when the event's flow queue is
	// full; the event was dropped.
	ErrQueueFull = errors.New("mesh: event queue full")
	// ErrRunTwice is returned by a second call of Run.
	ErrRunTwice = lifecycle.ErrRunTwice
	// ErrClosed is returned by Run after Close (it wraps
	// lifecycle.ErrClosed), and is the cause of the links' end when the node
	// closes.
	ErrClosed = fmt.Errorf("mesh: node %w", lifecycle.ErrClosed)
)

// Node is one member of the mesh. Its methods are safe for concurrent use.
type Node struct {
	cfg       Config
	log       *slog.Logger
	m         *metrics
	quicConf  *quic.Config
	serverTLS *tls.Config
	clientTLS *tls.Config

	ready       chan struct{} // closed once listening and first dials made
	done        chan struct{} // closed when Run returns
	drainCtx    context.Context
	cancelDrain context.CancelCauseFunc // by Shutdown and Close
	stopCtx     context.Context
	cancelStop  context.CancelCauseFunc // by Close

	rev revocations

	mu      sync.Mutex
	started bool                  // guarded by mu
	addr    net.Addr              // guarded by mu
	peers   map[string]*peerState // guarded by mu
	// dial is the peers to dial (Config.Peers, then SetPeers); dialers the
	// dial loops of a running node, by peer id; run the Run serving them,
	// nil before and after.
	dial    []Peer             // guarded by mu
	dialers map[string]*dialer // guarded by mu
	run     *runner            // guarded by mu
}

// dialer is the dial loop of one peer.
type dialer struct {
	peer   Peer
	cancel context.CancelFunc
}

// New validates cfg and builds a Node. It does no I/O.
func New(cfg Config) (*Node, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	if err := registerCertExpiry(cfg); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:       cfg,
		log:       cfg.Logger.With("component", "mesh", "node", cfg.NodeID, "region", cfg.Region),
		m:         m,
		quicConf:  quicConfig(cfg),
		serverTLS: cfg.Identity.ServerTLS(),
		clientTLS: cfg.Identity.ClientTLS(),
		ready:     make(chan struct{}),
		done:      make(chan struct{}),
		peers:     make(map[string]*peerState),
		dial:      cfg.Peers,
		dialers:   make(map[string]*dialer),
	}
	n.drainCtx, n.cancelDrain = context.WithCancelCause(context.Background())
	n.stopCtx, n.cancelStop = context.WithCancelCause(context.Background())
	now := time.Now()
	for _, p := range cfg.Peers {
		n.peers[p.NodeID] = &peerState{info: PeerInfo{NodeID: p.NodeID, Region: p.Region}, since: now}
	}
	return n, nil
}

// quicConfig keeps QUIC's own liveness behind the mesh's: keep-alives at the
// ping interval, and an idle timeout of twice the link timeout, so that a
// silent link is normally reported by the missing pongs (with a reason) and
// QUIC's idle timeout is only the backstop.
//
// Flow control: the event flows are the only streams whose reader may stall
// (a slow HandleEvent), and unread bytes count against the connection's
// window as well as the stream's. The connection window is therefore larger
// than all event flows' stream windows together, so that stalled flows can
// never starve the control stream (pings) or the request streams.
func quicConfig(cfg Config) *quic.Config {
	return &quic.Config{
		HandshakeIdleTimeout:           cfg.LinkTimeout,
		MaxIdleTimeout:                 2 * cfg.LinkTimeout,
		KeepAlivePeriod:                cfg.PingInterval,
		MaxIncomingStreams:             maxConcurrentRequests,
		MaxIncomingUniStreams:          wire.EventFlows,
		InitialStreamReceiveWindow:     streamWindow / 2,
		MaxStreamReceiveWindow:         streamWindow,
		InitialConnectionReceiveWindow: connWindow,
		MaxConnectionReceiveWindow:     2 * connWindow,
	}
}

// Flow-control windows, in bytes. streamWindow allows about 40 Mbit/s per
// stream at 200 ms RTT.
const (
	streamWindow = 1 << 20
	connWindow   = wire.EventFlows*streamWindow + 4<<20
)

// maxConcurrentRequests bounds the requests a peer may have in flight on one
// link; more wait in OpenStreamSync (bounded by RequestTimeout).
const maxConcurrentRequests = 1024

// NodeID returns this node's id.
func (n *Node) NodeID() string { return n.cfg.NodeID }

// Ready is closed once the node listens (if it does) and has made its first
// attempt to dial every peer.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Addr returns the address the node listens on, or nil if it does not
// listen. It is valid once Ready is closed.
func (n *Node) Addr() net.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// Run opens the node's socket, listens if ListenAddr is set, keeps a link to
// every configured peer, and serves links until ctx ends or Close or
// Shutdown is called; it returns nil then. It returns an error only if the
// node cannot start (socket, listener, a second Run); Ready is never closed
// in that case.
func (n *Node) Run(ctx context.Context) error {
	if err := n.start(); err != nil {
		return err
	}
	defer close(n.done)
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer context.AfterFunc(n.stopCtx, func() { cancel(context.Cause(n.stopCtx)) })()
	loopCtx, cancelLoops := context.WithCancelCause(runCtx)
	defer cancelLoops(nil)
	defer context.AfterFunc(n.drainCtx, func() { cancelLoops(context.Cause(n.drainCtx)) })()

	pc, err := n.cfg.ListenPacket("udp", listenAddr(n.cfg))
	if err != nil {
		return fmt.Errorf("open mesh socket: %w", err)
	}
	resetKey, err := n.cfg.Identity.StatelessResetKey()
	if err != nil {
		pc.Close()
		return err
	}
	srk := quic.StatelessResetKey(resetKey)
	r := &runner{n: n, tr: &quic.Transport{Conn: pc, StatelessResetKey: &srk}, runCtx: runCtx, loopCtx: loopCtx}
	defer r.closeTransport()
	var ln *quic.Listener
	if n.cfg.ListenAddr != "" {
		if ln, err = r.tr.Listen(n.serverTLS, n.quicConf); err != nil {
			return fmt.Errorf("listen on %s: %w", pc.LocalAddr(), err)
		}
		n.setAddr(ln.Addr())
		n.log.Info("mesh listening", "addr", ln.Addr().String())
	}
	r.serve(ln)
	return nil
}

// runner holds what one Run shares between its goroutines.
type runner struct {
	n  *Node
	tr *quic.Transport
	// runCtx ends when the node stops; links live on it.
	runCtx context.Context
	// loopCtx ends when the node stops or drains; the accept and dial loops
	// live on it.
	loopCtx context.Context
	g       errgroup.Group
	// dialing counts the dial loops, which SetPeers may start at any time
	// while the loops run.
	dialing sync.WaitGroup
}

// serve runs the accept loop (if ln is not nil), one dial loop per peer and
// every link until all have ended.
func (r *runner) serve(ln *quic.Listener) {
	var first sync.WaitGroup
	if ln != nil {
		r.g.Go(func() error { r.acceptLoop(ln); return nil })
	}
	r.g.Go(func() error { r.watchIdentity(); return nil })
	r.n.mu.Lock()
	r.n.run = r
	first.Add(len(r.n.dial))
	for _, p := range r.n.dial {
		r.startDialLocked(p, sync.OnceFunc(first.Done))
	}
	r.n.mu.Unlock()
	r.g.Go(func() error {
		<-r.loopCtx.Done()
		r.n.mu.Lock()
		r.n.run = nil
		r.n.mu.Unlock()
		r.dialing.Wait()
		return nil
	})
	r.g.Go(func() error {
		first.Wait()
		close(r.n.ready)
		return nil
	})
	_ = r.g.Wait() // every goroutine returns nil
}

// startDialLocked starts the dial loop of p. n.mu is held and n.run is r.
func (r *runner) startDialLocked(p Peer, firstDone func()) {
	ctx, cancel := context.WithCancel(r.loopCtx)
	r.n.dialers[p.NodeID] = &dialer{peer: p, cancel: cancel}
	r.dialing.Add(1)
	go func() {
		defer r.dialing.Done()
		defer cancel()
		r.dialLoop(ctx, p, firstDone)
	}()
}

// SetPeers makes peers the nodes this node dials, replacing Config.Peers
// or the previous SetPeers; the membership calls it as nodes come and go.
// A new peer is dialed at once; a peer no longer listed is not redialed,
// and forgotten once its link is down (a link that is up stays until it
// ends, since a lapsed announcement does not mean a dead link); a peer whose
// address changed is dialed at the new one. It returns an ErrConfig error,
// and changes nothing, if peers is not a valid Config.Peers.
func (n *Node) SetPeers(peers []Peer) error {
	c := Config{NodeID: n.cfg.NodeID, Peers: slices.Clone(peers)}
	if err := c.checkPeers(); err != nil {
		return err
	}
	want := make(map[string]Peer, len(peers))
	for _, p := range c.Peers {
		want[p.NodeID] = p
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for _, p := range n.dial {
		if w, ok := want[p.NodeID]; ok && w.Addr == p.Addr {
			continue
		}
		if d := n.dialers[p.NodeID]; d != nil {
			d.cancel()
			delete(n.dialers, p.NodeID)
		}
		if ps := n.peers[p.NodeID]; ps != nil && ps.link == nil {
			delete(n.peers, p.NodeID)
		}
	}
	n.dial = c.Peers
	for _, p := range c.Peers {
		if n.peers[p.NodeID] == nil {
			n.peers[p.NodeID] = &peerState{info: PeerInfo{NodeID: p.NodeID, Region: p.Region}, since: now}
		}
		if n.run != nil && n.dialers[p.NodeID] == nil {
			n.run.startDialLocked(p, func() {})
		}
	}
	return nil
}

// closeTransport closes the QUIC transport and then the socket, which the
// transport does not own. Every link is closed by then.
func (r *runner) closeTransport() {
	_ = r.tr.Close()
	_ = r.tr.Conn.Close()
}

// start marks the node started, or refuses a second Run.
func (n *Node) start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return ErrRunTwice
	}
	if n.stopCtx.Err() != nil {
		return ErrClosed
	}
	n.started = true
	return nil
}

func (n *Node) setAddr(a net.Addr) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addr = a
}

func listenAddr(cfg Config) string {
	if cfg.ListenAddr == "" {
		return ":0"
	}
	return cfg.ListenAddr
}

// errNodeDraining is the cause of the loops' end in Shutdown.
var errNodeDraining = errors.New("mesh: node shutting down")

// Shutdown drains the node, then closes it. In order:
//  1. stop accepting links and dialing peers; new Requests fail with
//     wire.CodeShuttingDown;
//  2. write FrameGoAway on every link: the peer stops sending requests on
//     it and closes it once its requests in flight are answered;
//  3. wait until every link is closed, or ctx ends;
//  4. Close: CloseWithError on what is left, and Run returns.
//
// It returns ctx's error if the drain did not finish in time.
func (n *Node) Shutdown(ctx context.Context) error {
	n.cancelDrain(errNodeDraining)
	links := n.links()
	for _, l := range links {
		l.goAway("node shutting down")
	}
	var err error
	for _, l := range links {
		select {
		case <-l.done:
		case <-ctx.Done():
			err = fmt.Errorf("mesh shutdown: %w", ctx.Err())
		}
		if err != nil {
			break
		}
	}
	return errors.Join(err, n.Close())
}

// Close closes every link at once and stops Run, waiting for it to return.
// It is idempotent and safe to call without Run.
func (n *Node) Close() error {
	n.cancelDrain(ErrClosed)
	n.cancelStop(ErrClosed)
	n.mu.Lock()
	started := n.started // a Run not started yet will refuse to
	n.mu.Unlock()
	if started {
		<-n.done
	}
	return nil
}
