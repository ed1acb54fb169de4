package home

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"courtmesh/home/court"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// pushTimeout bounds the presence look-ups of one publication.
const pushTimeout = 5 * time.Second

// publication is what publishing a commit made, for the actor's ack: the
// encoding of the session's states, and whether the actor's edge was
// queued a document with the actor's state that it builds the ack from
// (handler.go, ackFrom).
type publication struct {
	enc      *court.StateEncoder
	actorDoc bool
}

// publishLocked is the last step of the commit path: it encodes sess once,
// enqueues its states and the transition's events to the edges and spawns
// its judge calls. It runs with the session's lock held, right after the
// commit: the mesh only enqueues, and every event of a session rides one
// mesh flow, so each edge receives a session's states in version order,
// and the IDLE of an ended session after every state before it.
func (rt *sessions) publishLocked(ctx context.Context, e *entry, sess *court.Session, effects []court.Effect, o origin) *publication {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	enc, err := court.NewStateEncoder(sess)
	pub := &publication{enc: enc}
	if err != nil {
		rt.log.Error("encode court:state", "session", sess.ID, "err", err)
	} else if sess.Ended() {
		e.docs = docs{}
		rt.pushStatesLocked(ctx, e, sess, enc, o)
	} else {
		pub.actorDoc = rt.pushDocsLocked(ctx, e, sess, enc, o)
	}
	for _, ef := range effects {
		switch ef := ef.(type) {
		case court.Emit:
			rt.pushEventLocked(ctx, sess, ef)
		case court.JudgeCall:
			rt.callJudge(sess.ID, ef)
		}
	}
	return pub
}

// pushStatesLocked sends court:state, each user's own view of sess (IDLE,
// for an ended session), to every edge holding a socket of either user,
// and to the edge the acting user's request came through, so the actor's
// other sockets there follow even before its presence is recorded. A user
// not yet located gets it on every edge (fanOut).
func (rt *sessions) pushStatesLocked(ctx context.Context, e *entry, sess *court.Session, enc *court.StateEncoder, o origin) {
	for _, u := range sess.Users() {
		payload := enc.AppendState(nil, u)
		ev := &wire.Event{UserID: u, Name: protocol.State, Payload: payload, SessionID: sess.ID, Version: sess.Version}
		edges := rt.presenceLocked(ctx, e, u)
		if u == o.user && o.edge != "" && !slices.Contains(edges, o.edge) {
			edges = append(edges, o.edge)
		}
		rt.publishState(edges, ev)
		if !e.locatedLocked(u) {
			rt.fanOut(ev, rt.otherEdges(edges))
		}
	}
}

// presenceLocked returns the edges the directory names as holding a socket
// of user u, and records in e whether it named any.
func (rt *sessions) presenceLocked(ctx context.Context, e *entry, u string) []string {
	edges, err := rt.cfg.Directory.Presence(ctx, u)
	if err != nil {
		rt.log.Warn("presence lookup failed", "user", u, "err", err)
	}
	if i := slices.Index(e.users[:], u); i >= 0 && len(edges) > 0 {
		e.located[i] = true
	}
	return edges
}

// unlocateLocked forgets that user's presence was found: it read its state
// (a socket registered, or its edge resynced), maybe through an edge its
// presence does not name yet.
func (e *entry) unlocateLocked(user string) {
	if i := slices.Index(e.users[:], user); i >= 0 {
		e.located[i] = false
	}
}

// locatedLocked reports whether a publication found user's presence since
// the session began or the user last read its state.
func (e *entry) locatedLocked(user string) bool {
	i := slices.Index(e.users[:], user)
	return i < 0 || e.located[i]
}

// otherEdges returns the linked edges not in sent.
func (rt *sessions) otherEdges(sent []string) []string {
	var out []string
	for _, edge := range rt.cfg.Mesh.Edges() {
		if !slices.Contains(sent, edge) {
			out = append(out, edge)
		}
	}
	return out
}

// fanOut sends ev, the court:state of a user not yet located, to edges:
// every linked edge but those it already went to (otherEdges).
//
// This closes the register window: an edge answers the register of a user
// in no session by itself and writes the user's presence after the ack, so
// a session created meanwhile (the partner serving the instant the user
// registered) is published before the presence reaches the directory. The
// edge's resync once the presence is written would find the session, but
// about four round trips later; the fan-out gets there with the other
// pushes, on the session's flow, so in version order. An edge delivers a
// court:state only to the user's sockets and keeps no document copy of it
// (edge/presence.go): edges without the user drop it. Best effort: a send
// that fails is not retried, the resync covers it. A user found once and
// gone since (offline) costs nothing more: the fan-out stops at the first
// publication that finds the user, and starts again only when it reads its
// state (a register that reached the home).
func (rt *sessions) fanOut(ev *wire.Event, edges []string) {
	if len(edges) == 0 {
		return
	}
	rt.metrics.fanOuts.Inc()
	for _, edge := range edges {
		if err := rt.cfg.Mesh.SendEvent(edge, ev); err != nil {
			rt.log.Debug("fan out court:state", "edge", edge, "user", ev.UserID, "err", err)
		}
	}
}

// publishState queues ev, a user's court:state, to edges, keeping it for
// retry where it cannot be queued, and forgets the user's older pending
// states (retry.go).
func (rt *sessions) publishState(edges []string, ev *wire.Event) {
	rt.retries.publish(edges, ev, rt.now(), func(edge string, err error) {
		rt.log.Warn("push court:state; kept for retry", "edge", edge, "user", ev.UserID, "err", err)
	})
}

// linkUp queues again the court:state pushes that failed while the link to
// edge was down (retry.go).
func (rt *sessions) linkUp(edge string) {
	rt.gens.bump(edge)
	if sent, left := rt.retries.resend(edge, rt.now()); sent+left > 0 {
		rt.log.Info("retried court:state pushes", "edge", edge, "sent", sent, "left", left)
	}
}

// pushEventLocked sends ev, a server event other than court:state, to every
// edge holding a socket of its user.
func (rt *sessions) pushEventLocked(ctx context.Context, sess *court.Session, ev court.Emit) {
	edges, err := rt.cfg.Directory.Presence(ctx, ev.UserID)
	if err != nil {
		rt.log.Warn("presence lookup failed", "user", ev.UserID, "err", err)
		return
	}
	out := &wire.Event{UserID: ev.UserID, Name: ev.Name, Payload: ev.Payload, SessionID: sess.ID}
	for _, edge := range edges {
		if err := rt.cfg.Mesh.SendEvent(edge, out); err != nil {
			rt.log.Warn("push event", "event", ev.Name, "edge", edge, "err", err)
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
