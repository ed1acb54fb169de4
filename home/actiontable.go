package home

import (
	"context"
	"time"

	"courtmesh/home/court"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// transitionFunc builds the transition a request asks for, from its payload.
type transitionFunc func(rt *sessions, req *wire.Request) (func(*court.Session) error, error)

// action is how one event acts on the caller's session.
type action struct {
	// noSession is the error when the caller has none (the original's
	// strings differ by event).
	noSession error
	build     transitionFunc
	// ackOK acks {"ok":true} instead of the state (dismiss).
	ackOK bool
}

// actions maps the session events to their transitions.
var actions = map[string]action{
	protocol.Accept:  {noSession: court.ErrNoPendingSession, build: simple((*court.Session).Accept)},
	protocol.Cancel:  {noSession: court.ErrNoSession, build: plain((*court.Session).Cancel)},
	protocol.Dismiss: {noSession: court.ErrNoSession, build: plain((*court.Session).Dismiss), ackOK: true},
	protocol.SubmitEvidence: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		var p struct{ Evidence, Feelings, Needs string }
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		return func(x *court.Session) error {
			return x.SubmitEvidence(req.UserID, p.Evidence, p.Feelings, p.Needs, rt.now(), rt.durations)
		}, nil
	}},
	protocol.AcceptVerdict: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		caseID, err := newSessionID()
		if err != nil {
			return nil, err
		}
		return func(x *court.Session) error { return x.AcceptVerdict(req.UserID, caseID, rt.now(), rt.durations) }, nil
	}},
	protocol.RequestSettle: {noSession: court.ErrNoActiveSession, build: simple((*court.Session).RequestSettlement)},
	protocol.AcceptSettle:  {noSession: court.ErrNoActiveSession, build: plain((*court.Session).AcceptSettlement)},
	protocol.DeclineSettle: {noSession: court.ErrNoActiveSession, build: plain((*court.Session).DeclineSettlement)},
	protocol.SubmitAddendum: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		var p struct{ Text string }
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		return func(x *court.Session) error { return x.SubmitAddendum(req.UserID, p.Text, rt.now(), rt.durations) }, nil
	}},
	protocol.PrimingComplete: {noSession: court.ErrNoActiveSession, build: simple((*court.Session).MarkPrimingComplete)},
	protocol.JointReady:      {noSession: court.ErrNoActiveSession, build: simple((*court.Session).MarkJointReady)},
	protocol.ResolutionPick: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		var p struct {
			ResolutionID *string `json:"resolutionId"`
		}
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		if p.ResolutionID == nil || *p.ResolutionID == "" {
			return nil, court.ErrResolutionIDRequired
		}
		return func(x *court.Session) error {
			return x.SubmitResolutionPick(req.UserID, *p.ResolutionID, rt.now(), rt.durations)
		}, nil
	}},
	protocol.ResolutionAcceptOther: {noSession: court.ErrNoActiveSession, build: simple((*court.Session).AcceptPartnerResolution)},
	protocol.ResolutionHybrid:      {noSession: court.ErrNoActiveSession, build: plain((*court.Session).RequestHybrid)},
}

// simple adapts a transition of (user, now, durations).
func simple(m func(*court.Session, string, time.Time, court.Durations) error) transitionFunc {
	return func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		return func(x *court.Session) error { return m(x, req.UserID, rt.now(), rt.durations) }, nil
	}
}

// plain adapts a transition of (user).
func plain(m func(*court.Session, string) error) transitionFunc {
	return func(_ *sessions, req *wire.Request) (func(*court.Session) error, error) {
		return func(x *court.Session) error { return m(x, req.UserID) }, nil
	}
}

// perform answers a session event.
func (rt *sessions) perform(ctx context.Context, req *wire.Request, a action) (*wire.Response, error) {
	fn, err := a.build(rt, req)
	if err != nil {
		return nil, err
	}
	next, pub, err := rt.act(ctx, req, a.noSession, fn)
	if err != nil {
		return nil, err
	}
	if a.ackOK {
		return ackOK(), nil
	}
	return ackFrom(pub, next, req.UserID)
}
