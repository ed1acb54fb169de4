package mesh

import (
	"fmt"
	"time"

	"courtmesh/mesh/wire"
)

// readControl reads the control stream after the hellos: pings, pongs, a
// GoAway, or an error.
func (l *link) readControl() error {
	for l.ctx.Err() == nil {
		t, body, err := wire.ReadFrame(l.ctrl)
		if err != nil {
			l.fail(closeProtocol, fmt.Errorf("read control stream: %w", err))
			return nil
		}
		if err := l.handleControl(t, body); err != nil {
			l.close(closeProtocol, err.Error())
			return nil
		}
	}
	return nil
}

func (l *link) handleControl(t wire.FrameType, body []byte) error {
	switch t {
	case wire.FramePing:
		var p wire.Ping
		if err := wire.DecodeBody(t, body, wire.FramePing, &p); err != nil {
			return err
		}
		return l.writeControl(wire.FramePong, &p)
	case wire.FramePong:
		var p wire.Ping
		if err := wire.DecodeBody(t, body, wire.FramePong, &p); err != nil {
			return err
		}
		l.gotPong(p)
		return nil
	case wire.FrameGoAway:
		var g wire.GoAway
		if err := wire.DecodeBody(t, body, wire.FrameGoAway, &g); err != nil {
			return err
		}
		l.peerGoingAway(g.Reason)
		return nil
	case wire.FrameError:
		var e wire.Error
		if err := wire.DecodeBody(t, body, wire.FrameError, &e); err != nil {
			return err
		}
		return &e
	}
	return fmt.Errorf("unexpected %s frame on the control stream", t)
}

// writeControl writes one frame on the control stream. A write that does not
// finish within the link timeout fails.
func (l *link) writeControl(t wire.FrameType, v any) error {
	l.ctrlMu.Lock()
	defer l.ctrlMu.Unlock()
	_ = l.ctrl.SetWriteDeadline(time.Now().Add(l.n.cfg.LinkTimeout))
	if err := wire.WriteFrame(l.ctrl, t, v); err != nil {
		return fmt.Errorf("write %s: %w", t, err)
	}
	return nil
}

// pingLoop pings every PingInterval and closes the link when no pong came
// within LinkTimeout.
func (l *link) pingLoop() error {
	t := time.NewTicker(l.n.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			return nil
		case <-t.C:
		}
		if silent := l.sincePong(); silent > l.n.cfg.LinkTimeout {
			l.close(closeLinkTimeout, fmt.Sprintf("no pong for %v", silent.Round(time.Millisecond)))
			return nil
		}
		if err := l.writeControl(wire.FramePing, l.nextPing()); err != nil {
			l.fail(closeProtocol, err)
			return nil
		}
	}
}

func (l *link) sincePong() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Since(l.lastPong)
}

func (l *link) nextPing() *wire.Ping {
	return &wire.Ping{Nonce: l.pings.Add(1), SentUnixNano: time.Now().UnixNano()}
}

// gotPong records liveness and the round trip. Pings are pipelined when the
// RTT exceeds the ping interval, so the round trip comes from the echoed
// send time, which is this node's own clock.
func (l *link) gotPong(p wire.Ping) {
	now := time.Now()
	rtt := time.Duration(now.UnixNano() - p.SentUnixNano)
	valid := rtt >= 0 && rtt <= l.n.cfg.LinkTimeout
	l.mu.Lock()
	l.lastPong = now
	if valid {
		l.rtt = rtt
	}
	l.mu.Unlock()
	if valid {
		l.n.m.observeRTT(l.peer.Region, rtt)
	}
}

// goAway tells the peer this node is going away.
func (l *link) goAway(reason string) {
	if err := l.writeControl(wire.FrameGoAway, &wire.GoAway{Reason: reason}); err != nil {
		l.close(closeNormal, reason)
	}
}

// peerGoingAway takes the link out of use for new requests, and closes it
// once the requests in flight are answered (each is bounded by
// RequestTimeout).
func (l *link) peerGoingAway(reason string) {
	l.log.Info("mesh peer going away", "reason", reason)
	l.mu.Lock()
	already := l.goingAway
	l.goingAway = true
	l.mu.Unlock()
	if already {
		return
	}
	l.n.unregister(l)
	l.g.Go(func() error {
		l.reqs.Wait()
		l.close(closeNormal, "peer went away: "+reason)
		return nil
	})
}
