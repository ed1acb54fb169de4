package edge

import (
	"context"
	"time"

	"courtmesh/edge/internal/sio"
)

var disconnectFrame = sio.AppendDisconnect(nil, sio.DefaultNamespace)

// Shutdown drains the edge, in this order:
//
//  1. Fail readiness (Serving reports false) and close the listener: no new
//     sockets.
//  2. Tell every client to move: a Socket.IO DISCONNECT, then a WebSocket
//     close frame 1001 "shutdown". The court client reconnects on any
//     server-side disconnect and resyncs with court:register.
//  3. Spread those disconnects over a drain window (three quarters of the
//     time left before ctx's deadline, else 10 s) in drainSteps batches, so
//     the region does not take a reconnect storm.
//  4. Wait for the sockets to close; at ctx's deadline hard-close the rest
//     (Close) and return ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.draining = true
	hs := s.hs
	s.mu.Unlock()
	if hs != nil {
		// Sockets are hijacked, so this only closes the listener and
		// waits for plain HTTP requests.
		_ = hs.Shutdown(ctx)
	}
	s.spreadDisconnects(ctx)
	err := s.waitSockets(ctx)
	_ = s.Close()
	return err
}

func (s *Server) spreadDisconnects(ctx context.Context) {
	s.mu.RLock()
	conns := s.snapshotLocked()
	s.mu.RUnlock()
	if len(conns) == 0 {
		return
	}
	window := defaultDrainWindow
	if d, ok := ctx.Deadline(); ok {
		window = time.Until(d) * 3 / 4
	}
	steps := min(len(conns), drainSteps)
	per := (len(conns) + steps - 1) / steps
	tick := time.NewTicker(max(window/time.Duration(steps), time.Millisecond))
	defer tick.Stop()
	for len(conns) > 0 {
		n := min(per, len(conns))
		for _, c := range conns[:n] {
			c.closeAfterFlush(reasonShutdown, disconnectFrame)
		}
		if conns = conns[n:]; len(conns) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitSockets waits until no socket is open or ctx is done.
func (s *Server) waitSockets(ctx context.Context) error {
	for {
		s.mu.RLock()
		n := len(s.conns)
		s.mu.RUnlock()
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.connGone:
		}
	}
}
