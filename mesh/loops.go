package mesh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/quic-go/quic-go"
)

// Reconnect timing. Tests shorten them through export_test.go.
var (
	dialBackoffMin = 100 * time.Millisecond
	dialBackoffMax = 30 * time.Second
	// dialLogEvery: a peer's first failed dial is logged, then every Nth.
	dialLogEvery = 10
)

// backoff returns the pause after the given number of consecutive failed
// dials: exponential from dialBackoffMin, capped at dialBackoffMax, with the
// upper half jittered so that nodes restarted together do not redial in step.
func backoff(fails int) time.Duration {
	d := dialBackoffMin
	for i := 1; i < fails && d < dialBackoffMax; i++ {
		d *= 2
	}
	d = min(d, dialBackoffMax)
	return d/2 + rand.N(d/2+1)
}

// sleep waits for d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dialLoop keeps a link to p until ctx ends: the node drains or stops, or
// SetPeers no longer lists p. While another link to p is up (p dialed this
// node) it waits for that link to end. firstDone is called once the first
// attempt has been made.
func (r *runner) dialLoop(ctx context.Context, p Peer, firstDone func()) {
	defer firstDone()
	log := r.n.log.With("peer", p.NodeID, "peer_region", p.Region, "addr", p.Addr)
	fails := 0
	for ctx.Err() == nil {
		if l := r.n.upLink(p.NodeID); l != nil {
			firstDone()
			select {
			case <-l.done:
			case <-ctx.Done():
			}
			continue
		}
		l, err := r.dial(ctx, p)
		switch {
		case errors.Is(err, errSelfConnect):
			log.Error("mesh peer address leads back to this node; not dialing it")
			return
		case err != nil:
			fails++
			if ctx.Err() == nil && (fails == 1 || fails%dialLogEvery == 0) {
				log.Warn("mesh dial failed", "attempt", fails, "err", err)
			}
			firstDone()
		default:
			if fails > 0 {
				log.Info("mesh dial succeeded", "attempts", fails+1)
			}
			fails = 0
			r.runLink(l, firstDone)
		}
		sleep(ctx, backoff(fails))
	}
}

// dial connects to p and runs the hellos.
func (r *runner) dial(ctx context.Context, p Peer) (*link, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*r.n.cfg.LinkTimeout)
	defer cancel()
	addr, err := net.ResolveUDPAddr("udp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", p.Addr, err)
	}
	conn, err := r.tr.Dial(ctx, addr, r.n.clientTLS, r.n.quicConf)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.Addr, err)
	}
	l, err := r.dialHello(ctx, conn, p)
	if err != nil {
		closeConn(conn, err)
		return nil, err
	}
	return l, nil
}

// acceptLoop accepts connections until the node drains or stops, and serves
// each in its own goroutine.
func (r *runner) acceptLoop(ln *quic.Listener) {
	defer ln.Close()
	for {
		conn, err := ln.Accept(r.loopCtx)
		if err != nil {
			if r.loopCtx.Err() == nil {
				r.n.log.Error("mesh accept failed", "err", err)
			}
			return
		}
		r.g.Go(func() error {
			r.serveAccepted(conn)
			return nil
		})
	}
}

func (r *runner) serveAccepted(conn *quic.Conn) {
	ctx, cancel := context.WithTimeout(r.runCtx, r.n.cfg.LinkTimeout)
	l, err := r.acceptHello(ctx, conn)
	cancel()
	if err != nil {
		if r.runCtx.Err() == nil {
			r.n.log.Warn("mesh handshake failed", "remote", conn.RemoteAddr().String(), "err", err)
		}
		closeConn(conn, err)
		return
	}
	r.runLink(l, func() {})
}

// runLink registers l and serves it until it closes, or closes it at once
// if the node keeps another link to the same peer. registered is called
// once l is registered or refused.
func (r *runner) runLink(l *link, registered func()) {
	ok := r.n.register(l)
	registered()
	if !ok {
		l.close(closeDuplicate, "another link to this peer is in use")
		_ = l.conn.CloseWithError(closeDuplicate, "another link to this peer is in use")
		return
	}
	l.run()
}
