package edge

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/mesh/wire"
)

// The refusals of the app's checks, as the home answers them, reach a REST
// caller in the app's REST shapes and a socket caller as the home sent them.
func TestAppCheckRefusalsOverRESTAndSocket(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, ack, courtError string
		status                int
		body                  string
	}{
		{"stranger", `{"ok":false,"error":"Invalid partnerId for current user"}`, `{"message":"Invalid partnerId for current user"}`,
			400, `{"errorCode":"INVALID_PARTNER","error":"Invalid partnerId for current user"}`},
		{"no partner", `{"ok":false,"error":"partnerId required"}`, `{"message":"partnerId required"}`,
			400, `{"errorCode":"PARTNER_REQUIRED","error":"partnerId required"}`},
		{"consent", `{"ok":false,"error":"AI_CONSENT_REQUIRED"}`, `{"message":"AI consent required to continue.","code":"AI_CONSENT_REQUIRED"}`,
			403, `{"errorCode":"AI_CONSENT_REQUIRED","error":"AI consent required to continue."}`},
		{"injection", `{"ok":false,"error":"Input contains content that cannot be processed. Please rephrase."}`,
			`{"message":"Input contains content that cannot be processed. Please rephrase."}`,
			400, `{"error":"Invalid input","message":"Input contains content that cannot be processed. Please rephrase.","code":"SECURITY_BLOCK"}`},
		{"challenge", `{"ok":false,"error":"ABUSE_CHALLENGE_REQUIRED","retryAfterMs":1000,"challenge":{"type":"dev"}}`,
			`{"message":"m","code":"ABUSE_CHALLENGE_REQUIRED","retryAfterMs":1000,"challenge":{"type":"dev"}}`,
			429, `{"error":"ABUSE_CHALLENGE_REQUIRED","message":"m","code":"ABUSE_CHALLENGE_REQUIRED","retryAfterMs":1000,"challenge":{"type":"dev"}}`},
		{"usage", `{"ok":false,"error":"Usage limit reached. Please upgrade to continue."}`, `{"message":"Usage limit reached. Please upgrade to continue."}`,
			400, `{"error":"Usage limit reached. Please upgrade to continue."}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			te := newTestEdge(t, nil)
			te.mesh.setFn(func(context.Context, string, *wire.Request) (*wire.Response, error) {
				return &wire.Response{Ack: json.RawMessage(tc.ack), CourtError: json.RawMessage(tc.courtError)}, nil
			})
			const user = "a11ce000-0000-4000-8000-0000000000a1"
			resp, body := te.rest(t, http.MethodPost, "/api/court/serve", mint(t, user), `{"partnerId":"x"}`)
			require.Equal(t, tc.status, resp.StatusCode)
			require.JSONEq(t, tc.body, body)

			c := te.connect(t, user)
			c.write(`421["court:serve",{"partnerId":"x"}]`)
			name, payload := event(t, c.read())
			require.Equal(t, "court:error", name)
			require.JSONEq(t, tc.courtError, payload)
			require.Equal(t, `431[`+tc.ack+`]`, c.read())
		})
	}
}

// A serve carries the caller's Accept-Language (REST header, or the
// socket's handshake header) for the home's language rule; other events
// and payloads that are not objects are forwarded as they are.
func TestServeCarriesAcceptLanguage(t *testing.T) {
	t.Parallel()
	te := newTestEdge(t, nil)
	te.mesh.setFn(answerState)
	const user = "a11ce000-0000-4000-8000-0000000000a1"
	req, err := http.NewRequest(http.MethodPost, te.srv.URL+"/api/court/serve", http.NoBody)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+mint(t, user))
	req.Header.Set("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.8")
	resp, err := te.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	c := te.dial(t, http.Header{"Accept-Language": {"ja"}})
	c.read()
	c.write(`40{"token":"` + mint(t, user) + `"}`)
	c.read()
	c.write(`421["court:serve",{"partnerId":"p","acceptLanguage":"xx"}]`)
	c.read()
	c.write(`422["court:accept",{}]`)
	c.read()
	reqs := te.mesh.requests()
	require.Len(t, reqs, 3)
	require.JSONEq(t, `{"acceptLanguage":"fr-CA"}`, string(reqs[0].Payload))
	require.JSONEq(t, `{"partnerId":"p","acceptLanguage":"ja"}`, string(reqs[1].Payload), "the header, not the client's field")
	require.JSONEq(t, `{}`, string(reqs[2].Payload))
	require.Equal(t, `"x"`, string(withLanguage("court:serve", json.RawMessage(`"x"`), "fr")))
}
