package edge

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"courtmesh/edge/internal/sio"
)

// closeReason says why a socket closed; it is the reason label of
// court_edge_closes_total.
type closeReason string

func (r closeReason) Error() string { return "edge: socket closed: " + string(r) }

// Close reasons.
const (
	reasonClientClose    closeReason = "client_close"    // the client closed or disconnected
	reasonTransport      closeReason = "transport_error" // the connection failed
	reasonPingTimeout    closeReason = "ping_timeout"    // no pong within PingTimeout
	reasonConnectTimeout closeReason = "connect_timeout" // no CONNECT before the first ping
	reasonSlowConsumer   closeReason = "slow_consumer"   // the send queue was full
	reasonBadPacket      closeReason = "bad_packet"      // a frame that does not decode
	reasonTooLarge       closeReason = "too_large"       // a frame above MaxPayload
	reasonUnauthorized   closeReason = "unauthorized"    // CONNECT without a valid token
	reasonShutdown       closeReason = "shutdown"        // the edge is draining or closing
	reasonTokenExpired   closeReason = "token_expired"   // the token expired (expiry.go)
	reasonUserLimit      closeReason = "user_limit"      // the user has MaxSocketsPerUser sockets (caps.go)
	reasonIPLimit        closeReason = "ip_limit"        // the address has MaxSocketsPerIP sockets (caps.go)
)

var closeReasons = []closeReason{
	reasonClientClose, reasonTransport, reasonPingTimeout, reasonConnectTimeout,
	reasonSlowConsumer, reasonBadPacket, reasonTooLarge, reasonUnauthorized, reasonShutdown,
	reasonTokenExpired, reasonUserLimit, reasonIPLimit,
}

// closeGrace is how long a socket that was sent a close frame may take to
// answer it before it is cut.
var closeGrace = time.Second

// maxInflight bounds the actions of one socket handled concurrently; beyond
// it the reader handles them itself, which pushes back on the client.
const maxInflight = 8

// pingFrame and pongFrame are shared and never modified.
var (
	pingFrame = sio.AppendPing(nil)
	pongFrame = sio.AppendPong(nil)
)

// conn is one client socket: a reader goroutine only while it has data to
// read (idle.go), a writer goroutine only while frames are queued, one
// timer (heartbeat.go).
type conn struct {
	s       *Server
	ws      *websocket.Conn
	br      *bufio.Reader // ws's read buffer; see idle.go
	lent    *bufio.Reader // the pooled reader whose buffer br uses; nil while parked
	id      uint64        // key in Server.conns, set by track
	sid     string
	hdrUser string // user of a valid Authorization: Bearer token, if any
	hdrExp  int64  // its exp, in Unix seconds; 0: none
	lang    string // first entry of the handshake's Accept-Language, for serve

	// userID is set by the reader at CONNECT, before it starts any action.
	userID string

	mu         sync.Mutex // guards the fields below (the small ones are last: less padding)
	queue      []frame    // frames waiting for the writer, at most SendQueueLen
	closing    closeReason
	counted    string // the user counted in Server.perUser; guarded by Server.mu
	ip         string // counted in Server.perIP; guarded by Server.mu
	sessionID  string
	version    uint64             // of the newest court:state sent for sessionID, or acked
	beatAt     time.Duration      // when the heartbeat is due, on Server.since's clock
	expireAt   time.Duration      // when the token's expiry ends the socket; 0: never (expiry.go)
	actx       context.Context    // parent of the actions in flight; nil while none
	acancel    context.CancelFunc // cancels actx
	nact       int32              // actions in flight, see beginAction
	nacting    int32              // of them, actions other than court:register
	seq        uint32             // court:state frames sent and versions acked, see resynced
	tidx       int32              // the timer's index in Server.timers plus one; 0: none. Guarded by Server.timers.mu
	writing    bool               // a writer goroutine is running
	closed     bool
	parked     bool // armed in the poller, no reader running
	connected  bool // CONNECT accepted
	awaitPong  bool
	registered bool // in Server.users; guarded by Server.mu, not c.mu
	sent       bool // a court:state of that version was sent, not only acked
	idle       bool // the last court:state sent was IDLE

	inflight atomic.Int32 // events being handled (dispatch); not guarded
}

// send queues frame, shared (never given back to the frame pool). A full
// queue cuts the socket off.
func (c *conn) send(b []byte) {
	c.mu.Lock()
	start, ok := c.enqueueLocked(shared(b))
	c.mu.Unlock()
	c.afterEnqueue(start, ok)
}

// enqueueLocked queues f and reports whether a writer must be started and
// whether the socket could take it (a full queue: not, and the socket is
// to be cut off). A frame the socket owns that is not queued goes back to
// the pool at once. c.mu is held on entry.
func (c *conn) enqueueLocked(f frame) (start, ok bool) {
	if c.closed || c.closing != "" {
		c.s.m.dropped.WithLabelValues(dropClosed).Inc()
		f.release()
		return false, true
	}
	if len(c.queue) >= c.s.cfg.SendQueueLen {
		c.s.m.dropped.WithLabelValues(dropQueueFull).Inc()
		f.release()
		return false, false
	}
	c.queue = append(c.queue, f)
	start = !c.writing
	c.writing = true
	return start, true
}

func (c *conn) afterEnqueue(start, ok bool) {
	if !ok {
		c.close(reasonSlowConsumer)
		return
	}
	if start {
		c.s.spawn(c.writeLoop)
	}
}

// writeLoop writes queued frames until the queue is empty, then exits.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		if len(batch) == 0 {
			c.writing = false
			reason := c.closing
			c.mu.Unlock()
			if reason != "" {
				c.sendCloseFrame(reason)
			}
			return
		}
		c.mu.Unlock()
		for i, f := range batch {
			err := c.write(f.b)
			// The write returned: gorilla keeps no reference to the
			// frame (it writes it, or fails, before returning).
			f.release()
			if err != nil {
				releaseAll(batch[i+1:])
				c.close(reasonTransport)
				return
			}
		}
	}
}

func (c *conn) write(frame []byte) error {
	if err := c.ws.SetWriteDeadline(time.Now().Add(c.s.cfg.PingTimeout)); err != nil {
		return err
	}
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

// closeAfterFlush queues frames, then a WebSocket close frame, and gives the
// client closeGrace to answer it before the socket is cut with reason.
func (c *conn) closeAfterFlush(reason closeReason, frames ...[]byte) {
	c.mu.Lock()
	if c.closed || c.closing != "" {
		c.mu.Unlock()
		return
	}
	for _, b := range frames {
		c.queue = append(c.queue, shared(b))
	}
	c.closing = reason
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		c.s.spawn(c.writeLoop)
	}
}

func (c *conn) sendCloseFrame(reason closeReason) {
	code := websocket.CloseNormalClosure
	if reason == reasonShutdown {
		code = websocket.CloseGoingAway
	}
	if c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, string(reason)), time.Now().Add(closeGrace)) != nil {
		c.close(reason)
		return
	}
	// A reader ends the socket when the client answers; a parked socket
	// has no read deadline, so a timer cuts a client that does not.
	time.AfterFunc(closeGrace, func() { c.close(reason) })
}

// close cuts the socket at once. The first reason wins, except that a
// pending closeAfterFlush reason wins over all.
func (c *conn) close(reason closeReason) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	parked := c.parked
	c.parked = false
	if c.closing != "" {
		reason = c.closing
	}
	releaseAll(c.queue) // no writer took these: only the queue holds them
	c.queue = nil
	c.s.timers.stop(c)
	c.cancelActionsLocked()
	c.mu.Unlock()
	_ = c.ws.NetConn().Close()
	c.s.m.closes.WithLabelValues(string(reason)).Inc()
	c.s.log.Debug("socket closed", "conn_id", c.sid, "reason", string(reason))
	if parked {
		c.s.spawn(c.finish) // no reader will see the socket end
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed || c.closing != ""
}

// readErrReason maps a read error to a close reason.
func readErrReason(err error) closeReason {
	var ce *websocket.CloseError
	switch {
	case errors.Is(err, websocket.ErrReadLimit):
		return reasonTooLarge
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return reasonClientClose
	}
	return reasonTransport
}
