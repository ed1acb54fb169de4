package protocol

import "encoding/json"

// IdleState is the state of a user in no session.
var IdleState = json.RawMessage(`{"phase":"IDLE","myViewPhase":"IDLE","session":null}`)

// AckOK is the ack of an action that answers no state (court:dismiss).
var AckOK = json.RawMessage(`{"ok":true}`)

// AckStateStart and AckStateEnd enclose a state in the ack of an action:
// {"ok":true,"state":<state>}.
const (
	AckStateStart = `{"ok":true,"state":`
	AckStateEnd   = `}`
)

// AckState returns the ack {"ok":true,"state":state}.
func AckState(state json.RawMessage) json.RawMessage {
	out := make([]byte, 0, len(AckStateStart)+len(state)+len(AckStateEnd))
	return append(append(append(out, AckStateStart...), state...), AckStateEnd...)
}

// IdleAck is the ack of a user in no session.
var IdleAck = AckState(IdleState)

// Refusal messages the client sees.
const (
	// MsgNoHome: the edge reached no home in time.
	MsgNoHome = "Court service unavailable. Please try again."
	// MsgStoreFailed: the home's store failed.
	MsgStoreFailed = "Service temporarily unavailable. Please try again."
	// MsgInternal: an answer the edge cannot use.
	MsgInternal = "Internal server error"
	// MsgUnknownEvent: a name that is no client event.
	MsgUnknownEvent = "Unknown event"
)

// Error codes of court:error.
const (
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
	CodeUnknownEvent       = "UNKNOWN_EVENT"
	CodeRateLimited        = "RATE_LIMIT_EXCEEDED"
)

// Refusal returns the ack {"ok":false,"error":msg} of a refused action and
// its court:error {"message":msg,"code":code}; an empty code is left out.
func Refusal(msg, code string) (ack, courtError json.RawMessage) {
	ack = mustJSON(struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}{Error: msg})
	courtError = mustJSON(struct {
		Message string `json:"message"`
		Code    string `json:"code,omitempty"`
	}{msg, code})
	return ack, courtError
}

// mustJSON encodes v, a value of this file's fixed-shape types, which
// always encode.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: encode " + err.Error())
	}
	return b
}
