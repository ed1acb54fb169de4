package home

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/mesh/wire"
)

// firstEpoch is the owner epoch of a session's creator node.
const firstEpoch = 1

// lockAttempts bounds how often a request looks its user's session up again
// after finding one that was just removed.
const lockAttempts = 3

// servePayload is the court:serve payload. coupleId is null from the client.
type servePayload struct {
	PartnerID string  `json:"partnerId"`
	CoupleID  *string `json:"coupleId"`
	JudgeType string  `json:"judgeType"`
}

// register answers court:register and the internal state read with the
// user's current state.
func (s *Server) register(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	e, err := s.lockUser(ctx, req.UserID)
	if err != nil || e == nil {
		return s.idleUnless(err)
	}
	sess := e.sess
	e.mu.Unlock()
	return ackState(sess, req.UserID)
}

func (s *Server) idleUnless(err error) (*wire.Response, error) {
	if err != nil {
		return nil, err
	}
	return ackState(nil, "")
}

// serve is T1: the caller summons a partner into a new PENDING session.
func (s *Server) serve(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	var p servePayload
	if len(req.Payload) > 0 {
		if err := json.Unmarshal(req.Payload, &p); err != nil {
			return nil, errInvalidPayload
		}
	}
	id, err := newSessionID()
	if err != nil {
		return nil, err
	}
	sess, err := court.NewSession(id, req.UserID, p.PartnerID, deref(p.CoupleID), p.JudgeType, s.now(), s.durations)
	if err != nil {
		return nil, err
	}
	if err := s.create(ctx, sess, req); err != nil {
		return nil, err
	}
	return ackState(sess, req.UserID)
}

// create indexes sess, claims its users in the directory and pushes the
// first state. The entry is indexed, locked, before the claim, so a request
// for either user waits for the outcome rather than finding a claim with no
// session behind it.
func (s *Server) create(ctx context.Context, sess *court.Session, req *wire.Request) error {
	homeRegion := req.HomeRegion
	if homeRegion == "" {
		homeRegion = s.cfg.Region
	}
	e := &entry{sess: sess}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !s.reg.add(e) {
		return court.ErrUsersBusy
	}
	route := directory.Route{SessionID: sess.ID, HomeRegion: homeRegion, OwnerNode: s.cfg.NodeID, Epoch: firstEpoch}
	if err := s.cfg.Directory.CreateSession(ctx, route, sess.CreatorID, sess.PartnerID); err != nil {
		s.reg.remove(e)
		e.gone = true
		if errors.Is(err, directory.ErrUserBusy) {
			return court.ErrUsersBusy
		}
		return fmt.Errorf("create session %s: %w", sess.ID, err)
	}
	s.metrics.sessions.Inc()
	s.metrics.transitions.WithLabelValues(string(sess.Phase)).Inc()
	s.timers.arm(sess)
	s.log.Debug("session created", "session", sess.ID, "home_region", homeRegion)
	s.notify(ctx, sess, req.UserID, req.EdgeNode)
	return nil
}

// accept is T2: the partner accepts; PENDING → EVIDENCE.
func (s *Server) accept(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	next, err := s.act(ctx, req, court.ErrNoPendingSession, func(x *court.Session) error {
		return x.Accept(req.UserID, s.now(), s.durations)
	})
	if err != nil {
		return nil, err
	}
	return ackState(next, req.UserID)
}

// cancel is T3: the creator withdraws the summons. Acked with IDLE.
func (s *Server) cancel(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	next, err := s.act(ctx, req, court.ErrNoSession, func(x *court.Session) error {
		return x.Cancel(req.UserID)
	})
	if err != nil {
		return nil, err
	}
	return ackState(next, req.UserID)
}

// dismiss is T13: either participant ends the session. Acked {"ok":true}.
func (s *Server) dismiss(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	_, err := s.act(ctx, req, court.ErrNoSession, func(x *court.Session) error {
		return x.Dismiss(req.UserID)
	})
	if err != nil {
		return nil, err
	}
	return ackOK(), nil
}

// act runs transition fn on the caller's session, commits it and pushes the
// new state to both users. noSession is the error when the caller has none.
func (s *Server) act(ctx context.Context, req *wire.Request, noSession error, fn func(*court.Session) error) (*court.Session, error) {
	e, err := s.lockUser(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, noSession
	}
	defer e.mu.Unlock()
	next, err := s.transit(ctx, e, fn)
	if err != nil {
		return nil, err
	}
	s.notify(ctx, next, req.UserID, req.EdgeNode)
	return next, nil
}

// lockUser returns the entry of userID's session, locked, or nil if the
// user is in no session. It returns a not_owner *wire.Error when another
// node owns the user's session.
func (s *Server) lockUser(ctx context.Context, userID string) (*entry, error) {
	for range lockAttempts {
		e := s.reg.user(userID)
		if e == nil {
			return nil, s.checkRoute(ctx, userID)
		}
		e.mu.Lock()
		if !e.gone {
			return e, nil
		}
		e.mu.Unlock()
	}
	return nil, fmt.Errorf("session of %s keeps ending under the request", userID)
}

// checkRoute asks the directory where userID's session lives when this node
// holds none for it.
func (s *Server) checkRoute(ctx context.Context, userID string) error {
	r, err := s.cfg.Directory.Lookup(ctx, userID, true)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("look up session of %s: %w", userID, err)
	case r.OwnerNode != s.cfg.NodeID:
		return &wire.Error{Code: wire.CodeNotOwner, Reason: "session owned by " + r.OwnerNode, Temporary: true}
	}
	// The route names this node, which does not hold the session: it was
	// lost in a restart (sessions are not persisted yet), or its end failed
	// to reach the directory. Release the claim so the users can serve again.
	s.log.Warn("releasing route of a session this node does not hold", "session", r.SessionID, "user", userID)
	if err := s.cfg.Directory.EndSession(ctx, r.SessionID, userID); err != nil {
		return fmt.Errorf("release lost session %s: %w", r.SessionID, err)
	}
	return nil
}

// transit runs fn on a copy of e's session and commits the copy: e's
// session is replaced only if both succeed. Lock held on entry.
func (s *Server) transit(ctx context.Context, e *entry, fn func(*court.Session) error) (*court.Session, error) {
	next := e.sess.Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	if next.Ended() {
		users := next.Users()
		if err := s.cfg.Directory.EndSession(ctx, next.ID, users[:]...); err != nil {
			return nil, fmt.Errorf("end session %s: %w", next.ID, err)
		}
		s.reg.remove(e)
		e.gone = true
		s.metrics.sessions.Dec()
		s.log.Debug("session ended", "session", next.ID, "reason", next.EndReason)
	}
	e.sess = next
	s.timers.arm(next)
	s.metrics.transitions.WithLabelValues(string(next.Phase)).Inc()
	return next, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
