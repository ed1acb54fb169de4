package edge

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"

	"courtmesh/edge/internal/sio"
)

// Engine.IO handshake errors, as engine.io 6 answers them.
const (
	errTransportUnknown = `{"code":0,"message":"Transport unknown"}`
	errSessionUnknown   = `{"code":1,"message":"Session ID unknown"}`
	errBadRequest       = `{"code":3,"message":"Bad request"}`
	errProtocolVersion  = `{"code":5,"message":"Unsupported protocol version"}`
	errShuttingDown     = `{"code":3,"message":"Server is shutting down"}`
)

// serveSocket handles GET /socket.io/?EIO=4&transport=websocket. It parks
// the socket (or hands it to a reader goroutine) and returns, so net/http
// releases its per-request buffers and structures (about 10 KiB per socket;
// measured in README.md) instead of keeping them for the socket's lifetime.
func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	if msg, status := s.checkHandshake(r); msg != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg))
		return
	}
	ip, ok := s.admitIP(r)
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(errTooManyFromIP))
		return
	}
	hdrUser := s.bearerUser(r)
	hw := &hijackWriter{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(hw, r, nil)
	if err != nil {
		s.releaseIP(ip)
		return // the upgrader has answered
	}
	c := s.newConn(ws, hw.br, hw.lent, hdrUser)
	c.hdrExp = bearerExpiry(r)
	c.lang = acceptLanguage(r)
	c.ip = ip
	if !s.track(c) {
		s.releaseIP(ip)
		_ = ws.Close()
		return
	}
	c.startHeartbeat()
	c.send(sio.AppendOpen(nil, c.sid, s.cfg.PingInterval, s.cfg.PingTimeout, s.cfg.MaxPayload))
	if !c.park() {
		s.spawn(c.read)
	}
}

func (s *Server) checkHandshake(r *http.Request) (msg string, status int) {
	q := r.URL.Query()
	switch {
	case q.Get("transport") != "websocket":
		return errTransportUnknown, http.StatusBadRequest
	case q.Get("EIO") != "4":
		return errProtocolVersion, http.StatusBadRequest
	case q.Has("sid"):
		return errSessionUnknown, http.StatusBadRequest
	case r.Method != http.MethodGet || !websocket.IsWebSocketUpgrade(r):
		return errBadRequest, http.StatusBadRequest
	case !s.Serving():
		return errShuttingDown, http.StatusServiceUnavailable
	}
	return "", 0
}

// bearerUser returns the user of a valid Authorization: Bearer token, or "".
// It is used when the CONNECT packet carries no token.
func (s *Server) bearerUser(r *http.Request) string {
	user, _ := s.bearer(r)
	return user
}

// bearer returns the user of the request's Authorization: Bearer token, or
// the REST 401 message: no token, or a token that does not verify.
func (s *Server) bearer(r *http.Request) (user, msg string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return "", msgMissingBearer
	}
	user, err := s.cfg.Verifier.Verify(tok)
	if err != nil {
		s.log.Debug("bearer token refused", "err", err)
		return "", msgInvalidBearer
	}
	return user, ""
}

func (s *Server) newConn(ws *websocket.Conn, br, lent *bufio.Reader, hdrUser string) *conn {
	c := &conn{s: s, ws: ws, br: br, lent: lent, sid: newID(), hdrUser: hdrUser}
	ws.SetReadLimit(int64(s.cfg.MaxPayload))
	return c
}

// newID returns a random 20-character URL-safe id.
func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:]) // never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (c *conn) readMessage() closeReason {
	mt, data, err := c.ws.ReadMessage()
	if err != nil {
		return readErrReason(err)
	}
	if mt != websocket.TextMessage {
		c.s.log.Debug("binary frame refused", "conn_id", c.sid)
		return reasonBadPacket
	}
	return c.handleFrame(data)
}
