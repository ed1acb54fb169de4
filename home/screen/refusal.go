package screen

import (
	"encoding/json"
	"time"

	"courtmesh/protocol"
)

// Refusal is what the client is told about a refused action: Message, and
// for the abuse decisions a Code with RetryAfterMs and Challenge (the
// strings and codes are package protocol's).
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
		return 0, &Refusal{Message: protocol.MsgChallenge, Code: protocol.CodeAbuseChallenge, RetryAfterMs: d.RetryAfterMs, Challenge: d.Challenge}
	case Block:
		switch {
		case d.Kind != KindAbuse && surface == SurfaceEvidence:
			return 0, &Refusal{Message: protocol.MsgEvidenceBlocked}
		case d.Kind != KindAbuse && surface == SurfaceAddendum:
			return 0, &Refusal{Message: protocol.MsgAddendumBlocked}
		}
		return 0, &Refusal{Message: protocol.MsgGuardrail, Code: protocol.CodeAbuseGuardrail, RetryAfterMs: d.RetryAfterMs, Challenge: d.Challenge}
	}
	return 0, nil
}
