package home

import (
	"context"
	"fmt"
	"time"

	"courtmesh/directory"
)

// State is the node's membership state: directory.StateActive,
// StateDraining or StateDrained.
func (s *Server) State() string { return *s.state.Load() }

// Sessions is the number of sessions the node holds.
func (s *Server) Sessions() int { return len(s.rt.held()) }

// Drain hands every held session to the region's other home nodes and
// leaves the region, but keeps the node running (its mesh links, probes and
// admin listener) in state drained, taking no new session, until Undrain.
// The sessions move as ownership.handOver describes: each pauses for about
// one claim round of a peer (DefaultClaimInterval), and actions meanwhile
// are retried by the edges at the new owner, not refused. It returns how
// many sessions it handed over; if ctx ends first, the rest are taken over
// once the node lease expires.
func (s *Server) Drain(ctx context.Context) (int, error) {
	s.setState(directory.StateDraining)
	start := time.Now()
	n, err := s.own.handOver(ctx)
	s.log.Info("handed every session to the region", "sessions", n, "took", time.Since(start), "err", err)
	if err != nil {
		return n, fmt.Errorf("home drain: %w", err)
	}
	s.setState(directory.StateDrained)
	return n, nil
}

// Undrain makes a drained (or draining) node active again: it rejoins the
// region under a new incarnation, and the claim rounds hand it its share of
// the sessions. It does nothing once Shutdown or Close began.
func (s *Server) Undrain() {
	if s.isDraining() {
		return
	}
	s.own.rejoin()
	s.setState(directory.StateActive)
	s.log.Info("rejoined the region")
}

func (s *Server) setState(st string) { s.state.Store(&st) }
