package edge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
)

// The REST fallback of court-protocol.md §5: what the court client calls
// when its socket is down (POST /api/court/<action>) or an ack is late
// (GET /api/court/state). Every route answers the state object, like the
// ack of the socket event it maps to, and shares that event's rate limit.

// restPrefix is the path of every REST route.
const restPrefix = protocol.RESTPrefix

// maxRESTBody bounds a REST request body: 256 KiB, the original server's
// JSON body limit (court-protocol.md §5).
const maxRESTBody = 256 << 10

// REST error messages.
const (
	msgMissingBearer = "Missing Authorization bearer token"
	msgInvalidBearer = "Invalid or expired session"
	msgInvalidJSON   = "Invalid JSON body"
	msgTooLarge      = "Request body too large (limit 256 KiB)"
	msgUnavailable   = protocol.MsgNoHome
	msgInternal      = protocol.MsgInternal
)

// restHandler serves the REST routes, with CORS.
func (s *Server) restHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+restPrefix+protocol.RESTState, s.serveState)
	for path, event := range protocol.RESTRoutes {
		mux.HandleFunc("POST "+restPrefix+path, s.serveAction(event))
	}
	return cors(mux)
}

// cors lets browser pages of any origin call the routes and answers
// preflights. Like the socket's CheckOrigin, any origin is allowed for now:
// the bearer token, not the origin, authenticates (no cookies are used).
// Restrict it once the app's origins are configuration.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Retry-After")
		if r.Method != http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		allow := r.Header.Get("Access-Control-Request-Headers")
		if allow == "" {
			allow = "Authorization, Content-Type"
		}
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", allow)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// serveState answers GET /api/court/state: the state of the bearer's user,
// read from the owning home without recording presence (the mesh operation
// protocol.ReadState). Without a valid token it answers the IDLE state with
// 200, as the original converted its auth failures (§5). The userId query
// parameter (development only in the original) is ignored.
func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	user := s.bearerUser(r)
	if user == "" {
		writeRaw(w, http.StatusOK, protocol.IdleState)
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	resp, err := s.forward(ctx, s.request(user, evReadState, nil), false)
	if errors.Is(err, errNoSession) {
		resp, err = &wire.Response{Ack: protocol.IdleAck}, nil
	}
	s.writeOutcome(ctx, w, evReadState, start, resp, err)
}

// serveAction answers POST /api/court/<route> by forwarding event for the
// bearer's user with the JSON body as payload. The rate limit is counted
// right after authentication, before the body is read or checked.
func (s *Server) serveAction(event string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, msg := s.bearer(r)
		if msg != "" {
			writeError(w, http.StatusUnauthorized, msg)
			return
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		if retryAfter, ok := s.allow(ctx, user, event); !ok {
			s.m.actions.WithLabelValues(event, resultRateLimited).Inc()
			s.m.observe(event, resultRateLimited, start)
			writeRateLimited(w, retryAfter)
			return
		}
		payload, status, msg := s.readPayload(w, r)
		if status != 0 {
			writeError(w, status, msg)
			return
		}
		resp, err := s.forward(ctx, s.request(user, event, withLanguage(event, payload, acceptLanguage(r))), false)
		s.writeOutcome(ctx, w, event, start, resp, err)
	}
}

// readPayload returns the body as the event payload: a JSON object (an
// empty body counts as {}) without its userId field, which the original's
// development mode trusted and the JWT now replaces. The Content-Type is
// not checked. On failure it returns the status and message to answer.
// The body must arrive within RequestTimeout (Run's server bounds only the
// headers).
func (s *Server) readPayload(w http.ResponseWriter, r *http.Request) (json.RawMessage, int, string) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.RequestTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRESTBody))
	_ = rc.SetReadDeadline(time.Time{})
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, http.StatusRequestEntityTooLarge, msgTooLarge
	case err != nil:
		return nil, http.StatusBadRequest, msgInvalidJSON
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return json.RawMessage(`{}`), 0, ""
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil || fields == nil {
		return nil, http.StatusBadRequest, msgInvalidJSON
	}
	if _, ok := fields["userId"]; !ok {
		return body, 0, ""
	}
	delete(fields, "userId")
	out, err := json.Marshal(fields)
	if err != nil {
		return nil, http.StatusBadRequest, msgInvalidJSON
	}
	return out, 0, ""
}

// writeOutcome answers the home's ack: 200 with its state, 400 with its
// error, 503 when no home answered in time. start is when the action began,
// for its latency.
func (s *Server) writeOutcome(ctx context.Context, w http.ResponseWriter, event string, start time.Time, resp *wire.Response, err error) {
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return // the client went away
		}
		s.log.Debug("rest action failed", "event", event, "err", err)
		s.m.actions.WithLabelValues(event, resultUnavailable).Inc()
		s.m.observe(event, resultUnavailable, start)
		writeError(w, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	var ack struct {
		OK    bool            `json:"ok"`
		State json.RawMessage `json:"state"`
		Error json.RawMessage `json:"error"`
	}
	_ = json.Unmarshal(resp.Ack, &ack)
	switch {
	case ack.OK && len(ack.State) > 0 && string(ack.State) != "null":
		s.m.actions.WithLabelValues(event, resultOK).Inc()
		s.m.observe(event, resultOK, start)
		writeRaw(w, http.StatusOK, ack.State)
	case !ack.OK && len(ack.Error) > 0:
		s.m.actions.WithLabelValues(event, resultRejected).Inc()
		s.m.observe(event, resultRejected, start)
		if status, body, ok := protocol.RESTRefusal(resp.CourtError); ok {
			writeRaw(w, status, body)
			return
		}
		writeRaw(w, http.StatusBadRequest, errorBody(ack.Error))
	default: // an ack without state or error: not one a home sends
		s.log.Warn("rest action: unexpected ack", "event", event, "ack", string(resp.Ack))
		s.m.actions.WithLabelValues(event, resultRejected).Inc()
		s.m.observe(event, resultRejected, start)
		writeError(w, http.StatusInternalServerError, msgInternal)
	}
}

// writeRateLimited answers 429 as the original's limiter did, with the wait
// in whole seconds in Retry-After and the body.
func writeRateLimited(w http.ResponseWriter, retryAfter time.Duration) {
	msg, secs := rateLimitMessage(retryAfterMs(retryAfter))
	body, _ := json.Marshal(struct {
		Error      string `json:"error"`
		Message    string `json:"message"`
		RetryAfter int64  `json:"retryAfter"`
	}{"Rate limit exceeded", msg, secs})
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	writeRaw(w, http.StatusTooManyRequests, body)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	m, _ := json.Marshal(msg)
	writeRaw(w, status, errorBody(m))
}

// errorBody is {"error":<msg>} for msg already in JSON.
func errorBody(msg json.RawMessage) []byte {
	return append(append([]byte(`{"error":`), msg...), '}')
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
