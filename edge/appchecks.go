package edge

import (
	"encoding/json"
	"net/http"
	"strings"
)

// What the edge adds for the app's checks, which the home runs
// (court-protocol.md §2.5, §5): the caller's Accept-Language on a serve,
// and the REST shape of the checks' refusals.

// maxLangHeader bounds the Accept-Language kept per socket.
const maxLangHeader = 16

// acceptLanguage is the first entry of r's Accept-Language, bounded.
func acceptLanguage(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first = strings.TrimSpace(first)
	if len(first) > maxLangHeader {
		first = first[:maxLangHeader]
	}
	return first
}

// withLanguage returns a serve's payload with "acceptLanguage" set to lang
// (the home uses it when the creator's profile has no language); any other
// payload, or one that is not an object, is returned as it is.
func withLanguage(event string, payload json.RawMessage, lang string) json.RawMessage {
	if event != "court:serve" || lang == "" {
		return payload
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(payload, &fields) != nil || fields == nil {
		return payload
	}
	fields["acceptLanguage"], _ = json.Marshal(lang) // a string always encodes
	out, err := json.Marshal(fields)
	if err != nil {
		return payload
	}
	return out
}

// The refusals whose REST answer differs from {"error": message} with 400,
// as the app's routes answer them (§5). Their messages are the home's
// (home/court, home/screen).
const (
	msgInvalidPartner  = "Invalid partnerId for current user"
	msgPartnerRequired = "partnerId required"
	msgEvidenceBlocked = "Input contains content that cannot be processed. Please rephrase."
	msgAddendumBlocked = "Content not allowed. Please rephrase."
	codeAIConsent      = "AI_CONSENT_REQUIRED"
)

// restRefusal maps the home's court:error of a refused action to the REST
// status and body of the app's routes: INVALID_PARTNER and PARTNER_REQUIRED
// as 400 {errorCode, error}, AI_CONSENT_REQUIRED as 403 {errorCode, error},
// an injection block as 400 {error:'Invalid input', message,
// code:'SECURITY_BLOCK'}, an abuse refusal as 429 with its code. ok is false
// for every other refusal.
func restRefusal(courtError json.RawMessage) (status int, body []byte, ok bool) {
	var e struct {
		Message      string          `json:"message"`
		Code         string          `json:"code"`
		RetryAfterMs *int64          `json:"retryAfterMs"`
		Challenge    json.RawMessage `json:"challenge"`
	}
	if json.Unmarshal(courtError, &e) != nil {
		return 0, nil, false
	}
	type coded struct {
		ErrorCode string `json:"errorCode"`
		Error     string `json:"error"`
	}
	switch {
	case e.Message == msgInvalidPartner:
		return jsonBody(http.StatusBadRequest, coded{"INVALID_PARTNER", e.Message})
	case e.Message == msgPartnerRequired:
		return jsonBody(http.StatusBadRequest, coded{"PARTNER_REQUIRED", e.Message})
	case e.Code == codeAIConsent:
		return jsonBody(http.StatusForbidden, coded{e.Code, e.Message})
	case e.Code == "" && (e.Message == msgEvidenceBlocked || e.Message == msgAddendumBlocked):
		return jsonBody(http.StatusBadRequest, struct {
			Error   string `json:"error"`
			Message string `json:"message"`
			Code    string `json:"code"`
		}{"Invalid input", e.Message, "SECURITY_BLOCK"})
	case strings.HasPrefix(e.Code, "ABUSE_"):
		return jsonBody(http.StatusTooManyRequests, struct {
			Error        string          `json:"error"`
			Message      string          `json:"message"`
			Code         string          `json:"code"`
			RetryAfterMs *int64          `json:"retryAfterMs,omitempty"`
			Challenge    json.RawMessage `json:"challenge,omitempty"`
		}{e.Code, e.Message, e.Code, e.RetryAfterMs, e.Challenge})
	}
	return 0, nil, false
}

func jsonBody(status int, v any) (int, []byte, bool) {
	b, err := json.Marshal(v)
	if err != nil {
		return 0, nil, false
	}
	return status, b, true
}
