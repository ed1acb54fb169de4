package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"courtmesh/protocol"
)

// ErrUnauthorized is a refused Socket.IO CONNECT.
var ErrUnauthorized = errors.New("loadgen: connect refused")

// State is the part of a court:state the load generator reads.
type State struct {
	Phase       string   `json:"phase"`
	MyViewPhase string   `json:"myViewPhase"`
	Session     *Session `json:"session"`
}

// Session is the part of the sanitised session the load generator reads:
// enough to see each action land (court-protocol.md §2.4).
type Session struct {
	ID       string `json:"id"`
	Version  uint64 `json:"version"`
	Evidence struct {
		Creator struct {
			Submitted bool `json:"submitted"`
		} `json:"creator"`
	} `json:"evidence"`
	PrimingReady       Pair `json:"primingReady"`
	JointReady         Pair `json:"jointReady"`
	VerdictAcceptances Pair `json:"verdictAcceptances"`
	ResolutionPicks    struct {
		UserA *string `json:"userA"`
	} `json:"resolutionPicks"`
}

// Pair is a {creator, partner} pair of flags.
type Pair struct {
	Creator bool `json:"creator"`
	Partner bool `json:"partner"`
}

// Client is one Socket.IO v5 client over Engine.IO v4 websocket, enough of
// the protocol to act like socket.io-client: CONNECT with auth.token, pongs,
// events with acks.
type Client struct {
	ws      *websocket.Conn
	writeMu sync.Mutex
	nextAck atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]chan json.RawMessage

	// States receives every court:state with the time it was read.
	States chan Received
	done   chan struct{}

	// traffic counts what reached this socket (written by readLoop only).
	traffic Traffic
	seen    map[stateKey]bool
}

// Traffic is what the server sent to one socket: every frame read, and its
// floor: the frames the protocol cannot do without, which are every ack
// (each carries the state, court-protocol.md §2.5) and each distinct
// court:state once.
type Traffic struct {
	Bytes, FloorBytes int64
}

// stateKey tells court:state documents apart: a session's version, its
// phase and the user's view.
type stateKey struct {
	version            uint64
	phase, myViewPhase string
}

// Received is one server event as the client saw it.
type Received struct {
	State State
	At    time.Time
}

var dialer = websocket.Dialer{
	HandshakeTimeout: 10 * time.Second,
	ReadBufferSize:   1024,
	WriteBufferSize:  1024,
}

// Dial connects to the edge at base (http://host:port) with token.
func Dial(ctx context.Context, base, token string) (*Client, error) {
	u := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	ws, _, err := dialer.DialContext(ctx, u, http.Header{})
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", base, err)
	}
	c := &Client{ws: ws, pending: make(map[uint64]chan json.RawMessage), States: make(chan Received, 64), done: make(chan struct{}), seen: map[stateKey]bool{}}
	if err := c.handshake(token); err != nil {
		ws.Close()
		return nil, err
	}
	go c.readLoop()
	return c, nil
}

func (c *Client) handshake(token string) error {
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer c.ws.SetReadDeadline(time.Time{})
	_, open, err := c.ws.ReadMessage()
	if err != nil || len(open) == 0 || open[0] != '0' {
		return fmt.Errorf("read open packet: %w", errors.Join(err, errors.New("not an open packet")))
	}
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := c.write("40" + string(auth)); err != nil {
		return err
	}
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("read connect: %w", err)
		}
		switch {
		case strings.HasPrefix(string(msg), "40"):
			return nil
		case strings.HasPrefix(string(msg), "44"):
			return fmt.Errorf("%w: %s", ErrUnauthorized, msg[2:])
		case string(msg) == "2":
			if err := c.write("3"); err != nil {
				return err
			}
		}
	}
}

func (c *Client) write(s string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *Client) readLoop() {
	defer close(c.done)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		at := time.Now()
		s := string(msg)
		switch {
		case strings.HasPrefix(s, "42"):
			c.onEvent(msg[2:], len(msg), at)
		case strings.HasPrefix(s, "43"):
			c.count(len(msg), true)
			c.onAck(s[2:])
		default:
			c.count(len(msg), false)
			if s == "2" {
				_ = c.write("3")
			}
		}
	}
}

// stateEventName is protocol.State as it appears, quoted, in an event.
var stateEventName = strconv.Quote(protocol.State)

// count adds a frame of size bytes to the traffic, and to its floor when
// floor is set. A frame's bytes and floor are added together, before what
// it carries is handed on: a reading of Traffic taken when a session ends
// (runCouple) then never holds a frame's bytes without its floor, which
// counted a 41 KB state arriving at that moment as waste.
func (c *Client) count(size int, floor bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.countLocked(size, floor)
}

// countLocked is count with c.mu held.
func (c *Client) countLocked(size int, floor bool) {
	c.traffic.Bytes += int64(size)
	if floor {
		c.traffic.FloorBytes += int64(size)
	}
}

func (c *Client) onEvent(body []byte, size int, at time.Time) {
	name, arg, err := decodeEvent(body)
	if err != nil || string(name) != stateEventName {
		c.count(size, false)
		return
	}
	st, err := decodeState(arg)
	if err != nil {
		c.count(size, false)
		return
	}
	key := stateKey{phase: st.Phase, myViewPhase: st.MyViewPhase}
	if st.Session != nil {
		key.version = st.Session.Version
	}
	c.mu.Lock()
	c.countLocked(size, !c.seen[key]) // each distinct state once in the floor
	c.seen[key] = true
	c.mu.Unlock()
	select {
	case c.States <- Received{State: st, At: at}:
	default: // a test that does not read states must not block the reader
	}
}

func (c *Client) onAck(s string) {
	i := strings.IndexByte(s, '[')
	if i <= 0 {
		return
	}
	id, err := strconv.ParseUint(s[:i], 10, 64)
	if err != nil {
		return
	}
	var args []json.RawMessage
	if json.Unmarshal([]byte(s[i:]), &args) != nil || len(args) == 0 {
		return
	}
	c.mu.Lock()
	ch := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- args[0]
	}
}

// Emit sends event with payload and waits for its ack.
func (c *Client) Emit(ctx context.Context, event string, payload any) (json.RawMessage, error) {
	id := c.nextAck.Add(1)
	ch := make(chan json.RawMessage, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	args, err := json.Marshal([]any{event, payload})
	if err != nil {
		return nil, err
	}
	if err := c.write("42" + strconv.FormatUint(id, 10) + string(args)); err != nil {
		return nil, fmt.Errorf("emit %s: %w", event, err)
	}
	select {
	case ack := <-ch:
		return ack, nil
	case <-c.done:
		return nil, fmt.Errorf("emit %s: connection closed", event)
	case <-ctx.Done():
		return nil, fmt.Errorf("emit %s: %w", event, ctx.Err())
	}
}

// Next returns the next court:state read, blocking; false once the
// connection is closed and every read state was returned.
func (c *Client) Next() (Received, bool) {
	select {
	case r := <-c.States:
		return r, true
	case <-c.done:
		select {
		case r := <-c.States:
			return r, true
		default:
			return Received{}, false
		}
	}
}

// WaitState waits for a court:state matching pred and returns when it was read.
func (c *Client) WaitState(ctx context.Context, pred func(State) bool) (time.Time, error) {
	for {
		select {
		case r := <-c.States:
			if pred(r.State) {
				return r.At, nil
			}
		case <-c.done:
			return time.Time{}, errors.New("wait state: connection closed")
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("wait state: %w", ctx.Err())
		}
	}
}

// Traffic returns what reached this socket so far.
func (c *Client) Traffic() Traffic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.traffic
}

// Close closes the connection.
func (c *Client) Close() error { return c.ws.Close() }
