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
	s.draining, s.shutdown = true, true
	hs := s.hs
	s.mu.Unlock()
	if hs != nil {
		// Sockets are hijacked, so this only closes the listener and
		// waits for plain HTTP requests.
		_ = hs.Shutdown(ctx)
	}
	window := defaultDrainWindow
	if d, ok := ctx.Deadline(); ok {
		window = time.Until(d) * 3 / 4
	}
	s.spreadDisconnects(ctx, window)
	err := s.waitSockets(ctx)
	_ = s.Close()
	return err
}

// Drain makes the edge a lame duck and keeps it running: readiness fails at
// once (a load balancer stops sending), new sockets are refused, and the
// held ones are told to reconnect (Socket.IO DISCONNECT, close 1001)
// spread over window, so the clients resync by court:register on another
// edge. It returns once no socket is left, or ctx's error. Undrain makes
// the edge take sockets again.
func (s *Server) Drain(ctx context.Context, window time.Duration) error {
	s.mu.Lock()
	s.draining = true
	s.mu.Unlock()
	s.log.Info("draining", "sockets", s.Sockets(), "window", window)
	s.spreadDisconnects(ctx, window)
	return s.waitSockets(ctx)
}

// Undrain makes a drained edge accept sockets again; it does nothing once
// Shutdown or Close began.
func (s *Server) Undrain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed && !s.shutdown {
		s.draining = false
	}
}

// Sockets is the number of sockets the edge holds.
func (s *Server) Sockets() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.conns)
}

func (s *Server) spreadDisconnects(ctx context.Context, window time.Duration) {
	s.mu.RLock()
	conns := s.snapshotLocked()
	s.mu.RUnlock()
	if len(conns) == 0 {
		return
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
