package home

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"courtmesh/directory"
	"courtmesh/home/court"
	"courtmesh/home/store"
	"courtmesh/mesh/wire"
)

// firstEpoch is the owner epoch of a session's creator node.
const firstEpoch = 1

// lockAttempts bounds how often a request looks its user's session up again
// after finding one that was just removed.
const lockAttempts = 3

// servePayload is the court:serve payload. coupleId is null from the client.
// acceptLanguage is the Accept-Language of the caller's handshake or REST
// request, which the edge adds.
type servePayload struct {
	PartnerID      string  `json:"partnerId"`
	CoupleID       *string `json:"coupleId"`
	JudgeType      string  `json:"judgeType"`
	ChallengeToken string  `json:"challengeToken"`
	AcceptLanguage string  `json:"acceptLanguage"`
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
	if err := decode(req.Payload, &p); err != nil {
		return nil, err
	}
	if !s.lease.valid() {
		return nil, errNoLease
	}
	checks, err := s.checkServe(ctx, req, p)
	if err != nil {
		return nil, err
	}
	id, err := s.placedSessionID()
	if err != nil {
		return nil, err
	}
	sess, err := court.NewSession(id, req.UserID, p.PartnerID, deref(p.CoupleID), p.JudgeType, s.now(), s.durations)
	if err != nil {
		return nil, err
	}
	checks.apply(sess)
	if err := s.create(ctx, sess, req); err != nil {
		return nil, err
	}
	return ackState(sess, req.UserID)
}

// maxPlacementTries bounds the ids placedSessionID draws.
const maxPlacementTries = 64

// placedSessionID returns a new session id that rendezvous hashing over the
// region's live home nodes gives to this node, so the session the edge
// created here stays here instead of being handed off at the next claim
// round. With n live nodes it takes about n draws.
func (s *Server) placedSessionID() (string, error) {
	var live []string
	if p := s.live.Load(); p != nil {
		live = *p
	}
	for range maxPlacementTries {
		id, err := newSessionID()
		if err != nil {
			return "", err
		}
		if len(live) == 0 || directory.Rendezvous(id, live) == s.cfg.NodeID {
			return id, nil
		}
	}
	return newSessionID()
}

// create claims the users of sess in Redis, then in Postgres (whose
// court_session_users table is what makes crossed serves give exactly one
// session), indexes it and pushes its first state. The entry is indexed,
// locked, before the claims, so a request for either user waits for the
// outcome rather than finding a claim with no session behind it.
func (s *Server) create(ctx context.Context, sess *court.Session, req *wire.Request) error {
	homeRegion := req.HomeRegion
	if homeRegion == "" {
		homeRegion = s.cfg.Region
	}
	e := &entry{sess: sess, epoch: firstEpoch}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !s.reg.add(e) {
		return court.ErrUsersBusy
	}
	effects := sess.TakeEffects()
	route := directory.Route{SessionID: sess.ID, HomeRegion: homeRegion, OwnerNode: s.cfg.NodeID,
		OwnerInc: s.lease.incarnation(), Epoch: firstEpoch}
	if err := s.claim(ctx, sess, route, effects); err != nil {
		s.reg.remove(e)
		e.gone = true
		return err
	}
	s.metrics.sessions.Inc()
	s.metrics.transitions.WithLabelValues(string(sess.Phase)).Inc()
	s.timers.arm(sess)
	s.notify(ctx, sess, req.UserID, req.EdgeNode)
	return nil
}

// claim writes a new session's route and claims to Redis and the session to
// Postgres, undoing the Redis part if Postgres refuses.
func (s *Server) claim(ctx context.Context, sess *court.Session, route directory.Route, effects []court.Effect) error {
	err := s.cfg.Directory.CreateSession(ctx, route, sess.CreatorID, sess.PartnerID)
	if errors.Is(err, directory.ErrUserBusy) {
		return court.ErrUsersBusy
	}
	if err != nil {
		return fmt.Errorf("create session %s in directory: %w", sess.ID, err)
	}
	err = s.cfg.Store.Create(ctx, store.Create{Session: sess, Epoch: firstEpoch, Node: s.cfg.NodeID,
		HomeRegion: route.HomeRegion, Event: "serve", Effects: effects})
	if err == nil {
		return nil
	}
	if endErr := s.cfg.Directory.EndSession(ctx, sess.ID, sess.CreatorID, sess.PartnerID); endErr != nil {
		s.log.Warn("undo directory claim", "session", sess.ID, "err", endErr)
	}
	if errors.Is(err, store.ErrUserBusy) {
		return court.ErrUsersBusy
	}
	return fmt.Errorf("create session %s in store: %w", sess.ID, err)
}

// act runs transition fn, named event, on the caller's session. noSession is
// the error when the caller has none.
func (s *Server) act(ctx context.Context, req *wire.Request, noSession error, event string, fn func(*court.Session) error) (*court.Session, error) {
	e, err := s.lockUser(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, noSession
	}
	defer e.mu.Unlock()
	return s.commitLocked(ctx, e, event, fn, req.UserID, req.EdgeNode)
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
	case r.OwnerNode == s.cfg.NodeID && r.OwnerInc == s.lease.incarnation():
		// Routed here, but not held: it is being taken over right now.
		return &wire.Error{Code: wire.CodeUnavailable, Reason: "session is being taken over", Temporary: true}
	}
	return &wire.Error{Code: wire.CodeNotOwner, Reason: "session owned by " + r.OwnerNode, Temporary: true}
}

// decode unmarshals an object payload (absent and null mean {}) into v.
func decode(payload json.RawMessage, v any) error {
	if len(payload) == 0 || string(payload) == "null" {
		return nil
	}
	if err := json.Unmarshal(payload, v); err != nil {
		return errInvalidPayload
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
