package home

import (
	"context"
	"errors"
	"fmt"
	"time"

	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
)

// errMoved answers a request for a session this node just found it no longer
// owns; the edge looks the owner up again and retries.
var errMoved = &wire.Error{Code: wire.CodeNotOwner, Reason: "session moved to another owner", Temporary: true}

// errNoLease answers requests while this node's lease is not valid.
var errNoLease = &wire.Error{Code: wire.CodeUnavailable, Reason: errLeaseLost.Error(), Temporary: true}

// commitLocked runs transition fn on a copy of e's session and commits it:
// one fenced Postgres transaction with its side effects. Only then does the
// copy replace the held session, are timers re-armed, and are the new states,
// the transition's events and its judge calls sent. A write refused by the
// store's fence means another node owns the session now: this node drops it
// at once. A transition that changes nothing commits nothing. actor and
// actorEdge name the acting user and its edge, if a user acted. Lock held on
// entry.
func (s *Server) commitLocked(ctx context.Context, e *entry, event string, fn func(*court.Session) error, actor, actorEdge string) (*court.Session, error) {
	if !s.lease.valid() {
		return nil, errNoLease
	}
	prev := e.sess
	next := prev.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	effects := next.TakeEffects()
	if next.Version == prev.Version {
		return next, nil
	}
	commitStart := time.Now()
	err := s.cfg.Store.Commit(ctx, store.Commit{Prev: prev.Version, Session: next, PrevSession: prev, Epoch: e.epoch,
		Node: s.cfg.NodeID, Event: event, Effects: effects})
	s.metrics.commitSeconds.Observe(time.Since(commitStart).Seconds())
	if errors.Is(err, store.ErrFenced) {
		s.stepDown(ctx, e)
		return nil, errMoved
	}
	if err != nil {
		// The outcome is unknown (say the connection broke after the commit
		// was sent): the held copy may be behind the store. Reload it.
		s.stepDown(ctx, e)
		return nil, fmt.Errorf("commit %s of %s: %w", event, next.ID, err)
	}
	e.sess = next
	s.metrics.transitions.WithLabelValues(string(next.Phase)).Inc()
	if next.Ended() {
		s.drop(e)
		users := next.Users()
		if err := s.cfg.Directory.EndSession(ctx, next.ID, users[:]...); err != nil {
			s.log.Warn("end session in directory", "session", next.ID, "err", err)
		}
	} else {
		s.timers.arm(next)
	}
	s.notify(ctx, next, actor, actorEdge)
	for _, ef := range effects {
		switch ef := ef.(type) {
		case court.Emit:
			s.emit(ctx, next, ef)
		case court.JudgeCall:
			s.callJudge(next.ID, ef)
		}
	}
	return next, nil
}

// stepDown drops a session whose write the store refused or whose write's
// outcome is unknown. Either another node owns it now, or a commit of this
// node whose answer was lost (a connection cut mid-commit) did go through and
// the held copy is behind the store. In the second case the lease is still this node's: releasing it
// lets the claim loop take the session over again at the next epoch and load
// it from the store. Releasing a lease another node holds changes nothing.
// Lock held on entry.
func (s *Server) stepDown(ctx context.Context, e *entry) {
	s.log.Warn("store refused a write: stepping down for the session", "session", e.sess.ID, "epoch", e.epoch)
	s.drop(e)
	s.metrics.leaseLosses.Inc()
	s.release(ctx, e)
}
