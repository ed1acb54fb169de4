package home

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"courtmesh/home/court"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// Refusals of this package; court rule errors come from package court.
var (
	errUnknownEvent   = refusal(protocol.MsgUnknownEvent)
	errInvalidPayload = refusal("Invalid payload")
	errNotRegistered  = refusal("Not registered")
)

// refusal is a refused request whose text the client sees.
type refusal string

func (r refusal) Error() string { return string(r) }

type handlerFunc func(context.Context, *wire.Request) (*wire.Response, error)

func (rt *sessions) handler(event string) (handlerFunc, bool) {
	switch event {
	case protocol.Register, protocol.ReadState:
		return rt.register, true
	case protocol.State:
		// The state read of edges of the previous release; answered the same
		// until every edge runs this one.
		return rt.register, true
	case protocol.Serve:
		return rt.serve, true
	}
	a, ok := actions[event]
	if !ok {
		return nil, false
	}
	return func(ctx context.Context, req *wire.Request) (*wire.Response, error) { return rt.perform(ctx, req, a) }, true
}

// HandleRequest answers one client action forwarded by an edge. Every
// request gets a Response with an ack (court-protocol.md §6 R1): refusals
// and store failures are acked {"ok":false,"error":...} with a court:error
// for the caller. The error is a *wire.Error only when the request cannot be
// answered here: not_owner when another node owns the user's session,
// shutting_down after Shutdown or Close.
func (s *Server) HandleRequest(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	if s.isDraining() {
		return nil, errShuttingDown
	}
	return s.rt.handle(ctx, req)
}

// EdgeLinkUp tells the home that its mesh link to the edge edgeNode is up
// (again): the court:state pushes that could not be queued to it while it
// was down are queued now, the newest per user (retry.go).
func (s *Server) EdgeLinkUp(edgeNode string) { s.rt.linkUp(edgeNode) }

// errShuttingDown answers requests once Shutdown or Close started.
var errShuttingDown = &wire.Error{Code: wire.CodeShuttingDown, Reason: "home node is shutting down", Temporary: true}

// handle answers a request; see HandleRequest.
func (rt *sessions) handle(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	h, ok := rt.handler(req.Event)
	label := protocol.Label(req.Event)
	var resp *wire.Response
	var err error
	switch {
	case req.UserID == "":
		err = errNotRegistered
	case !ok:
		err = errUnknownEvent
	case !objectOrNull(req.Payload):
		err = errInvalidPayload
	default:
		if o, ok := rt.answers.get(req.ID); ok && mutates(req.Event) {
			rt.metrics.actions.WithLabelValues(label, resultRepeat).Inc()
			return rt.replay(ctx, req, o)
		}
		var checked *wire.Request
		if checked, err = rt.gate(ctx, req); err == nil {
			resp, err = h(ctx, checked)
		}
	}
	refused := ""
	if err != nil {
		refused = err.Error()
	}
	resp, result, err := rt.answer(req, resp, err)
	if req.ID != "" && (result == resultOK || result == resultRejected) && mutates(req.Event) {
		if result == resultOK {
			refused = ""
		}
		first, mine := rt.answers.put(req.ID, outcomeOf(resp, refused, rt.now()))
		if !mine && result == resultRejected {
			// The same action, retried by the edge, ran concurrently
			// and was applied: answer as it was answered.
			rt.metrics.actions.WithLabelValues(label, resultRepeat).Inc()
			return rt.replay(ctx, req, first)
		}
	}
	rt.metrics.actions.WithLabelValues(label, result).Inc()
	return resp, err
}

// replay rebuilds the answer of a retried action from its outcome: the
// same refusal, or the caller's view of the session as it is now (the state
// first answered, while the session is still at that version).
func (rt *sessions) replay(ctx context.Context, req *wire.Request, o outcome) (*wire.Response, error) {
	switch o.kind {
	case outcomeRefused:
		return refuse(o.msg), nil
	case outcomeOK:
		return ackOK(), nil
	}
	if o.sessionID == "" {
		return ackState(nil, "")
	}
	if e := rt.reg.session(o.sessionID); e != nil {
		e.mu.Lock()
		sess, gone := e.sess, e.gone
		e.mu.Unlock()
		if !gone {
			return ackState(sess, req.UserID)
		}
	}
	// The session ended or moved since: the caller's state now.
	resp, err := rt.register(ctx, req)
	if err != nil {
		resp, _, err = rt.answer(req, nil, err)
	}
	return resp, err
}

// answer turns a handler's error into the response and the result label.
func (rt *sessions) answer(req *wire.Request, resp *wire.Response, err error) (*wire.Response, string, error) {
	var ce *court.Error
	var rf refusal
	var we *wire.Error
	if r, ok := refusalOf(err); ok {
		return r, resultRejected, nil
	}
	switch {
	case err == nil:
		return resp, resultOK, nil
	case errors.As(err, &ce), errors.As(err, &rf):
		return refuse(err.Error()), resultRejected, nil
	case errors.As(err, &we) && we.Code == wire.CodeNotOwner:
		return nil, resultNotOwner, we
	case errors.As(err, &we):
		return nil, resultError, we
	}
	rt.log.Warn("court action failed", "event", req.Event, "user", req.UserID, "err", err)
	return refuse(protocol.MsgStoreFailed), resultError, nil
}

// mutates reports whether event changes state: only those answers are
// remembered for retries.
func mutates(event string) bool {
	return event != protocol.Register && event != protocol.ReadState && event != protocol.State
}

// objectOrNull reports whether raw is absent, null or a JSON object: the
// payloads a client action may carry.
func objectOrNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null" || (t[0] == '{' && json.Valid(t))
}

// ackState acks {"ok":true,"state":<userID's view of sess>}; a nil sess is
// the IDLE state.
func ackState(sess *court.Session, userID string) (*wire.Response, error) {
	enc, err := court.NewStateEncoder(sess)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return ackCut(enc, sess, userID), nil
}

// ackFrom is the actor's ack of sess, which the commit published as pub
// (nil when the transition changed nothing: then sess is encoded now).
// When the actor's edge was queued a document with the actor's state, the
// ack leaves the state to the edge, which builds it from that document
// byte for byte (edge/docacks.go): the mesh carries the state once, not
// twice. Otherwise it is cut from the commit's encoding, the same bytes as
// the pushes.
func ackFrom(pub *publication, sess *court.Session, userID string) (*wire.Response, error) {
	switch {
	case pub == nil || pub.enc == nil:
		return ackState(sess, userID)
	case pub.actorDoc:
		return &wire.Response{SessionID: sess.ID, Version: sess.Version, StateInDoc: true}, nil
	}
	return ackCut(pub.enc, sess, userID), nil
}

// ackCut acks {"ok":true,"state":<userID's view of sess, encoded as enc>}.
func ackCut(enc *court.StateEncoder, sess *court.Session, userID string) *wire.Response {
	ack := enc.AppendState([]byte(protocol.AckStateStart), userID)
	resp := &wire.Response{Ack: append(ack, protocol.AckStateEnd...)}
	if sess != nil {
		resp.SessionID, resp.Version = sess.ID, sess.Version
	}
	return resp
}

// ackOK acks {"ok":true}.
func ackOK() *wire.Response { return &wire.Response{Ack: protocol.AckOK} }

// refuse acks {"ok":false,"error":msg} and sends court:error {message:msg}.
func refuse(msg string) *wire.Response {
	ack, courtError := protocol.Refusal(msg, "")
	return &wire.Response{Ack: ack, CourtError: courtError}
}
