package home

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotHeld is returned by Migrate for a session this node does not hold.
var ErrNotHeld = errors.New("home: session not held by this node")

// Migrate moves session id, held here, live to home node target of region
// (this region or another). In order: the session is dropped once its
// commit in flight, if any, is done (no timer or commit acts for it here
// any more); its lease is handed to target (directory.Handoffs), its home
// region becoming region; target's next claim round acquires it at the next
// epoch, fences the store, re-arms its timers from the stored deadlines and
// pins it there. Actions arriving meanwhile are answered unavailable or
// not_owner, both temporary, and the edge retries them at target: held,
// then answered by the new owner, not refused. If the hand-off cannot be
// written the session is released to the region instead.
func (s *Server) Migrate(ctx context.Context, id, target, region string) error {
	switch {
	case target == "" || region == "":
		return errors.New("home: migrate needs a target node and region")
	case target == s.cfg.NodeID:
		return fmt.Errorf("home: %s already holds session %s", target, id)
	case s.isDraining():
		return errShuttingDown
	}
	if err := s.handTo(ctx, id, Target{Node: target, Region: region}); err != nil {
		return err
	}
	s.log.Info("migrated session", "session", id, "to", target, "to_region", region)
	return nil
}

// Target is a home node sessions are handed to, and its region.
type Target struct{ Node, Region string }

// handTo drops session id once its commit in flight is done and hands its
// lease to t (directory.Handoffs). If the hand-off cannot be written, the
// session is released to the region instead.
func (s *Server) handTo(ctx context.Context, id string, t Target) error {
	ref, ok := s.rt.drop(id)
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotHeld, id)
	}
	inc, _ := s.own.lease()
	if err := s.cfg.Directory.Handoff(ctx, id, s.cfg.NodeID, inc, t.Node, t.Region); err != nil {
		s.own.release(ctx, ref)
		return fmt.Errorf("home: hand off %s to %s: %w", id, t.Node, err)
	}
	return nil
}

// Held lists the ids of the sessions this node holds.
func (s *Server) Held() []string {
	refs := s.rt.held()
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.ID
	}
	return ids
}
