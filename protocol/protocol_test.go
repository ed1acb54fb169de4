package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLabels(t *testing.T) {
	t.Parallel()
	require.Equal(t, "court:serve", Label(Serve))
	require.Equal(t, ReadState, Label(ReadState))
	require.Equal(t, LabelOther, Label(State), "a server event is no client event")
	require.Equal(t, LabelOther, Label("court:nonsense"))
	require.Len(t, Labels(), 18)
	labels := Labels()
	labels[0] = "changed"
	require.Equal(t, Register, ClientEvents()[0], "callers get copies")
	require.False(t, IsClientEvent(ReadState))
}

// TestTablesNameClientEvents: every REST route and rate limit names a
// client event, and every client event but register and dismiss has a
// route.
func TestTablesNameClientEvents(t *testing.T) {
	t.Parallel()
	routed := map[string]bool{}
	for path, ev := range RESTRoutes {
		require.True(t, IsClientEvent(ev), path)
		require.False(t, strings.HasPrefix(path, "/"), path)
		routed[ev] = true
	}
	for _, ev := range ClientEvents() {
		require.Equal(t, ev != Register && ev != Dismiss, routed[ev], ev)
	}
	for ev, lim := range RateLimits {
		require.True(t, IsClientEvent(ev), ev)
		require.Positive(t, lim.Max)
		require.Positive(t, lim.Window)
	}
}

func TestAcks(t *testing.T) {
	t.Parallel()
	var idle struct {
		OK    bool            `json:"ok"`
		State json.RawMessage `json:"state"`
	}
	require.NoError(t, json.Unmarshal(IdleAck, &idle))
	require.True(t, idle.OK)
	require.JSONEq(t, string(IdleState), string(idle.State))
	require.JSONEq(t, `{"ok":true}`, string(AckOK))

	ack, ce := Refusal(`Say "no"`, "")
	require.JSONEq(t, `{"ok":false,"error":"Say \"no\""}`, string(ack))
	require.JSONEq(t, `{"message":"Say \"no\""}`, string(ce))
	_, ce = Refusal(MsgUnknownEvent, CodeUnknownEvent)
	require.JSONEq(t, `{"message":"Unknown event","code":"UNKNOWN_EVENT"}`, string(ce))
}

// A coded refusal acks its code, not its message; the REST mapping gives
// the app's routes' shapes for the checks' refusals and leaves the others
// to the plain 400 {error}.
func TestCodedRefusalsAndTheirRESTShapes(t *testing.T) {
	t.Parallel()
	retry := int64(1500)
	ack, ce := CodedRefusal(MsgChallenge, CodeAbuseChallenge, &retry, json.RawMessage(`{"type":"dev"}`))
	require.JSONEq(t, `{"ok":false,"error":"ABUSE_CHALLENGE_REQUIRED","retryAfterMs":1500,"challenge":{"type":"dev"}}`, string(ack))
	require.JSONEq(t, `{"message":"`+MsgChallenge+`","code":"ABUSE_CHALLENGE_REQUIRED","retryAfterMs":1500,"challenge":{"type":"dev"}}`, string(ce))
	status, body, ok := RESTRefusal(ce)
	require.True(t, ok)
	require.Equal(t, 429, status)
	require.JSONEq(t, `{"error":"ABUSE_CHALLENGE_REQUIRED","message":"`+MsgChallenge+`","code":"ABUSE_CHALLENGE_REQUIRED","retryAfterMs":1500,"challenge":{"type":"dev"}}`, string(body))

	ack, ce = CodedRefusal(MsgAIConsentRequired, CodeAIConsentRequired, nil, nil)
	require.JSONEq(t, `{"ok":false,"error":"AI_CONSENT_REQUIRED"}`, string(ack))
	status, body, ok = RESTRefusal(ce)
	require.True(t, ok)
	require.Equal(t, 403, status)
	require.JSONEq(t, `{"errorCode":"AI_CONSENT_REQUIRED","error":"`+MsgAIConsentRequired+`"}`, string(body))

	for msg, want := range map[string]string{
		MsgInvalidPartner:   `{"errorCode":"INVALID_PARTNER","error":"` + MsgInvalidPartner + `"}`,
		MsgPartnerRequired:  `{"errorCode":"PARTNER_REQUIRED","error":"` + MsgPartnerRequired + `"}`,
		MsgAddendumBlocked:  `{"error":"Invalid input","message":"` + MsgAddendumBlocked + `","code":"SECURITY_BLOCK"}`,
		MsgEvidenceRequired: `{"errorCode":"EVIDENCE_REQUIRED","error":"` + MsgEvidenceRequired + `"}`,
	} {
		_, ce := Refusal(msg, "")
		status, body, ok := RESTRefusal(ce)
		require.True(t, ok, msg)
		require.Equal(t, 400, status, msg)
		require.JSONEq(t, want, string(body), msg)
	}
	_, ce = Refusal(MsgUnknownEvent, CodeUnknownEvent)
	_, _, ok = RESTRefusal(ce)
	require.False(t, ok, "other refusals keep the plain shape")
	_, _, ok = RESTRefusal(json.RawMessage(`not json`))
	require.False(t, ok)
}
