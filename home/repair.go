package home

import (
	"context"
	"errors"
	"time"

	"courtmesh/directory"
)

// repairInterval is how often a home checks that the directory (a cache in
// Redis) still knows what the store knows. A variable so tests can shorten
// it.
var repairInterval = 5 * time.Second

// repairKey is the rendezvous key that picks the one node of a region that
// rebuilds routes of sessions nobody holds.
const repairKey = "directory-repair"

// runRepair rebuilds the directory after Redis lost it (a restart without
// persistence, a failover to an empty replica): every node re-creates the
// routes and claims of the sessions it holds, and one node of the region
// re-creates, as released, the routes of live sessions in Postgres that no
// route names, so that the claim loop takes them over. Postgres is the
// source of truth; Redis is rebuilt from it.
func (s *Server) runRepair(ctx context.Context) error {
	tick := time.NewTicker(repairInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		if !s.lease.valid() {
			continue
		}
		if n := s.repairHeld(ctx); n > 0 {
			s.log.Warn("directory repaired: routes of held sessions were missing", "sessions", n)
		}
		if p := s.live.Load(); p != nil && directory.Rendezvous(repairKey, *p) == s.cfg.NodeID {
			if n, err := s.repairOrphans(ctx); err != nil {
				s.log.Warn("directory repair from the store failed", "err", err)
			} else if n > 0 {
				s.log.Warn("directory repaired: live sessions without a route released to the region", "sessions", n)
			}
		}
	}
}

// repairHeld re-creates the missing routes of the sessions this node holds,
// and steps down from a held session whose route names another owner or no
// live one (the directory was rebuilt under it): the claim loop then takes it
// over properly, at the next epoch, from the store.
func (s *Server) repairHeld(ctx context.Context) int {
	repaired := 0
	inc := s.lease.incarnation()
	for _, e := range s.reg.all() {
		if ctx.Err() != nil {
			return repaired
		}
		r, err := s.cfg.Directory.RouteOf(ctx, e.id(), false)
		if err == nil && r.OwnerNode == s.cfg.NodeID && r.OwnerInc == inc {
			continue
		}
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			continue
		}
		e.mu.Lock()
		if s.repairEntry(ctx, e, inc) {
			repaired++
		}
		e.mu.Unlock()
	}
	return repaired
}

// repairEntry checks e's route again, from the store of record this time,
// and repairs it: re-created when missing, stepped down from when it names
// another owner. It reports whether it repaired anything. Lock held on entry.
func (s *Server) repairEntry(ctx context.Context, e *entry, inc string) bool {
	if e.gone {
		return false
	}
	r, err := s.cfg.Directory.RouteOf(ctx, e.sess.ID, true)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		s.recreateRoute(ctx, e, inc)
		return true
	case err == nil && (r.OwnerNode != s.cfg.NodeID || r.OwnerInc != inc):
		s.stepDown(ctx, e)
		return true
	}
	return false
}

// recreateRoute writes the route and claims of a held session back. Lock
// held on entry.
func (s *Server) recreateRoute(ctx context.Context, e *entry, inc string) {
	route := directory.Route{SessionID: e.sess.ID, HomeRegion: s.cfg.Region, OwnerNode: s.cfg.NodeID,
		OwnerInc: inc, Epoch: e.epoch}
	if err := s.cfg.Directory.CreateSession(ctx, route, e.sess.CreatorID, e.sess.PartnerID); err != nil {
		s.log.Warn("re-create route", "session", e.sess.ID, "err", err)
	}
}

// repairOrphans re-creates, released, the routes of live sessions of the
// region that the store has and the directory does not, once they have been
// missing for two rounds in a row: a node that holds such a session re-creates
// its route within one round, so only sessions no live node holds are left.
func (s *Server) repairOrphans(ctx context.Context) (int, error) {
	refs, err := s.cfg.Store.ActiveSessions(ctx, s.cfg.Region)
	if err != nil {
		return 0, err
	}
	missing := make(map[string]bool)
	repaired := 0
	for _, ref := range refs {
		if s.reg.session(ref.ID) != nil {
			continue
		}
		if _, err := s.cfg.Directory.RouteOf(ctx, ref.ID, true); !errors.Is(err, directory.ErrNotFound) {
			continue
		}
		missing[ref.ID] = true
		if !s.missingBefore[ref.ID] {
			continue
		}
		route := directory.Route{SessionID: ref.ID, HomeRegion: s.cfg.Region, Epoch: ref.OwnerEpoch}
		if err := s.cfg.Directory.CreateSession(ctx, route, ref.Users[0], ref.Users[1]); err != nil {
			s.log.Warn("re-create released route", "session", ref.ID, "err", err)
			continue
		}
		delete(missing, ref.ID)
		repaired++
	}
	s.missingBefore = missing
	return repaired, nil
}
