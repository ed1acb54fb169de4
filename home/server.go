package home

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"courtmesh/directory"
	"courtmesh/lifecycle"
)

// ErrRunning is returned by a second call of Run: lifecycle.ErrRunTwice.
var ErrRunning = lifecycle.ErrRunTwice

// Server is a home node: the single writer of the sessions it owns. It is
// ownership (own) and the session runtime (rt), joined at the seam of
// seam.go, plus the role's lifecycle.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	own     *ownership
	rt      *sessions

	state atomic.Pointer[string] // State

	mu        sync.Mutex
	started   bool // guarded by mu
	ready     chan struct{}
	closed    chan struct{} // closed by Close: Run's loops stop
	closeOnce sync.Once
	draining  chan struct{} // closed by Shutdown or Close: requests are refused
	drainOnce sync.Once
	done      chan struct{} // closed when Run returns
}

// New returns a Server for cfg. It does no I/O and starts nothing.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.With("component", "home", "region", cfg.Region, "node", cfg.NodeID)
	own := newOwnership(cfg, log, m)
	rt := newSessions(cfg, log, m, own)
	own.rt = rt
	s := &Server{
		cfg: cfg, log: log, metrics: m, own: own, rt: rt,
		ready:    make(chan struct{}),
		closed:   make(chan struct{}),
		draining: make(chan struct{}),
		done:     make(chan struct{}),
	}
	s.setState(directory.StateActive)
	return s, nil
}

// Run renews the node lease, takes over the region's orphaned sessions and
// fires timers until ctx is cancelled, Shutdown or Close; it then waits for
// the work it started and returns nil. Ready is closed once the node holds
// its lease. A second call returns ErrRunning; a call after Close returns
// lifecycle.ErrClosed.
func (s *Server) Run(ctx context.Context) error {
	if err := s.start(); err != nil {
		return err
	}
	defer close(s.done)
	defer s.rt.stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		select {
		case <-ctx.Done():
		case <-s.closed:
			cancel()
		}
		return nil
	})
	g.Go(func() error { return s.own.run(ctx) })
	g.Go(func() error { return s.rt.runTimers(ctx) })
	g.Go(func() error { return s.signalReady(ctx) })
	return g.Wait()
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.started:
		return ErrRunning
	case s.isClosed():
		return lifecycle.ErrClosed
	}
	s.started = true
	return nil
}

// signalReady closes ready once the first lease renewal succeeded.
func (s *Server) signalReady(ctx context.Context) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for _, ok := s.own.lease(); !ok; _, ok = s.own.lease() {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
	close(s.ready)
	s.log.Info("home running", "timer_scale", s.cfg.TimerScale, "lease_ttl", s.cfg.LeaseTTL)
	return nil
}

// Ready is closed once Run holds the node lease.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Shutdown is a drain (Drain) that then closes the server. In order:
//  1. new requests are refused with wire.CodeShuttingDown (the edge retries
//     them at the new owner); judge calls in flight are cancelled (the new
//     owner makes them again);
//  2. the node stops acting and leaves the region: its node lease is
//     deleted, so the region's claim rounds count it out at once and take
//     its sessions over at the next epoch;
//  3. each held session is dropped once its commit in flight, if any, is
//     done;
//  4. Close: Run returns.
//
// A peer's next claim round, within its ClaimInterval, takes every session
// over, instead of after the lease TTL. If ctx ends first, Shutdown closes
// anyway and returns ctx's error; the sessions not dropped yet are taken
// over all the same, the node lease being gone.
func (s *Server) Shutdown(ctx context.Context) error {
	s.drain()
	// No claim round may run once the runtime stops: it would acquire
	// sessions the closing runtime refuses to install.
	s.own.stopRounds()
	s.rt.stop()
	_, err := s.Drain(ctx)
	if err != nil {
		err = fmt.Errorf("home shutdown: %w", err)
	}
	_ = s.Close()
	return err
}

// Close stops Run at once and waits for it to return. It is idempotent and
// safe to call without Run. The sessions stay owned by this node's lease in
// Redis until it expires; then the region's other home nodes take them
// over. Shutdown hands them over at once instead.
func (s *Server) Close() error {
	s.drain()
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		<-s.done
	}
	return nil
}

func (s *Server) drain() { s.drainOnce.Do(func() { close(s.draining) }) }

func (s *Server) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

func (s *Server) isDraining() bool {
	select {
	case <-s.draining:
		return true
	default:
		return false
	}
}
