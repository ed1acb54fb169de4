package judge

import (
	"context"
	"encoding/json"
	"strconv"
)

// Judge is the court's LLM step. Each call is idempotent by
// (session, version, step): repeating it may cost another model call but
// never changes the session, since the home applies a result only while the
// session is still at the request's version.
type Judge interface {
	// Phase1 is the analysis and the three resolutions (§3.6 step 6).
	Phase1(ctx context.Context, req Phase1Request) (Phase1Result, error)
	// Phase2 is the priming content and the joint menu (§3.6 step 7).
	Phase2(ctx context.Context, req Phase2Request) (Phase2Result, error)
	// Hybrid blends two different picks into one resolution (§3.7).
	Hybrid(ctx context.Context, req HybridRequest) (HybridResult, error)
}

// Step names a judge call in paths, idempotency keys and logs.
type Step string

// Steps.
const (
	StepPhase1 Step = "phase1"
	StepPhase2 Step = "phase2"
	StepHybrid Step = "hybrid"
)

// Paths of the judge service.
const (
	PathPhase1 = "/v1/deliberate/phase1"
	PathPhase2 = "/v1/deliberate/phase2"
	PathHybrid = "/v1/hybrid"
)

// HeaderIdempotencyKey carries IdempotencyKey on every request.
const HeaderIdempotencyKey = "Idempotency-Key"

// IdempotencyKey is "<session_id>:<version>:<step>".
func IdempotencyKey(sessionID string, version uint64, step Step) string {
	return sessionID + ":" + strconv.FormatUint(version, 10) + ":" + string(step)
}

// Judge types (§3.5 T1, §3.1). Any other value is judged like classic.
const (
	TypeClassic = "classic"
	TypeSwift   = "swift"
	TypeWise    = "wise"
	TypeLogical = "logical"
)

// Party is one partner's side of a case. Creator is userA, partner userB.
type Party struct {
	UserID string `json:"user_id"`
	// Name is the display name, if known.
	Name string `json:"name,omitempty"`
	// Evidence is cameraFacts, Feelings theStoryIamTellingMyself and Needs
	// unmetNeeds; each must be non-empty.
	Evidence string `json:"evidence"`
	Feelings string `json:"feelings"`
	Needs    string `json:"needs"`
}

// Addendum is one entry of the session's addendum history.
type Addendum struct {
	From string `json:"from"` // "userA" or "userB"
	Text string `json:"text"`
}

// Case is what both deliberation phases judge: one session at one version.
type Case struct {
	SessionID string `json:"session_id"`
	Version   uint64 `json:"version"`
	// JudgeType is classic, swift, wise or logical.
	JudgeType string `json:"judge_type"`
	// Language is the case language (caseLanguage); empty means "en".
	Language string     `json:"language"`
	Creator  Party      `json:"creator"`
	Partner  Party      `json:"partner"`
	Addenda  []Addendum `json:"addenda"`
}

// Phase1Request asks for the analysis and the resolutions.
type Phase1Request struct {
	Case
}

// Phase1Result is the analysis, three resolutions (ids resolution_1..3, in
// that order), the assessed intensity and the historical context.
type Phase1Result struct {
	// Analysis is a JSON object with at least
	// caseMetadata{caseTitle, severityLevel}, and optionally shortResolution.
	Analysis    json.RawMessage `json:"analysis"`
	Resolutions []Resolution    `json:"resolutions"`
	// AssessedIntensity is low, medium or high; empty is unknown.
	AssessedIntensity string `json:"assessed_intensity,omitempty"`
	// HistoricalContext is any JSON value, or nil (null).
	HistoricalContext json.RawMessage `json:"historical_context,omitempty"`
}

// Resolution is one proposed resolution. Description may be empty: the
// verdict then falls back to CombinedDescription (§3.5 T10).
type Resolution struct {
	ID                  string          `json:"id"`
	Title               string          `json:"title"`
	Description         string          `json:"description,omitempty"`
	CombinedDescription string          `json:"combinedDescription"`
	Rationale           string          `json:"rationale"`
	EstimatedDuration   string          `json:"estimatedDuration"`
	RepairAttemptIDs    []string        `json:"repairAttemptIds"`
	NeedsAddressed      json.RawMessage `json:"needsAddressed,omitempty"`
	HowItMeetsNeeds     string          `json:"howItMeetsNeeds,omitempty"`
}

// Phase2Request asks for the priming content and the joint menu of a case
// whose phase 1 is done.
type Phase2Request struct {
	Case
	Analysis    json.RawMessage `json:"analysis"`
	Resolutions []Resolution    `json:"resolutions"`
}

// Phase2Result is the per-user priming content and the joint menu.
type Phase2Result struct {
	PrimingContent PrimingContent `json:"priming_content"`
	// JointMenu is a JSON object with at least non-empty theSummary and
	// closingWisdom strings.
	JointMenu json.RawMessage `json:"joint_menu"`
}

// PrimingContent holds one JSON object per user.
type PrimingContent struct {
	UserA json.RawMessage `json:"userA"`
	UserB json.RawMessage `json:"userB"`
}

// HybridRequest asks for a blend of the two users' different picks.
type HybridRequest struct {
	SessionID string `json:"session_id"`
	Version   uint64 `json:"version"`
	// Language is the case language; empty means "en".
	Language string          `json:"language,omitempty"`
	Analysis json.RawMessage `json:"analysis"`
	PickA    Resolution      `json:"pick_a"`
	PickB    Resolution      `json:"pick_b"`
}

// HybridResult is the judge's answer to a HybridRequest.
type HybridResult struct {
	Hybrid Hybrid `json:"hybrid"`
}

// Hybrid is the blended resolution as the judge returns it; Resolution turns
// it into the session's hybridResolution.
type Hybrid struct {
	Title             string `json:"title"`
	Description       string `json:"description"`
	Rationale         string `json:"rationale"`
	EstimatedDuration string `json:"estimatedDuration"`
	BridgingMessage   string `json:"bridgingMessage"`
}

// errorBody is the body of every non-2xx reply of the judge service.
type errorBody struct {
	Error string `json:"error"`
	// Code is "invalid_input" for an *InputError, else empty.
	Code string `json:"code,omitempty"`
}

const codeInvalidInput = "invalid_input"
