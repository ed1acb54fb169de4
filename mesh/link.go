package mesh

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
	"golang.org/x/sync/errgroup"

	"courtmesh/mesh/wire"
)

// Application error codes of CONNECTION_CLOSE.
const (
	closeNormal      quic.ApplicationErrorCode = 0 // shutdown, or after GoAway
	closeProtocol    quic.ApplicationErrorCode = 1 // a bad frame or stream
	closeRefused     quic.ApplicationErrorCode = 2 // hello refused (version, identity)
	closeLinkTimeout quic.ApplicationErrorCode = 3 // no pong within the link timeout
	closeDuplicate   quic.ApplicationErrorCode = 4 // the pair keeps another link
	closeSelf        quic.ApplicationErrorCode = 5 // dialed itself
)

// Stream error codes of CancelRead and CancelWrite.
const streamCanceled quic.StreamErrorCode = 1

// closeCause is why a link closed, as its context's cause.
type closeCause struct {
	code   quic.ApplicationErrorCode
	reason string
}

func (c *closeCause) Error() string { return c.reason }

// link is one QUIC connection to a peer, after the hellos.
//
// Lock order: Node.mu before link.mu.
type link struct {
	n      *Node
	conn   *quic.Conn
	ctrl   *quic.Stream
	peer   PeerInfo
	dialed bool // this node is the client
	log    *slog.Logger

	ctx    context.Context // ends when the link closes; cause is why
	cancel context.CancelCauseFunc
	g      errgroup.Group
	done   chan struct{} // closed when run returns

	ctrlMu sync.Mutex // serialises writes to ctrl
	flows  [wire.EventFlows]chan []byte
	// reuse: the peer answers several requests per stream
	// (wire.FeatureReusedStreams); idle holds the request streams between
	// two requests, at most maxIdleStreams.
	reuse bool
	// zstd: the peer takes wire.FrameCompressed; large frames to it go
	// compressed when the link is long (compress.go).
	zstd   bool
	idleMu sync.Mutex
	idle   []*quic.Stream // guarded by idleMu

	mu        sync.Mutex
	goingAway bool           // guarded by mu; no new requests once set
	reqs      sync.WaitGroup // outgoing requests; Add only under mu while !goingAway
	lastPong  time.Time      // guarded by mu; starts at the hello
	rtt       time.Duration  // guarded by mu
	pings     atomic.Uint64  // nonce of the last ping sent
}

func newLink(n *Node, ctx context.Context, conn *quic.Conn, ctrl *quic.Stream, hello *wire.Hello, dialed bool) *link {
	peer := peerOf(hello)
	l := &link{
		n: n, conn: conn, ctrl: ctrl, peer: peer, dialed: dialed,
		reuse:    slices.Contains(hello.Features, wire.FeatureReusedStreams),
		zstd:     slices.Contains(hello.Features, wire.FeatureZstd),
		log:      n.log.With("peer", peer.NodeID, "peer_region", peer.Region),
		done:     make(chan struct{}),
		lastPong: time.Now(),
	}
	l.ctx, l.cancel = context.WithCancelCause(ctx)
	for i := range l.flows {
		l.flows[i] = make(chan []byte, eventQueueLen)
	}
	return l
}

// close closes the link for the given reason; the first reason wins.
func (l *link) close(code quic.ApplicationErrorCode, reason string) {
	l.cancel(&closeCause{code: code, reason: reason})
}

// fail closes the link after a stream error: with the connection's own
// cause if the connection is gone (the peer closed it, or it timed out), so
// that the log says why; otherwise for err.
func (l *link) fail(code quic.ApplicationErrorCode, err error) {
	if cause := context.Cause(l.conn.Context()); cause != nil {
		l.cancel(cause)
		return
	}
	l.close(code, err.Error())
}

// run serves the link until it closes, then reports it down.
func (l *link) run() {
	defer close(l.done)
	l.log.Info("mesh link up", "role", l.peer.Role, "dialed", l.dialed)
	obs, _ := l.n.cfg.Handler.(LinkObserver)
	if obs != nil {
		obs.LinkUp(l.peer)
	}
	l.g.Go(l.watch)
	l.g.Go(l.readControl)
	l.g.Go(l.pingLoop)
	l.g.Go(l.acceptRequests)
	l.g.Go(l.acceptFlows)
	for i := range l.flows {
		l.g.Go(func() error { return l.writeFlow(l.flows[i]) })
	}
	_ = l.g.Wait() // every goroutine returns nil
	down := l.n.unregister(l)
	l.logDown()
	if down && obs != nil {
		obs.LinkDown(l.peer)
	}
}

// watch ties the link's context to the connection's: whichever ends first
// ends the other.
func (l *link) watch() error {
	select {
	case <-l.ctx.Done():
		code, reason := closeNormal, context.Cause(l.ctx).Error()
		var cc *closeCause
		if errors.As(context.Cause(l.ctx), &cc) {
			code = cc.code
		}
		_ = l.conn.CloseWithError(code, reason)
	case <-l.conn.Context().Done():
		l.cancel(context.Cause(l.conn.Context()))
	}
	return nil
}

func (l *link) logDown() {
	cause := context.Cause(l.ctx)
	var cc *closeCause
	var app *quic.ApplicationError
	switch {
	case errors.Is(cause, ErrClosed), errors.Is(cause, context.Canceled),
		errors.Is(cause, context.DeadlineExceeded), errors.As(cause, &cc) && cc.code == closeNormal:
		l.log.Info("mesh link closed", "reason", cause.Error())
	case errors.As(cause, &cc) && cc.code == closeDuplicate,
		errors.As(cause, &app) && app.Remote && app.ErrorCode == closeDuplicate:
		l.log.Debug("duplicate mesh link closed", "reason", cause.Error())
	case errors.As(cause, &app) && app.Remote && app.ErrorCode == closeNormal:
		l.log.Info("mesh link closed by peer", "reason", app.ErrorMessage)
	default:
		l.log.Warn("mesh link down", "reason", cause.Error())
	}
}

// lastRTT returns the latest measured round trip.
func (l *link) lastRTT() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rtt
}

// beginRequest counts an outgoing request, unless the peer is going away.
func (l *link) beginRequest() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.goingAway {
		return false
	}
	l.reqs.Add(1)
	return true
}
