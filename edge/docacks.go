package edge

import (
	"context"
	"errors"
	"time"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// A home answers an action of a live session with no state in the ack
// (wire.Response.StateInDoc) when it queued this edge the commit's
// court:state document with the actor in it: the edge builds the ack,
// {"ok":true,"state":...}, from its copy of the session (statedocs.go),
// byte for byte the one the home would have sent, so the state crosses the
// mesh once instead of twice. The ack rides the request's stream and the
// document the session's flow, so either may arrive first: the edge waits,
// at most docAckWait, for its copy to reach the ack's version.
//
// A copy already newer than the ack (the partner acted, a timer fired) gives
// the ack of that newer version, and the ack reports it: the socket's
// version rule then records the newer version, which the client also got
// (or gets) as a court:state push. That is the state the home's answer to
// a retry of the action gives too (home/answers.go): the caller learns the
// outcome of its action and the session as it is now, never a state older
// than one it was sent.
//
// Without a copy of that version for the actor in time, the edge reads the
// actor's state from the home (protocol.ReadState, as a resync does) and
// acks with it; court_edge_doc_acks_total counts how each ack was made.

// docAckWait bounds the wait for the document of an ack: far above the
// skew of two streams of one link, far below an action's timeout.
const docAckWait = time.Second

// ackFromDoc returns resp, whose state is in a document, with its ack
// built for user.
func (s *Server) ackFromDoc(ctx context.Context, user string, resp *wire.Response) (*wire.Response, error) {
	wctx, cancel := context.WithTimeout(ctx, docAckWait)
	sess, why := s.docs.await(wctx, resp.SessionID, resp.Version)
	cancel()
	if sess != nil {
		ack, ok := sess.AppendAck(nil, user)
		if ok {
			s.m.docAcks.WithLabelValues(docAckBuilt).Inc()
			return &wire.Response{Ack: ack, SessionID: resp.SessionID, Version: sess.Version}, nil
		}
		why = docAckNotForUser
	}
	s.m.docAcks.WithLabelValues(why).Inc()
	s.log.Debug("ack's document missing; reading the state", "user", user, "session", resp.SessionID,
		"version", resp.Version, "why", why)
	read, err := s.readState(ctx, user)
	if errors.Is(err, errNoSession) { // the session ended since
		return &wire.Response{Ack: protocol.IdleAck}, nil
	}
	return read, err
}
