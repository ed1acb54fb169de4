package edge

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"courtmesh/edge/internal/sio"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// Event names (package protocol).
const (
	evRegister  = protocol.Register
	evState     = protocol.State
	evError     = protocol.Error
	evReadState = protocol.ReadState
)

// Payloads the edge answers by itself.
var (
	internalAck, _    = protocol.Refusal(protocol.MsgInternal, "")
	unavailable       = refusal(protocol.MsgNoHome, protocol.CodeServiceUnavailable)
	unknownEvent      = refusal(protocol.MsgUnknownEvent, protocol.CodeUnknownEvent)
	unauthorizedFrame = sio.AppendConnectError(nil, sio.DefaultNamespace, "Unauthorized")
)

// refusal is the response of an action the edge refuses by itself.
func refusal(msg, code string) *wire.Response {
	ack, courtError := protocol.Refusal(msg, code)
	return &wire.Response{Ack: ack, CourtError: courtError}
}

// handleFrame handles one client frame; a non-empty reason closes the socket.
func (c *conn) handleFrame(data []byte) closeReason {
	p, err := sio.Decode(data)
	if err != nil {
		c.s.log.Debug("bad packet", "conn_id", c.sid, "err", err)
		return reasonBadPacket
	}
	if c.isClosing() {
		return ""
	}
	switch p.Engine {
	case sio.EnginePong:
		c.onPong()
	case sio.EnginePing:
		c.send(pongFrame)
	case sio.EngineClose:
		return reasonClientClose
	case sio.EngineOpen:
		return reasonBadPacket
	case sio.EngineMessage:
		return c.handleMessage(p)
	}
	return ""
}

func (c *conn) handleMessage(p sio.Packet) closeReason {
	switch p.Type {
	case sio.Connect:
		return c.onConnect(p)
	case sio.Disconnect:
		if p.Namespace == sio.DefaultNamespace {
			return reasonClientClose
		}
	case sio.Event:
		if p.Namespace != sio.DefaultNamespace || c.userID == "" {
			return reasonBadPacket
		}
		c.dispatch(p)
	case sio.ConnectError:
		return reasonBadPacket
	}
	// ACK packets answer server emits that asked for one; the edge asks
	// for none, so they are ignored.
	return ""
}

func (c *conn) onConnect(p sio.Packet) closeReason {
	if p.Namespace != sio.DefaultNamespace {
		c.send(sio.AppendConnectError(nil, p.Namespace, "Invalid namespace"))
		return ""
	}
	if c.userID != "" {
		return reasonBadPacket // a second CONNECT on the same socket
	}
	user := c.authenticate(p.Data)
	if user == "" {
		c.closeAfterFlush(reasonUnauthorized, unauthorizedFrame)
		return ""
	}
	if !c.s.admitUser(c, user) {
		c.closeAfterFlush(reasonUserLimit, userLimitFrame)
		return ""
	}
	c.userID, c.hdrUser = user, ""
	c.mu.Lock()
	c.connected = true
	c.mu.Unlock()
	c.send(sio.AppendConnect(nil, sio.DefaultNamespace, newID()))
	c.armExpiry(c.connectExpiry(p.Data))
	return ""
}

// authenticate returns the user of auth.token, else of the bearer header,
// or "" when neither is valid.
func (c *conn) authenticate(auth json.RawMessage) string {
	var a struct {
		Token json.RawMessage `json:"token"`
	}
	var tok string
	if len(auth) > 0 && json.Unmarshal(auth, &a) == nil && json.Unmarshal(a.Token, &tok) == nil && tok != "" {
		user, err := c.s.cfg.Verifier.Verify(tok)
		if err != nil {
			c.s.log.Debug("token refused", "conn_id", c.sid, "err", err)
			return ""
		}
		return user
	}
	return c.hdrUser
}

// dispatch handles an event on its own goroutine, or on the reader's when
// the socket has maxInflight events in flight already.
func (c *conn) dispatch(p sio.Packet) {
	if c.inflight.Load() >= maxInflight {
		c.handleEvent(p)
		return
	}
	c.inflight.Add(1)
	c.s.spawn(func() {
		defer c.inflight.Add(-1)
		c.handleEvent(p)
	})
}

func (c *conn) handleEvent(p sio.Packet) {
	if !protocol.IsClientEvent(p.Event) {
		c.s.m.actions.WithLabelValues(protocol.LabelOther, resultUnknown).Inc()
		c.reply(p, unknownEvent, nil)
		return
	}
	start := time.Now()
	ctx, end := c.beginAction(p.Event)
	defer end()
	if retryAfter, ok := c.s.allow(ctx, c.userID, p.Event); !ok {
		c.s.m.actions.WithLabelValues(p.Event, resultRateLimited).Inc()
		c.s.m.observe(p.Event, resultRateLimited, start)
		c.reply(p, rateLimited(retryAfter), nil)
		return
	}
	var resp *wire.Response
	var state json.RawMessage
	var cachedIdle *uint32 // set when a register is answered IDLE by the cache
	var err error
	if p.Event == evRegister {
		resp, state, cachedIdle, err = c.register(ctx)
	} else {
		resp, err = c.s.forward(ctx, c.request(p.Event, withLanguage(p.Event, p.Data, c.lang)), false)
	}
	result := resultOK
	switch {
	case err != nil && errors.Is(ctx.Err(), context.Canceled):
		return // the socket closed meanwhile
	case err != nil:
		c.s.log.Debug("action failed", "conn_id", c.sid, "event", p.Event, "err", err)
		resp, result = unavailable, resultUnavailable
	case resp.CourtError != nil:
		result = resultRejected
	}
	c.s.m.actions.WithLabelValues(p.Event, result).Inc()
	c.s.m.observe(p.Event, result, start)
	if c.replyUnlessLearned(p, resp, state, cachedIdle) {
		return
	}
	// The socket learned of a session while the cache said there was none
	// (an action it sent alongside the register found one): the cache is
	// behind, and the primary answers.
	if resp, state, err = c.registerFresh(ctx); err != nil {
		c.s.log.Debug("action failed", "conn_id", c.sid, "event", p.Event, "err", err)
		resp, state = unavailable, nil
	}
	c.reply(p, resp, state)
}

// register makes the socket receive pushes and returns the user's state.
// A user in no session (as the directory's cache says) is answered here,
// in-region; its presence and a resync that checks that answer follow off
// the ack path (presence_async.go).
//
// An IDLE answered by the cache comes with the socket's seq before the
// read: if the socket learned of a state since, the IDLE may be older than
// it, and replyUnlessLearned does not send it.
func (c *conn) register(ctx context.Context) (*wire.Response, json.RawMessage, *uint32, error) {
	written := c.s.addRegistered(c)
	seq := c.seqNow()
	resp, err := c.s.forward(ctx, c.request(evRegister, nil), false)
	if errors.Is(err, errNoSession) && c.waitForActions(ctx) {
		// An action of this socket was in flight (a reconnecting client
		// sends its buffered emits beside its register): the cache's IDLE
		// may be older than its outcome, so once it is done the primary
		// answers.
		seq = c.seqNow()
		resp, err = c.s.forward(ctx, c.request(evRegister, nil), true)
	}
	if errors.Is(err, errNoSession) {
		if written != nil {
			c.s.resyncAfter(written, c.userID)
		}
		return &wire.Response{Ack: protocol.IdleAck}, protocol.IdleState, &seq, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return resp, stateOf(resp.Ack), nil, nil
}

// registerFresh answers a register from the primary: the user's state, or
// IDLE when it is in no session.
func (c *conn) registerFresh(ctx context.Context) (*wire.Response, json.RawMessage, error) {
	resp, err := c.s.forward(ctx, c.request(evRegister, nil), true)
	if errors.Is(err, errNoSession) {
		return &wire.Response{Ack: protocol.IdleAck}, protocol.IdleState, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return resp, stateOf(resp.Ack), nil
}

// seqNow returns the socket's seq (states sent and versions acked).
func (c *conn) seqNow() uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seq
}

func (c *conn) request(event string, payload json.RawMessage) *wire.Request {
	return c.s.request(c.userID, event, payload)
}

// request builds the mesh request of user's event. A nil payload (the
// event had none) is sent empty, so the home tells it from an explicit null.
func (s *Server) request(user, event string, payload json.RawMessage) *wire.Request {
	return &wire.Request{ID: newID(), UserID: user, Event: event, Payload: payload,
		EdgeNode: s.cfg.NodeID, EdgeRegion: s.cfg.Region}
}

// stateOf returns the "state" of an ack, or nil.
func stateOf(ack json.RawMessage) json.RawMessage {
	var a struct {
		State json.RawMessage `json:"state"`
	}
	if json.Unmarshal(ack, &a) != nil || len(a.State) == 0 || string(a.State) == "null" {
		return nil
	}
	return a.State
}

// reply sends, in the order the original server did, court:state (when
// state is set and not older than what the socket has), court:error (when
// resp carries one) and the ack (when the client asked for one).
func (c *conn) reply(p sio.Packet, resp *wire.Response, state json.RawMessage) {
	c.replyUnlessLearned(p, resp, state, nil)
}

// replyUnlessLearned is reply, unless since is set and the socket's seq
// moved from it (the socket learned of a state after the answer was read):
// then it sends nothing and reports false.
func (c *conn) replyUnlessLearned(p sio.Packet, resp *wire.Response, state json.RawMessage, since *uint32) bool {
	// The frames are this socket's alone: built in pooled buffers that the
	// writer gives back after their write (frames.go).
	frames := make([]frame, 0, 3)
	if state != nil {
		buf := newFrameBuf()
		frames = append(frames, owned(buf, sio.AppendEvent(*buf, sio.DefaultNamespace, evState, state)))
	}
	if resp.CourtError != nil {
		buf := newFrameBuf()
		frames = append(frames, owned(buf, sio.AppendEvent(*buf, sio.DefaultNamespace, evError, resp.CourtError)))
	}
	if p.HasID {
		ack := resp.Ack
		if len(ack) == 0 {
			ack = internalAck
		}
		buf := newFrameBuf()
		frames = append(frames, owned(buf, sio.AppendAck(*buf, sio.DefaultNamespace, p.ID, ack)))
	}
	c.mu.Lock()
	if since != nil && c.seq != *since {
		c.mu.Unlock()
		releaseAll(frames)
		return false
	}
	fresh := c.admitLocked(resp.SessionID, resp.Version, false)
	if state != nil && !fresh {
		c.s.m.dropped.WithLabelValues(dropStale).Inc()
		frames[0].release()
		frames = frames[1:]
	} else if state != nil {
		c.seq++
		c.idle, c.sent = isIdle(state), true
	}
	start, ok := false, true
	for _, f := range frames {
		s, o := c.enqueueLocked(f)
		start, ok = start || s, ok && o
	}
	c.mu.Unlock()
	c.afterEnqueue(start, ok)
	return true
}

// admitLocked reports whether a court:state of (session, version) may be
// sent: it is not older than one the socket already has, nor, when strict
// (a push), the same version again once a court:state of it was sent (a
// retried push, or one a resync delivered; an ack carrying it does not
// count). It records the newest. Unversioned states always pass. c.mu is
// held on entry; a caller that sends the state sets c.sent.
func (c *conn) admitLocked(session string, version uint64, strict bool) bool {
	if session == "" || version == 0 {
		return true
	}
	if session == c.sessionID && (version < c.version || strict && version == c.version && c.sent) {
		return false
	}
	if session != c.sessionID || version != c.version {
		c.sent = false
		c.seq++ // an ack's version is news too (see register)
	}
	c.sessionID, c.version = session, version
	return true
}
