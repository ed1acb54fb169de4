package home

import (
	"context"
	"errors"
	"slices"
	"time"

	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/store"
)

// claimWarmUp is how long a node that just started waits before its first
// claim round. A variable so tests can shorten it.
var claimWarmUp = time.Second

// maxHandoffs bounds the sessions one claim round hands to a new peer, so a
// node joining the region moves its share over a few rounds, not in a burst.
const maxHandoffs = 500

// runClaims takes over, every ClaimInterval, the sessions of the region that
// have no live owner and that rendezvous hashing gives to this node, and
// hands off the sessions it holds that now belong to a peer that joined.
func (s *Server) runClaims(ctx context.Context) error {
	// A node that just started waits before taking sessions over: the edges
	// redial it (its stateless resets end their old links at once, the
	// redial follows a backoff step later), and a session taken over before
	// they have would lose its pushes to them.
	warm := time.NewTimer(claimWarmUp)
	select {
	case <-ctx.Done():
		warm.Stop()
		return nil
	case <-warm.C:
	}
	tick := time.NewTicker(s.cfg.ClaimInterval)
	defer tick.Stop()
	for {
		if s.lease.valid() {
			if err := s.claimRound(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("claim round failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// claimRound is one pass of the claim loop.
func (s *Server) claimRound(ctx context.Context) error {
	live, err := s.cfg.Directory.LiveNodes(ctx, s.cfg.Region)
	if err != nil {
		return err
	}
	liveIDs := make([]string, 0, len(live))
	for _, n := range live {
		liveIDs = append(liveIDs, n.ID)
	}
	s.live.Store(&liveIDs)
	if !slices.Contains(liveIDs, s.cfg.NodeID) {
		return nil // not yet visible to the region
	}
	orphans, err := s.orphans(ctx, liveIDs)
	if err != nil {
		return err
	}
	var mine []string
	for _, id := range orphans {
		if directory.Rendezvous(id, liveIDs) == s.cfg.NodeID && s.reg.session(id) == nil {
			mine = append(mine, id)
		}
	}
	if err := s.takeOver(ctx, mine); err != nil {
		return err
	}
	s.handOff(ctx, liveIDs)
	return nil
}

// orphans lists the sessions of the region with no live owner: those of
// dead nodes, those released by live ones, and those still filed under this
// node by an earlier incarnation.
func (s *Server) orphans(ctx context.Context, liveIDs []string) ([]string, error) {
	out, err := s.cfg.Directory.Released(ctx, s.cfg.Region)
	if err != nil {
		return nil, err
	}
	known, err := s.cfg.Directory.RegionNodes(ctx, s.cfg.Region)
	if err != nil {
		return nil, err
	}
	for _, n := range known {
		if slices.Contains(liveIDs, n) && n != s.cfg.NodeID {
			continue
		}
		owned, err := s.cfg.Directory.Owned(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, owned...)
	}
	return out, nil
}

// takeOver acquires the leases of ids (each acquisition increments the
// session's owner epoch), fences the store at the new epochs, and starts
// acting for every session the store returns: timers re-armed from their
// stored deadlines (an overdue one fires at once) and judge calls that were
// in flight made again.
func (s *Server) takeOver(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	start := time.Now()
	inc := s.lease.incarnation()
	routes, err := s.cfg.Directory.AcquireMany(ctx, ids, s.cfg.NodeID, inc)
	if err != nil && !errors.Is(err, directory.ErrLeaseLost) {
		return err
	}
	want := make([]store.SessionEpoch, 0, len(routes))
	for id, r := range routes {
		want = append(want, store.SessionEpoch{ID: id, Epoch: r.Epoch})
	}
	sessions, err := s.cfg.Store.FenceMany(ctx, want)
	if err != nil {
		return err
	}
	for _, se := range want {
		sess, ok := sessions[se.ID]
		if !ok {
			s.forget(ctx, se.ID)
			continue
		}
		s.install(sess, se.Epoch)
	}
	s.metrics.leaseAcquisitions.Add(float64(len(sessions)))
	s.log.Info("took over sessions", "sessions", len(sessions), "took", time.Since(start))
	return nil
}

// forget removes from the directory a session the store no longer has live
// (it ended, or never committed).
func (s *Server) forget(ctx context.Context, id string) {
	if err := s.cfg.Directory.EndSession(ctx, id); err != nil {
		s.log.Warn("end session in directory", "session", id, "err", err)
	}
}

// install starts acting for sess under epoch.
func (s *Server) install(sess *court.Session, epoch uint64) {
	e := &entry{sess: sess, epoch: epoch}
	if !s.reg.add(e) {
		s.log.Warn("taken-over session collides with a held one", "session", sess.ID)
		return
	}
	s.metrics.sessions.Inc()
	s.timers.arm(sess)
	for _, call := range sess.PendingJudgeCalls() {
		s.callJudge(sess.ID, call)
	}
}

// handOff releases the sessions this node holds whose rendezvous owner among
// the live nodes is another node: a node that starts takes its share.
func (s *Server) handOff(ctx context.Context, liveIDs []string) {
	moved := 0
	for _, e := range s.reg.all() {
		if moved == maxHandoffs {
			return
		}
		if directory.Rendezvous(e.id(), liveIDs) == s.cfg.NodeID {
			continue
		}
		e.mu.Lock()
		if !e.gone {
			s.drop(e)
			s.release(ctx, e)
			moved++
		}
		e.mu.Unlock()
	}
	if moved > 0 {
		s.log.Info("handed sessions to a peer", "sessions", moved)
	}
}

// release hands e's session to the region: its lease is released, or, if the
// directory lost the route (Redis lost its data), the route is written back
// released. Either way a claim loop takes the session over. Lock held on
// entry.
func (s *Server) release(ctx context.Context, e *entry) {
	err := s.cfg.Directory.Release(ctx, e.sess.ID, s.cfg.NodeID, s.lease.incarnation())
	if errors.Is(err, directory.ErrNotFound) {
		route := directory.Route{SessionID: e.sess.ID, HomeRegion: s.cfg.Region, Epoch: e.epoch}
		err = s.cfg.Directory.CreateSession(ctx, route, e.sess.CreatorID, e.sess.PartnerID)
	}
	if err != nil && !errors.Is(err, directory.ErrNotOwner) {
		s.log.Warn("release session", "session", e.sess.ID, "err", err)
	}
}
