package home

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

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
func (s *Server) Drain(ctx context.Context) (int, error) { return s.DrainTo(ctx, nil) }

// drainPasses bounds the passes DrainTo makes over the held sessions: a
// session created here while the edges still saw the node active is handed
// over by the next pass.
const drainPasses = 3

// DrainTo is Drain with every held session handed to the home nodes of to
// (of any region) instead of the region's claim rounds, spread among them
// by rendezvous hashing on the session id. The node stops its claim rounds
// and hands each session to its target as Migrate does: each pauses for
// about one claim round of its target, and actions meanwhile are retried by
// the edges at the target. Then it leaves the region as Drain does; a
// session whose hand-off failed, or that arrived after the last pass, goes
// to the region. It returns how many sessions it handed over in all. Empty
// to is Drain.
func (s *Server) DrainTo(ctx context.Context, to []Target) (int, error) {
	if err := s.CheckTargets(to); err != nil {
		return 0, err
	}
	byNode := make(map[string]Target, len(to))
	var nodes []string
	for _, t := range to {
		if _, dup := byNode[t.Node]; !dup {
			nodes = append(nodes, t.Node)
		}
		byNode[t.Node] = t
	}
	s.setState(directory.StateDraining)
	start := time.Now()
	directed := 0
	if len(nodes) > 0 {
		s.own.stopRounds() // no claim round takes a session back meanwhile
		directed = s.handAll(ctx, func(id string) Target { return byNode[directory.Rendezvous(id, nodes)] })
	}
	rest, err := s.own.handOver(ctx)
	s.log.Info("handed every session over", "to", nodes, "sessions", directed, "to_region", rest, "took", time.Since(start), "err", err)
	if err != nil {
		return directed + rest, fmt.Errorf("home drain: %w", err)
	}
	s.setState(directory.StateDrained)
	return directed + rest, nil
}

// CheckTargets reports whether DrainTo would take to: every target names a
// node, other than this one, and its region.
func (s *Server) CheckTargets(to []Target) error {
	for _, t := range to {
		switch {
		case t.Node == "" || t.Region == "":
			return fmt.Errorf("home drain: target %+v needs a node and its region", t)
		case t.Node == s.cfg.NodeID:
			return fmt.Errorf("home drain: %s cannot take its own sessions: pick another target", t.Node)
		}
	}
	return nil
}

// handAll hands every held session to targetOf its id, in up to drainPasses
// passes, and returns how many it handed over.
func (s *Server) handAll(ctx context.Context, targetOf func(id string) Target) int {
	var n atomic.Int64
	for range drainPasses {
		refs := s.rt.held()
		if len(refs) == 0 || ctx.Err() != nil {
			break
		}
		g := errgroup.Group{}
		g.SetLimit(dropParallel)
		for _, ref := range refs {
			g.Go(func() error {
				t := targetOf(ref.ID)
				err := s.handTo(ctx, ref.ID, t)
				switch {
				case err == nil:
					n.Add(1)
				case !errors.Is(err, ErrNotHeld):
					s.log.Warn("drain: hand-off failed, the region takes the session", "session", ref.ID, "to", t.Node, "err", err)
				}
				return nil
			})
		}
		_ = g.Wait()
	}
	return int(n.Load())
}

// FollowMembers gives the node the membership (courtd reads it every
// second): the region's home nodes it shows draining or drained get no
// session from this node's claim rounds, and no new session placed here
// hashes to them. Who is alive still comes from the node leases.
func (s *Server) FollowMembers(ms []directory.Member) { s.own.followMembers(ms) }

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
