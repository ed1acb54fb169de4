package home

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"courtmesh/home/court"
	"courtmesh/mesh/wire"
)

// pushTimeout bounds the presence look-ups of one notification.
const pushTimeout = 5 * time.Second

// notify pushes court:state, each user's own view of sess, to every edge
// holding a socket of either user, and to actorEdge, the edge the acting
// user's request came through, so the actor's other sockets there follow
// even before its presence is recorded. An ended session pushes IDLE.
//
// Called with the session's lock held, right after the transition committed:
// SendEvent only enqueues, and every event of a session rides one mesh flow,
// so each edge receives a session's states in version order.
func (s *Server) notify(ctx context.Context, sess *court.Session, actor, actorEdge string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	enc, err := court.NewStateEncoder(sess)
	if err != nil {
		s.log.Error("encode court:state", "session", sess.ID, "err", err)
		return
	}
	for _, u := range sess.Users() {
		payload := enc.AppendState(nil, u)
		ev := &wire.Event{UserID: u, Name: evState, Payload: payload, SessionID: sess.ID, Version: sess.Version}
		edges, err := s.cfg.Directory.Presence(ctx, u)
		if err != nil {
			s.log.Warn("presence lookup failed", "user", u, "err", err)
		}
		if u == actor && actorEdge != "" && !slices.Contains(edges, actorEdge) {
			edges = append(edges, actorEdge)
		}
		for _, edge := range edges {
			if err := s.cfg.Mesh.SendEvent(edge, ev); err != nil {
				s.log.Warn("push court:state", "edge", edge, "user", u, "err", err)
			}
		}
	}
}

// emit sends ev, a server event other than court:state, to every edge
// holding a socket of its user. Lock of sess held on entry.
func (s *Server) emit(ctx context.Context, sess *court.Session, ev court.Emit) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	edges, err := s.cfg.Directory.Presence(ctx, ev.UserID)
	if err != nil {
		s.log.Warn("presence lookup failed", "user", ev.UserID, "err", err)
		return
	}
	out := &wire.Event{UserID: ev.UserID, Name: ev.Name, Payload: ev.Payload, SessionID: sess.ID}
	for _, edge := range edges {
		if err := s.cfg.Mesh.SendEvent(edge, out); err != nil {
			s.log.Warn("push event", "event", ev.Name, "edge", edge, "err", err)
		}
	}
}

// newSessionID returns a random (version 4) UUID.
func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
