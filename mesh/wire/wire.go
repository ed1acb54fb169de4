// Package wire is the node-to-node contract of the courtmesh mesh: frame
// types, the protocol version, and the messages edges and homes exchange over
// QUIC. It imports only the standard library so that every role can depend on
// it.
package wire

/*
Protocol flow:

One QUIC connection per node pair, TLS 1.3 with mutual authentication from the
cluster CA (ALPN "courtmesh/1"). Edges dial homes; the dialer is the client.

 1. Control stream. The dialer opens the first bidirectional stream and
    writes FrameHello{Version, NodeID, Region, Role}. The acceptor checks the
    version and that NodeID matches the peer certificate, and answers with its
    own FrameHello. A mismatch is answered with FrameError and the connection is
    closed. After the hello either side sends FramePing{Nonce, SentUnixNano};
    the other answers FramePong with the same fields. A node that sees no pong
    within the link timeout reports the link down and closes the connection.
    Before a graceful close a node writes FrameGoAway{Reason}.

 2. Requests (edge → home). A bidirectional stream carries one request at
    a time: the requester writes one FrameRequest, the responder answers with
    one FrameResponse (or FrameError). A requester whose peer's hello names
    FeatureReusedStreams keeps the stream after the answer for a later
    request, and closes its send side when it no longer needs it; otherwise
    it closes its send side after the request, as nodes of an earlier release
    do. The responder answers each request in turn and closes its side once
    the requester's side ends. A request in flight has a stream of its own,
    so a slow session never blocks another (no head-of-line blocking).

 3. Events (home → edge). One-way FrameEvent frames on unidirectional "flow"
    streams. The sender keeps EventFlows streams per connection and puts every
    event of one session on the same flow (by hash of Event.SessionID), so one
    session's events arrive in order while different sessions do not wait on
    each other.

Compression. To a peer whose hello names FeatureZstd, a node may send a
FrameRequest, FrameResponse or FrameEvent as FrameCompressed instead, on the
same stream: its body is the inner frame's type (1 byte), then one zstd frame
(RFC 8878) of the inner body. The receiver decompresses it and handles the
inner frame as if it had come plain. Nodes of an earlier release name no
such feature and are never sent one. The mesh (package mesh) decides which
frames to compress; this package only names the frame.

Every frame is: type (1 byte) | body length (4 bytes, big endian) | body.
FrameRequest, FrameResponse and FrameEvent bodies are binary (body.go): each
field length-prefixed, JSON payloads carried verbatim, so a large court:state
is copied, never re-parsed, on its way through the mesh. The other bodies are
JSON objects of the types below. A body longer than MaxFrameSize is refused
before it is read.
*/

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ProtocolVersion is the mesh protocol version carried in FrameHello. Nodes
// with different versions refuse each other. Version 2 made the request,
// response and event bodies binary.
const ProtocolVersion = 2

// ALPN is the TLS application protocol of mesh connections.
const ALPN = "courtmesh/1"

// MaxFrameSize bounds a frame body. The largest court:state is about 200 KiB
// (court-protocol.md §7.2); 4 MiB leaves room for any batch.
const MaxFrameSize = 4 << 20

// EventFlows is the number of unidirectional event streams per connection.
const EventFlows = 8

// HeaderLen is the length of the frame header: type and body length (4
// bytes, big endian).
const HeaderLen = 5

// FrameType identifies a frame.
type FrameType uint8

// Frame types. The zero value is invalid.
const (
	FrameHello    FrameType = 1 // control stream: Hello
	FramePing     FrameType = 2 // control stream: Ping
	FramePong     FrameType = 3 // control stream: Ping (echoed)
	FrameGoAway   FrameType = 4 // control stream: GoAway
	FrameRequest  FrameType = 5 // request stream: Request
	FrameResponse FrameType = 6 // request stream: Response
	FrameEvent    FrameType = 7 // flow stream: Event
	FrameError    FrameType = 8 // any stream: Error, then close
	// FrameCompressed carries a FrameRequest, FrameResponse or FrameEvent
	// compressed, on that frame's stream, to a peer naming FeatureZstd.
	FrameCompressed FrameType = 9
)

func (t FrameType) String() string {
	switch t {
	case FrameHello:
		return "hello"
	case FramePing:
		return "ping"
	case FramePong:
		return "pong"
	case FrameGoAway:
		return "goaway"
	case FrameRequest:
		return "request"
	case FrameResponse:
		return "response"
	case FrameEvent:
		return "event"
	case FrameError:
		return "error"
	case FrameCompressed:
		return "compressed"
	}
	return fmt.Sprintf("frame(%d)", uint8(t))
}

// Valid reports whether t is a known frame type.
func (t FrameType) Valid() bool { return t >= FrameHello && t <= FrameCompressed }

// Role is what a node does in the mesh.
type Role string

// Roles.
const (
	RoleEdge Role = "edge"
	RoleHome Role = "home"
)

// Hello opens the control stream in both directions.
type Hello struct {
	Version int    `json:"version"`
	NodeID  string `json:"node_id"`
	Region  string `json:"region"`
	Role    Role   `json:"role"`
	// Features are what the node takes beyond ProtocolVersion; nodes of an
	// earlier release send none and ignore the field.
	Features []string `json:"features,omitempty"`
}

// FeatureStateDocs: the node takes court:state documents (package
// mesh/statedoc) in place of each user's court:state.
const FeatureStateDocs = "state_docs"

// FeatureReusedStreams: the node answers any number of requests on one
// request stream, in turn (see the protocol flow above).
const FeatureReusedStreams = "reused_streams"

// FeatureZstd: the node takes FrameCompressed (see the protocol flow above).
const FeatureZstd = "zstd"

// FeatureDocAcks: the node takes a Response whose state is in a document
// (Response.StateInDoc).
const FeatureDocAcks = "doc_acks"

// Ping measures round-trip time and proves the link is alive. A pong echoes it.
type Ping struct {
	Nonce        uint64 `json:"nonce"`
	SentUnixNano int64  `json:"sent_unix_nano"`
}

// GoAway announces a graceful close.
type GoAway struct {
	Reason string `json:"reason"`
}

// Request is one client action forwarded from an edge to a home node.
type Request struct {
	// ID identifies the action across the edge's retries of it: a home that
	// already applied the action answers a retry with the same response
	// instead of applying it again. Empty means no deduplication.
	ID string `json:"id,omitempty"`
	// UserID is the authenticated user (the JWT sub) that acted.
	UserID string `json:"user_id"`
	// Event is the Socket.IO event name, e.g. "court:serve", or a mesh
	// operation such as "mesh:read_state" (read the user's state; package
	// protocol names both).
	Event string `json:"event"`
	// Payload is the event's first argument as JSON; null when absent.
	Payload json.RawMessage `json:"payload,omitempty"`
	// EdgeNode and EdgeRegion name the edge that received the action.
	EdgeNode   string `json:"edge_node"`
	EdgeRegion string `json:"edge_region"`
	// HomeRegion is the home region the edge chose for a new session
	// (court:serve only).
	HomeRegion string `json:"home_region,omitempty"`
}

// Response answers a Request.
type Response struct {
	// Ack is the Socket.IO ack payload the edge sends to the caller, e.g.
	// {"ok":true,"state":{...}} or {"ok":false,"error":"..."}.
	Ack json.RawMessage `json:"ack"`
	// CourtError, when set, is emitted as "court:error" to the calling socket
	// only ({"message":...,"code":...}).
	CourtError json.RawMessage `json:"court_error,omitempty"`
	// SessionID and Version identify the state carried in Ack, if any, so the
	// edge can order it against pushed events.
	SessionID string `json:"session_id,omitempty"`
	Version   uint64 `json:"version,omitempty"`
	// StateInDoc: the ack's state, {"ok":true,"state":...} of version
	// Version, is left for the edge to build from the court:state document
	// of that version the home queued to it (package mesh/statedoc); Ack is
	// empty. Sent only to a peer naming FeatureDocAcks.
	StateInDoc bool `json:"state_in_doc,omitempty"`
}

// Event is one server → client event for every socket of one user held by the
// receiving edge.
type Event struct {
	UserID string `json:"user_id"`
	// Name is the Socket.IO event name, e.g. "court:state".
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload"`
	// SessionID and Version order court:state events: an edge never delivers
	// an older version of a session after a newer one to the same socket.
	SessionID string `json:"session_id,omitempty"`
	Version   uint64 `json:"version,omitempty"`
}

// Error codes carried in FrameError and in *Error values.
const (
	CodeBadFrame       = "bad_frame"
	CodeVersion        = "version_mismatch"
	CodeIdentity       = "identity_mismatch"
	CodeUnavailable    = "unavailable"
	CodeNotOwner       = "not_owner"
	CodeInternal       = "internal"
	CodeShuttingDown   = "shutting_down"
	CodeRequestTimeout = "timeout"
)

// Error is a wire-visible failure.
type Error struct {
	Code      string `json:"code"`
	Reason    string `json:"reason"`
	Temporary bool   `json:"temporary,omitempty"`
}

func (e *Error) Error() string { return "mesh: " + e.Code + ": " + e.Reason }

// Decoder errors.
var (
	ErrFrameTooLarge = errors.New("wire: frame too large")
	ErrBadFrameType  = errors.New("wire: unknown frame type")
)

// WriteFrame writes one frame whose body is v encoded: binary for *Request,
// *Response and *Event, JSON otherwise.
//
// The frame is encoded into a pooled buffer, given back once w.Write
// returned (an io.Writer does not keep what it is given): an answer of
// tens of KiB (an ack carrying a court:state) costs no allocation.
func WriteFrame(w io.Writer, t FrameType, v any) error {
	bp := framePool.Get().(*[]byte)
	frame, err := appendFrame((*bp)[:0], t, v)
	if err == nil {
		_, err = w.Write(frame)
	}
	if cap(frame) <= maxPooledFrame {
		*bp = frame
		framePool.Put(bp)
	}
	return err
}

// framePool holds the buffers of WriteFrame, as *[]byte so that putting
// one back allocates nothing.
var framePool = sync.Pool{New: func() any { return new([]byte) }}

// maxPooledFrame bounds the buffers framePool keeps: a rare large frame
// does not stay held.
const maxPooledFrame = 256 << 10

// EncodeFrame returns the whole frame, header and body, of type t with body
// v, encoded as WriteFrame does, in one allocation of the frame's size.
// The body of FrameRequest, FrameResponse and FrameEvent must be a
// *Request, *Response or *Event respectively.
func EncodeFrame(t FrameType, v any) ([]byte, error) {
	return appendFrame(nil, t, v)
}

// AppendFrame appends the frame of type t with body v, encoded as
// WriteFrame does, to dst, which must be empty: a caller that reuses its
// buffers encodes without allocating. The binary bodies grow dst once, by
// their size, when it is too small.
func AppendFrame(dst []byte, t FrameType, v any) ([]byte, error) {
	return appendFrame(dst, t, v)
}

// appendFrame is AppendFrame.
func appendFrame(dst []byte, t FrameType, v any) ([]byte, error) {
	var hdr [HeaderLen]byte
	hdr[0] = byte(t)
	frame, err := appendBody(append(dst, hdr[:]...), t, v)
	if err != nil {
		return nil, err
	}
	n := len(frame) - HeaderLen
	if n > MaxFrameSize {
		return nil, ErrFrameTooLarge
	}
	binary.BigEndian.PutUint32(frame[1:HeaderLen], uint32(n))
	return frame, nil
}

// appendBody appends the encoded body v of a frame of type t to dst.
func appendBody(dst []byte, t FrameType, v any) ([]byte, error) {
	switch t { // a switch, not a table of closures: nothing allocated per frame
	case FrameRequest:
		return appendAs(dst, t, v, AppendRequest)
	case FrameResponse:
		return appendAs(dst, t, v, AppendResponse)
	case FrameEvent:
		return appendAs(dst, t, v, AppendEvent)
	}
	body, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", t, err)
	}
	return append(dst, body...), nil
}

func appendAs[T any](dst []byte, t FrameType, v any, enc func([]byte, *T) []byte) ([]byte, error) {
	m, ok := v.(*T)
	if !ok || m == nil {
		return nil, fmt.Errorf("encode %s: body is %T, want %T", t, v, m)
	}
	return enc(dst, m), nil
}

func decodeInto[T any](b []byte, t FrameType, v any, dec func([]byte) (*T, error)) error {
	dst, ok := v.(*T)
	if !ok || dst == nil {
		return fmt.Errorf("decode %s: into %T, want %T", t, v, dst)
	}
	m, err := dec(b)
	if err != nil {
		return err
	}
	*dst = *m
	return nil
}

// WriteRawFrame writes one frame with an already encoded body, in one Write.
func WriteRawFrame(w io.Writer, t FrameType, body []byte) error {
	if len(body) > MaxFrameSize {
		return ErrFrameTooLarge
	}
	buf := make([]byte, HeaderLen+len(body))
	buf[0] = byte(t)
	binary.BigEndian.PutUint32(buf[1:HeaderLen], uint32(len(body)))
	copy(buf[HeaderLen:], body)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame. It returns io.EOF only when the stream ends
// cleanly before a frame starts.
func ReadFrame(r io.Reader) (FrameType, []byte, error) {
	var hdr [HeaderLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, fmt.Errorf("read frame header: %w", err)
		}
		return 0, nil, err
	}
	t := FrameType(hdr[0])
	if !t.Valid() {
		return 0, nil, ErrBadFrameType
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > MaxFrameSize {
		return 0, nil, ErrFrameTooLarge
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("read %s body: %w", t, noEOF(err))
	}
	return t, body, nil
}

// ReadFrameAs reads one frame, checks it has type want, and decodes its body
// into v. A FrameError is returned as *Error.
func ReadFrameAs(r io.Reader, want FrameType, v any) error {
	t, body, err := ReadFrame(r)
	if err != nil {
		return err
	}
	return DecodeBody(t, body, want, v)
}

// DecodeBody decodes a frame body of type t into v, which must be of the type
// that goes with want. A FrameError body is returned as *Error. A decoded
// binary body's payloads share body's memory.
func DecodeBody(t FrameType, body []byte, want FrameType, v any) error {
	if t == FrameError && want != FrameError {
		var e Error
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("decode error frame: %w", err)
		}
		return &e
	}
	if t != want {
		return fmt.Errorf("wire: got %s frame, want %s", t, want)
	}
	switch t {
	case FrameRequest:
		return decodeInto(body, t, v, DecodeRequest)
	case FrameResponse:
		return decodeInto(body, t, v, DecodeResponse)
	case FrameEvent:
		return decodeInto(body, t, v, DecodeEvent)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("decode %s: %w", t, err)
	}
	return nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
