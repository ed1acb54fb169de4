package screen

import (
	"context"
	"encoding/json"
	"fmt"
)

// Surface names the action a screening is for; the abuse service keys its
// policies on it (the app's endpoint names).
type Surface string

// Surfaces.
const (
	SurfaceServe    Surface = "court_serve"
	SurfaceEvidence Surface = "court_submit_evidence"
	SurfaceAddendum Surface = "court_submit_addendum"
	SurfaceHybrid   Surface = "court_resolution_hybrid"
)

// PathScreen is the service's one route.
const PathScreen = "/v1/screen"

// Request is the body of POST /v1/screen: the user, the action, the
// sanitised fields the action carries (text for evidence and addendum,
// identifiers for serve and hybrid) and the client's challenge token.
type Request struct {
	Surface        Surface           `json:"surface"`
	UserID         string            `json:"user_id"`
	Fields         map[string]string `json:"fields"`
	ChallengeToken string            `json:"challenge_token,omitempty"`
}

// Action is the service's decision.
type Action string

// Actions.
const (
	// Allow lets the action through.
	Allow Action = "ALLOW"
	// Review lets it through after a short delay (200 ms for serve, 250 ms
	// for addendum and hybrid: abuse/config.js:39-89).
	Review Action = "REVIEW"
	// Block refuses it: prompt injection in a text field, or an abuse
	// guardrail.
	Block Action = "BLOCK"
	// Challenge refuses it until the client answers Challenge.
	Challenge Action = "CHALLENGE"
)

// Decision is the reply of POST /v1/screen.
type Decision struct {
	Action Action `json:"action"`
	// Kind is KindInjection or KindAbuse for a Block; empty means
	// injection on a surface with text (evidence, addendum), abuse on the
	// others.
	Kind string `json:"kind,omitempty"`
	// Reason says why, for logs; never shown to users.
	Reason string `json:"reason,omitempty"`
	// RetryAfterMs and Challenge go to the client with a Block of a
	// surface without text or a Challenge.
	RetryAfterMs int64           `json:"retry_after_ms,omitempty"`
	Challenge    json.RawMessage `json:"challenge,omitempty"`
}

// Kinds of a Block.
const (
	KindInjection = "injection"
	KindAbuse     = "abuse"
)

func (d Decision) check() error {
	switch d.Action {
	case Allow, Review, Block, Challenge:
		return nil
	}
	return fmt.Errorf("screen: unknown action %q", d.Action)
}

// Screener screens one action. HTTPClient and Dev implement it.
type Screener interface {
	Screen(ctx context.Context, req Request) (Decision, error)
}
