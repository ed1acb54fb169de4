package edge

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
	"courtmesh/protocol"
	"courtmesh/token"
)

const evidenceState = `{"phase":"EVIDENCE","myViewPhase":"EVIDENCE","session":{"id":"s1"}}`

// rest sends one request to the edge; an empty tok sends no Authorization.
func (te *testEdge) rest(t *testing.T, method, path, tok, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, te.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := te.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// answerState acks every request with {"ok":true,"state":evidenceState}.
func answerState(context.Context, string, *wire.Request) (*wire.Response, error) {
	return &wire.Response{Ack: json.RawMessage(`{"ok":true,"state":` + evidenceState + `}`), SessionID: "s1", Version: 2}, nil
}

func TestRESTStateWithoutToken(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	for _, tok := range []string{"", "not-a-jwt"} {
		resp, body := te.rest(t, http.MethodGet, "/api/court/state?userId=alice", tok, "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, idle, body)
		require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	}
	require.Empty(t, te.mesh.requests())
}

func TestRESTStateWithToken(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.mesh.setFn(answerState)

	// A user in no session: IDLE, answered by the edge.
	resp, body := te.rest(t, http.MethodGet, "/api/court/state", mint(t, "b0b00000-0000-4000-8000-0000000000b2"), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, idle, body)
	require.Empty(t, te.mesh.requests())

	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = routeS1
	resp, body = te.rest(t, http.MethodGet, "/api/court/state?userId=mallory", mint(t, "a11ce000-0000-4000-8000-0000000000a1"), "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, evidenceState, body)
	reqs := te.mesh.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, protocol.ReadState, reqs[0].Event, "a read, not a register")
	require.Equal(t, "a11ce000-0000-4000-8000-0000000000a1", reqs[0].UserID)
	require.Empty(t, reqs[0].Payload)
	require.Equal(t, []string{"home-us-1"}, te.mesh.targets())
	added, _ := te.dir.counts("a11ce000-0000-4000-8000-0000000000a1")
	require.Zero(t, added, "no presence for a REST read")
}

func TestRESTRoutesMapToEvents(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.mesh.setFn(answerState)
	tok := mint(t, "a11ce000-0000-4000-8000-0000000000a1")
	for path, ev := range protocol.RESTRoutes {
		resp, body := te.rest(t, http.MethodPost, "/api/court/"+path, tok, `{"userId":"mallory","x":[1,"<"]}`)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.JSONEq(t, evidenceState, body, path)
		reqs := te.mesh.requests()
		last := reqs[len(reqs)-1]
		require.Equal(t, ev, last.Event, path)
		require.Equal(t, "a11ce000-0000-4000-8000-0000000000a1", last.UserID, "the JWT user, not the body's")
		require.JSONEq(t, `{"x":[1,"<"]}`, string(last.Payload), path)
	}
	require.Len(t, te.mesh.requests(), 14)
	require.Len(t, protocol.RESTRoutes, 14)

	// A body without userId goes as sent; an empty body is {}.
	te.rest(t, http.MethodPost, "/api/court/resolution/pick", tok, ` {"resolutionId": "resolution_1"} `)
	te.rest(t, http.MethodPost, "/api/court/accept", tok, "")
	reqs := te.mesh.requests()
	require.Equal(t, `{"resolutionId": "resolution_1"}`, string(reqs[14].Payload))
	require.Equal(t, `{}`, string(reqs[15].Payload))
	require.Equal(t, 2.0, counterValue(te.s.m.actions.WithLabelValues("court:accept", resultOK)))
}

func TestRESTAuth(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	resp, body := te.rest(t, http.MethodPost, "/api/court/serve", "", `{"userId":"a11ce000-0000-4000-8000-0000000000a1"}`)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.JSONEq(t, `{"error":"Missing Authorization bearer token"}`, body)
	require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))

	resp, body = te.rest(t, http.MethodPost, "/api/court/serve", "forged", `{}`)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.JSONEq(t, `{"error":"Invalid or expired session"}`, body)

	expired, err := token.Mint(testSecret, "a11ce000-0000-4000-8000-0000000000a1", -time.Hour)
	require.NoError(t, err)
	resp, body = te.rest(t, http.MethodPost, "/api/court/accept", expired, `{}`)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.JSONEq(t, `{"error":"Invalid or expired session"}`, body)
	require.Empty(t, te.mesh.requests())
}

func TestRESTRefusal(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.mesh.setFn(func(context.Context, string, *wire.Request) (*wire.Response, error) {
		return &wire.Response{Ack: json.RawMessage(`{"ok":false,"error":"resolutionId required"}`),
			CourtError: json.RawMessage(`{"message":"resolutionId required"}`)}, nil
	})
	resp, body := te.rest(t, http.MethodPost, "/api/court/resolution/pick", mint(t, "a11ce000-0000-4000-8000-0000000000a1"), `{}`)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.JSONEq(t, `{"error":"resolutionId required"}`, body)
	require.Equal(t, 1.0, counterValue(te.s.m.actions.WithLabelValues("court:resolution_pick", resultRejected)))

	// An ack that is neither: an internal error.
	te.mesh.setFn(func(context.Context, string, *wire.Request) (*wire.Response, error) {
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
	})
	resp, body = te.rest(t, http.MethodPost, "/api/court/accept", mint(t, "a11ce000-0000-4000-8000-0000000000a1"), `{}`)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.JSONEq(t, `{"error":"Internal server error"}`, body)
}

func TestRESTBadBodies(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.mesh.setFn(answerState)
	tok := mint(t, "a11ce000-0000-4000-8000-0000000000a1")
	resp, body := te.rest(t, http.MethodPost, "/api/court/evidence", tok,
		`{"evidence":"`+strings.Repeat("a", maxRESTBody)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.JSONEq(t, `{"error":"Request body too large (limit 256 KiB)"}`, body)

	for _, bad := range []string{`{"evidence":`, `not json`, `null`, `[1]`, `"x"`, `{} {}`} {
		resp, body := te.rest(t, http.MethodPost, "/api/court/evidence", tok, bad)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, bad)
		require.JSONEq(t, `{"error":"Invalid JSON body"}`, body, bad)
	}
	require.Empty(t, te.mesh.requests())

	// Just under the limit passes.
	resp, _ = te.rest(t, http.MethodPost, "/api/court/evidence", tok,
		`{"evidence":"`+strings.Repeat("a", maxRESTBody-20)+`"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRESTRateLimitSharedWithSocket(t *testing.T) {
	t.Parallel()
	lim := newFakeLimiter(61500 * time.Millisecond)
	te := newTestEdge(t, func(c *Config) { c.Limiter = lim })
	te.mesh.setFn(answerState)
	c := te.connect(t, "a11ce000-0000-4000-8000-0000000000a1")
	for range 4 {
		c.write(`421["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
		require.True(t, strings.HasPrefix(c.read(), `431[{"ok":true`))
	}
	tok := mint(t, "a11ce000-0000-4000-8000-0000000000a1")
	resp, _ := te.rest(t, http.MethodPost, "/api/court/serve", tok, `{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}`)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the 5th serve")

	resp, body := te.rest(t, http.MethodPost, "/api/court/serve", tok, `not json`)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "counted before the body is checked")
	require.Equal(t, "62", resp.Header.Get("Retry-After"))
	require.JSONEq(t, `{"error":"Rate limit exceeded","message":"Rate limit exceeded. Please try again in 62 seconds.","retryAfter":62}`, body)
	require.Len(t, te.mesh.requests(), 5)

	c.write(`422["court:serve",{"partnerId":"b0b00000-0000-4000-8000-0000000000b2"}]`)
	name, _ := event(t, c.read())
	require.Equal(t, "court:error", name)
	require.Equal(t, `432[`+rateLimitedAck+`]`, c.read())
	require.Equal(t, 7, lim.count("a11ce000-0000-4000-8000-0000000000a1", "court:serve"))
}

func TestRESTUnavailable(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.dir.routes["a11ce000-0000-4000-8000-0000000000a1"] = routeS1
	te.mesh.setFn(func(context.Context, string, *wire.Request) (*wire.Response, error) {
		return nil, errors.New("link down")
	})
	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/api/court/accept"},
		{http.MethodGet, "/api/court/state"},
	} {
		resp, body := te.rest(t, tc.method, tc.path, mint(t, "a11ce000-0000-4000-8000-0000000000a1"), "")
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, tc.path)
		require.JSONEq(t, `{"error":"Court service unavailable. Please try again."}`, body)
	}
	require.Equal(t, 1.0, counterValue(te.s.m.actions.WithLabelValues(protocol.ReadState, resultUnavailable)))
}

func TestRESTCORSAndRouting(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	req, err := http.NewRequest(http.MethodOptions, te.srv.URL+"/api/court/serve", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := te.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "GET, POST, OPTIONS", resp.Header.Get("Access-Control-Allow-Methods"))
	require.Equal(t, "authorization,content-type", resp.Header.Get("Access-Control-Allow-Headers"))

	tok := mint(t, "a11ce000-0000-4000-8000-0000000000a1")
	resp, _ = te.rest(t, http.MethodPost, "/api/court/dismiss", tok, `{}`)
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "dismiss has no route")
	resp, _ = te.rest(t, http.MethodGet, "/api/court/serve", tok, "")
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	require.Empty(t, te.mesh.requests())
}
