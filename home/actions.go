package home

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
// acceptLanguage is the Accept-Language of the caller's handshake or REST
// request, which the edge adds.
type servePayload struct {
	PartnerID      string  `json:"partnerId"`
	CoupleID       *string `json:"coupleId"`
	JudgeType      string  `json:"judgeType"`
	ChallengeToken string  `json:"challengeToken"`
	AcceptLanguage string  `json:"acceptLanguage"`
}

// storeEvent is the name of a client event in the store's event log.
func storeEvent(event string) string { return strings.TrimPrefix(event, "court:") }

// register answers court:register and the state read (ReadState) with the user's
// current state. The edge asking gets a whole document at the session's next
// push: it reads the state when a socket registers or it could not apply a
// delta (statedocs.go). Until a push finds the user's presence, which the
// edge writes after the register's ack, the user's states are fanned out
// (publish.go).
func (rt *sessions) register(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	e, err := rt.lockUser(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return ackState(nil, "")
	}
	sess := e.sess
	delete(e.docs.sent, req.EdgeNode)
	e.unlocateLocked(req.UserID)
	e.mu.Unlock()
	return ackState(sess, req.UserID)
}

// serve is T1: the caller summons a partner into a new PENDING session.
func (rt *sessions) serve(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	var p servePayload
	if err := decode(req.Payload, &p); err != nil {
		return nil, err
	}
	if _, ok := rt.own.lease(); !ok {
		return nil, errNoLease
	}
	checks, err := rt.checkServe(ctx, req, p)
	if err != nil {
		return nil, err
	}
	id, err := rt.placedSessionID()
	if err != nil {
		return nil, err
	}
	sess, err := court.NewSession(id, req.UserID, p.PartnerID, deref(p.CoupleID), p.JudgeType, rt.now(), rt.durations)
	if err != nil {
		return nil, err
	}
	checks.apply(sess)
	homeRegion := req.HomeRegion
	if homeRegion == "" {
		homeRegion = rt.cfg.Region
	}
	pub, err := rt.create(ctx, sess, userOrigin(req), homeRegion)
	if err != nil {
		return nil, err
	}
	return ackFrom(pub, sess, req.UserID)
}

// maxPlacementTries bounds the ids placedSessionID draws.
const maxPlacementTries = 64

// placedSessionID returns a new session id that rendezvous hashing over the
// region's live home nodes gives to this node, so the session the edge
// created here stays here instead of being handed off at the next claim
// round. With n live nodes it takes about n draws.
func (rt *sessions) placedSessionID() (string, error) {
	live := rt.own.liveNodes()
	for range maxPlacementTries {
		id, err := newSessionID()
		if err != nil {
			return "", err
		}
		if len(live) == 0 || directory.Rendezvous(id, live) == rt.cfg.NodeID {
			return id, nil
		}
	}
	return newSessionID()
}

// act runs transition fn on the caller's session (commitLocked). noSession
// is the error when the caller has none.
func (rt *sessions) act(ctx context.Context, req *wire.Request, noSession error, fn func(*court.Session) error) (*court.Session, *publication, error) {
	e, err := rt.lockUser(ctx, req.UserID)
	if err != nil {
		return nil, nil, err
	}
	if e == nil {
		return nil, nil, noSession
	}
	defer e.mu.Unlock()
	return rt.commitLocked(ctx, e, userOrigin(req), fn)
}

// lockUser returns the entry of userID's session with its lock taken, or
// nil if the user is in no session. It returns a not_owner *wire.Error when
// another node owns the user's session.
func (rt *sessions) lockUser(ctx context.Context, userID string) (*entry, error) {
	for range lockAttempts {
		e := rt.reg.user(userID)
		if e == nil {
			return nil, rt.checkRoute(ctx, userID)
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
func (rt *sessions) checkRoute(ctx context.Context, userID string) error {
	r, err := rt.cfg.Directory.Lookup(ctx, userID, true)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("look up session of %s: %w", userID, err)
	}
	if inc, _ := rt.own.lease(); r.OwnerNode == rt.cfg.NodeID && r.OwnerInc == inc {
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
