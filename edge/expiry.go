package edge

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"time"
)

// A socket lives no longer than its token (court-protocol.md §6 R15): at the
// token's exp plus Config.TokenGrace the edge sends the Socket.IO DISCONNECT
// of the default namespace, then a WebSocket close frame, and counts the
// close as token_expired in court_edge_closes_total. socket.io-client 4.8
// reports that DISCONNECT as the reason "io server disconnect"; the court
// client rebuilds its socket for every reason but "io client disconnect",
// with the session's current, refreshed access token, and resyncs with
// court:register. A client still holding the expired token is refused at
// that CONNECT ("Unauthorized") once the verifier's leeway has passed.

// MaxTokenGrace bounds Config.TokenGrace, and is its default.
const MaxTokenGrace = 30 * time.Second

// tokenExpiry returns the exp claim of tok, a token the verifier accepted,
// or the zero time when it has none. Only the claims part is read; the
// verifier has checked the rest.
func tokenExpiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if json.Unmarshal(raw, &c) != nil || c.Exp == nil || math.IsNaN(*c.Exp) {
		return time.Time{}
	}
	sec := max(min(*c.Exp, 1<<40), -(1 << 40))
	return time.Unix(int64(sec), 0)
}

// bearerExpiry returns the exp of the request's Authorization: Bearer token,
// the token of a socket whose CONNECT carries none, in Unix seconds (0:
// none).
func bearerExpiry(r *http.Request) int64 {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return 0
	}
	if exp := tokenExpiry(tok); !exp.IsZero() {
		return exp.Unix()
	}
	return 0
}

// connectExpiry returns the exp of the token authenticate accepted for the
// CONNECT auth payload: auth.token when it is a non-empty string, else the
// bearer header's.
func (c *conn) connectExpiry(auth json.RawMessage) time.Time {
	var a struct {
		Token json.RawMessage `json:"token"`
	}
	var tok string
	if len(auth) > 0 && json.Unmarshal(auth, &a) == nil && json.Unmarshal(a.Token, &tok) == nil && tok != "" {
		return tokenExpiry(tok)
	}
	if c.hdrExp == 0 {
		return time.Time{}
	}
	return time.Unix(c.hdrExp, 0)
}

// armExpiry ends the socket TokenGrace after exp; the zero exp never does.
// The heartbeat's timer fires for it (heartbeat.go).
func (c *conn) armExpiry(exp time.Time) {
	if exp.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.closing != "" {
		return
	}
	c.expireAt = c.s.since() + max(time.Until(exp.Add(c.s.cfg.TokenGrace)), 1)
	c.armLocked()
}

// expire ends the socket whose token expired.
func (c *conn) expire() {
	c.s.log.Debug("token expired", "conn_id", c.sid, "user", c.userID)
	c.closeAfterFlush(reasonTokenExpired, disconnectFrame)
}
