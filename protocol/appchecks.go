package protocol

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The refusals of the app's checks before an action (court-protocol.md
// §2.5, §5): the home sends them, the edge maps some of them to the REST
// shapes of the app's routes.

// Messages of the app's checks that the client sees.
const (
	// MsgPartnerRequired: a serve without a partner, or with the caller.
	MsgPartnerRequired = "partnerId required"
	// MsgInvalidPartner: a serve whose partner is not the caller's
	// profiles.partner_id.
	MsgInvalidPartner = "Invalid partnerId for current user"
	// MsgAIConsentRequired: an AI action without profiles.ai_insights_consent.
	MsgAIConsentRequired = "AI consent required to continue."
	// MsgEvidenceBlocked and MsgAddendumBlocked: the injection check refused
	// the text.
	MsgEvidenceBlocked = "Input contains content that cannot be processed. Please rephrase."
	MsgAddendumBlocked = "Content not allowed. Please rephrase."
	// MsgChallenge and MsgGuardrail: the abuse check asks for a challenge,
	// or blocks the action for a while.
	MsgChallenge = "Please complete the verification challenge to continue."
	MsgGuardrail = "This action is temporarily blocked. Please try again later."
	// MsgEvidenceRequired: evidence whose facts, feelings or needs are blank
	// once truncated (one rule on every path, docs/decisions.md R24).
	MsgEvidenceRequired = "Evidence, feelings and needs are all required."
)

// Codes of coded refusals (§2.5 "Coded errors"): the ack's error is the
// code, court:error carries message and code.
const (
	CodeAIConsentRequired = "AI_CONSENT_REQUIRED"
	CodeAbuseChallenge    = "ABUSE_CHALLENGE_REQUIRED"
	CodeAbuseGuardrail    = "ABUSE_GUARDRAIL_BLOCKED"
)

// Codes only the REST routes answer (§5), in errorCode or code.
const (
	RESTCodeInvalidPartner   = "INVALID_PARTNER"
	RESTCodePartnerRequired  = "PARTNER_REQUIRED"
	RESTCodeSecurityBlock    = "SECURITY_BLOCK"
	RESTCodeEvidenceRequired = "EVIDENCE_REQUIRED"
	// RESTInvalidInput is the error of a SECURITY_BLOCK answer.
	RESTInvalidInput = "Invalid input"
)

// CodedRefusal returns the ack {"ok":false,"error":code,...} of a coded
// refusal and its court:error {"message":msg,"code":code,...}; both carry
// retryAfterMs and challenge when set.
func CodedRefusal(msg, code string, retryAfterMs *int64, challenge json.RawMessage) (ack, courtError json.RawMessage) {
	ack = mustJSON(struct {
		OK           bool            `json:"ok"`
		Error        string          `json:"error"`
		RetryAfterMs *int64          `json:"retryAfterMs,omitempty"`
		Challenge    json.RawMessage `json:"challenge,omitempty"`
	}{Error: code, RetryAfterMs: retryAfterMs, Challenge: challenge})
	courtError = mustJSON(struct {
		Message      string          `json:"message"`
		Code         string          `json:"code"`
		RetryAfterMs *int64          `json:"retryAfterMs,omitempty"`
		Challenge    json.RawMessage `json:"challenge,omitempty"`
	}{msg, code, retryAfterMs, challenge})
	return ack, courtError
}

// RESTRefusal maps the court:error of a refused action to the REST status
// and body of the app's routes: INVALID_PARTNER and PARTNER_REQUIRED as 400
// {errorCode, error}, AI_CONSENT_REQUIRED as 403 {errorCode, error}, an
// injection block as 400 {error:'Invalid input', message,
// code:'SECURITY_BLOCK'}, an abuse refusal as 429 with its code. ok is false
// for every other refusal (answered 400 {error}).
func RESTRefusal(courtError json.RawMessage) (status int, body []byte, ok bool) {
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
	case e.Message == MsgInvalidPartner:
		return http.StatusBadRequest, mustJSON(coded{RESTCodeInvalidPartner, e.Message}), true
	case e.Message == MsgPartnerRequired:
		return http.StatusBadRequest, mustJSON(coded{RESTCodePartnerRequired, e.Message}), true
	case e.Message == MsgEvidenceRequired:
		return http.StatusBadRequest, mustJSON(coded{RESTCodeEvidenceRequired, e.Message}), true
	case e.Code == CodeAIConsentRequired:
		return http.StatusForbidden, mustJSON(coded{e.Code, e.Message}), true
	case e.Code == "" && (e.Message == MsgEvidenceBlocked || e.Message == MsgAddendumBlocked):
		return http.StatusBadRequest, mustJSON(struct {
			Error   string `json:"error"`
			Message string `json:"message"`
			Code    string `json:"code"`
		}{RESTInvalidInput, e.Message, RESTCodeSecurityBlock}), true
	case strings.HasPrefix(e.Code, "ABUSE_"):
		return http.StatusTooManyRequests, mustJSON(struct {
			Error        string          `json:"error"`
			Message      string          `json:"message"`
			Code         string          `json:"code"`
			RetryAfterMs *int64          `json:"retryAfterMs,omitempty"`
			Challenge    json.RawMessage `json:"challenge,omitempty"`
		}{e.Code, e.Message, e.Code, e.RetryAfterMs, e.Challenge}), true
	}
	return 0, nil, false
}
