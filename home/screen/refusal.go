package screen

import (
	"encoding/json"
	"time"
)

// The app's strings for a blocked action (court-protocol.md §2.5).
const (
	MsgEvidenceBlocked = "Input contains content that cannot be processed. Please rephrase."
	MsgAddendumBlocked = "Content not allowed. Please rephrase."
	MsgChallenge       = "Please complete the verification challenge to continue."
	MsgGuardrail       = "This action is temporarily blocked. Please try again later."
)

// Abuse codes (court-protocol.md §2.5).
const (
	CodeChallenge = "ABUSE_CHALLENGE_REQUIRED"
	CodeGuardrail = "ABUSE_GUARDRAIL_BLOCKED"
)

// Refusal is what the client is told about a refused action: Message, and
// for the abuse decisions a Code with RetryAfterMs and Challenge.
type Refusal struct {
	Message      string
	Code         string
	RetryAfterMs int64
	Challenge    json.RawMessage
}

// Outcome maps a decision for surface to the delay to apply before the
// action (Review) or the refusal (Block, Challenge); neither for Allow.
// A Block of a text surface is the injection detector's, with the app's
// string and no code, unless its Kind is KindAbuse; a Block of serve or
// hybrid is an abuse guardrail.
func Outcome(surface Surface, d Decision) (time.Duration, *Refusal) {
	switch d.Action {
	case Review:
		if surface == SurfaceServe {
			return 200 * time.Millisecond, nil
		}
		return 250 * time.Millisecond, nil
	case Challenge:
		return 0, &Refusal{Message: MsgChallenge, Code: CodeChallenge, RetryAfterMs: d.RetryAfterMs, Challenge: d.Challenge}
	case Block:
		switch {
		case d.Kind != KindAbuse && surface == SurfaceEvidence:
			return 0, &Refusal{Message: MsgEvidenceBlocked}
		case d.Kind != KindAbuse && surface == SurfaceAddendum:
			return 0, &Refusal{Message: MsgAddendumBlocked}
		}
		return 0, &Refusal{Message: MsgGuardrail, Code: CodeGuardrail, RetryAfterMs: d.RetryAfterMs, Challenge: d.Challenge}
	}
	return 0, nil
}
