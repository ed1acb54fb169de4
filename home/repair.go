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

// repairHeld re-creates the missing routes of the sessions this node holds.
func (s *Server) repairHeld(ctx context.Context) int {
	repaired := 0
	for _, e := range s.reg.all() {
		if ctx.Err() != nil {
			return repaired
		}
		if _, err := s.cfg.Directory.RouteOf(ctx, e.id(), false); !errors.Is(err, directory.ErrNotFound) {
			continue
		}
		e.mu.Lock()
		if !e.gone {
			route := directory.Route{SessionID: e.sess.ID, HomeRegion: s.cfg.Region, OwnerNode: s.cfg.NodeID,
				OwnerInc: s.lease.incarnation(), Epoch: e.epoch}
			if err := s.cfg.Directory.CreateSession(ctx, route, e.sess.CreatorID, e.sess.PartnerID); err == nil {
				repaired++
			} else {
				s.log.Warn("re-create route", "session", e.sess.ID, "err", err)
			}
		}
		e.mu.Unlock()
	}
	return repaired
}

// repairOrphans re-creates, released, the routes of live sessions of the
// region that the store has and the directory does not.
func (s *Server) repairOrphans(ctx context.Context) (int, error) {
	refs, err := s.cfg.Store.ActiveSessions(ctx, s.cfg.Region)
	if err != nil {
		return 0, err
	}
	repaired := 0
	for _, ref := range refs {
		if s.reg.session(ref.ID) != nil {
			continue
		}
		if _, err := s.cfg.Directory.RouteOf(ctx, ref.ID, true); !errors.Is(err, directory.ErrNotFound) {
			continue
		}
		route := directory.Route{SessionID: ref.ID, HomeRegion: s.cfg.Region, Epoch: ref.OwnerEpoch}
		if err := s.cfg.Directory.CreateSession(ctx, route, ref.Users[0], ref.Users[1]); err != nil {
			s.log.Warn("re-create released route", "session", ref.ID, "err", err)
			continue
		}
		repaired++
	}
	return repaired, nil
}
