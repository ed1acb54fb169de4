package home

import (
	"context"
	"time"

	"courtmesh/home/court"
	"courtmesh/mesh/wire"
)

// Events this home answers; the names are those of court-protocol.md §2.5.
// evState is the mesh-internal read of a user's state (the REST GET).
const (
	evRegister       = "court:register"
	evState          = "court:state"
	evServe          = "court:serve"
	evAccept         = "court:accept"
	evCancel         = "court:cancel"
	evDismiss        = "court:dismiss"
	evEvidence       = "court:submit_evidence"
	evAcceptVerdict  = "court:accept_verdict"
	evRequestSettle  = "court:request_settle"
	evAcceptSettle   = "court:accept_settle"
	evDeclineSettle  = "court:decline_settle"
	evAddendum       = "court:submit_addendum"
	evPrimingDone    = "court:priming_complete"
	evJointReady     = "court:joint_ready"
	evResolutionPick = "court:resolution_pick"
	evAcceptPartner  = "court:resolution_accept_partner"
	evHybrid         = "court:resolution_hybrid"
)

// allEvents lists every event, for metric labels.
var allEvents = []string{evRegister, evState, evServe, evAccept, evCancel, evDismiss, evEvidence,
	evAcceptVerdict, evRequestSettle, evAcceptSettle, evDeclineSettle, evAddendum, evPrimingDone,
	evJointReady, evResolutionPick, evAcceptPartner, evHybrid}

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
	evAccept:  {noSession: court.ErrNoPendingSession, build: simple((*court.Session).Accept)},
	evCancel:  {noSession: court.ErrNoSession, build: plain((*court.Session).Cancel)},
	evDismiss: {noSession: court.ErrNoSession, build: plain((*court.Session).Dismiss), ackOK: true},
	evEvidence: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		var p struct{ Evidence, Feelings, Needs string }
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		return func(x *court.Session) error {
			return x.SubmitEvidence(req.UserID, p.Evidence, p.Feelings, p.Needs, rt.now(), rt.durations)
		}, nil
	}},
	evAcceptVerdict: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		caseID, err := newSessionID()
		if err != nil {
			return nil, err
		}
		return func(x *court.Session) error { return x.AcceptVerdict(req.UserID, caseID, rt.now(), rt.durations) }, nil
	}},
	evRequestSettle: {noSession: court.ErrNoActiveSession, build: simple((*court.Session).RequestSettlement)},
	evAcceptSettle:  {noSession: court.ErrNoActiveSession, build: plain((*court.Session).AcceptSettlement)},
	evDeclineSettle: {noSession: court.ErrNoActiveSession, build: plain((*court.Session).DeclineSettlement)},
	evAddendum: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
		var p struct{ Text string }
		if err := decode(req.Payload, &p); err != nil {
			return nil, err
		}
		return func(x *court.Session) error { return x.SubmitAddendum(req.UserID, p.Text, rt.now(), rt.durations) }, nil
	}},
	evPrimingDone: {noSession: court.ErrNoActiveSession, build: simple((*court.Session).MarkPrimingComplete)},
	evJointReady:  {noSession: court.ErrNoActiveSession, build: simple((*court.Session).MarkJointReady)},
	evResolutionPick: {noSession: court.ErrNoActiveSession, build: func(rt *sessions, req *wire.Request) (func(*court.Session) error, error) {
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
	evAcceptPartner: {noSession: court.ErrNoActiveSession, build: simple((*court.Session).AcceptPartnerResolution)},
	evHybrid:        {noSession: court.ErrNoActiveSession, build: plain((*court.Session).RequestHybrid)},
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
	next, err := rt.act(ctx, req, a.noSession, fn)
	if err != nil {
		return nil, err
	}
	if a.ackOK {
		return ackOK(), nil
	}
	return ackState(next, req.UserID)
}
