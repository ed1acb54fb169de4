package court

import (
	"encoding/json"
	"fmt"
	"time"
)

// defaultJudgeError is the error verdict's text when the failure has none
// (§3.6).
const defaultJudgeError = "Verdict generation failed"

// Deliberation is the judge's result for a JudgeDeliberate call: phase 1
// (analysis, resolutions, assessed intensity, historical context) and
// phase 2 (priming content, joint menu), as raw JSON (court-protocol.md
// §3.6). Resolutions is an array of objects with ids resolution_1..3.
type Deliberation struct {
	Analysis          json.RawMessage
	Resolutions       json.RawMessage
	AssessedIntensity json.RawMessage
	HistoricalContext json.RawMessage
	PrimingContent    json.RawMessage
	JointMenu         json.RawMessage
}

// awaitsDeliberation reports whether s still waits for the deliberation
// asked at version.
func (s *Session) awaitsDeliberation(version uint64) bool {
	return s.Phase == PhaseAnalyzing && version != 0 && s.DeliberationVersion == version
}

// ApplyDeliberation applies the result of the deliberation asked at
// version: ANALYZING → PRIMING. ErrStaleResult if the session no longer
// waits for that call (ended, settled, timed out, or another addendum
// asked again: R8); ErrBadJudgeResult if a field is not valid JSON.
func (s *Session) ApplyDeliberation(version uint64, r Deliberation, now time.Time, d Durations) error {
	if !s.awaitsDeliberation(version) {
		return ErrStaleResult
	}
	for _, raw := range []json.RawMessage{r.Analysis, r.Resolutions, r.AssessedIntensity, r.HistoricalContext, r.PrimingContent, r.JointMenu} {
		if len(raw) > 0 && !json.Valid(raw) {
			return ErrBadJudgeResult
		}
	}
	s.Analysis, s.Resolutions, s.AssessedIntensity = r.Analysis, r.Resolutions, r.AssessedIntensity
	s.HistoricalContext, s.PrimingContent, s.JointMenu = r.HistoricalContext, r.PrimingContent, r.JointMenu
	s.DeliberationVersion = 0
	s.enter(PhasePriming, now, d)
	s.emit(CountUsage{UserID: s.CreatorID, PartnerID: s.PartnerID, JudgeType: JudgeTypeOf(s.JudgeType), At: now.UnixMilli()})
	return nil
}

// FailDeliberation records the failure of the deliberation asked at
// version: VERDICT with {"status":"error","error":message}. Unlike the
// original, the VERDICT timer is set (R11): it tosses the session, and the
// error verdict can never be accepted into a case. ErrStaleResult as for
// ApplyDeliberation.
func (s *Session) FailDeliberation(version uint64, message string, now time.Time, d Durations) error {
	if !s.awaitsDeliberation(version) {
		return ErrStaleResult
	}
	if message == "" {
		message = defaultJudgeError
	}
	s.Verdict = mustJSON(errorVerdict{Status: "error", Error: message})
	at := now.UnixMilli()
	s.ResolvedAt = &at
	s.DeliberationVersion = 0
	s.enter(PhaseVerdict, now, d)
	return nil
}

// awaitsHybrid reports whether s still waits for the hybrid asked at
// version.
func (s *Session) awaitsHybrid(version uint64) bool {
	return s.Phase == PhaseResolution && s.HybridResolutionPending && version != 0 && s.HybridVersion == version
}

// ApplyHybrid sets the hybrid resolution asked at version (§3.7): the JSON
// object hybrid, with id resolution_hybrid and isHybrid true whatever it
// said. ErrStaleResult if the session no longer waits for it (the
// resolution phase ended, or the session did); ErrBadJudgeResult if hybrid
// is not a JSON object.
func (s *Session) ApplyHybrid(version uint64, hybrid json.RawMessage) error {
	if !s.awaitsHybrid(version) {
		return ErrStaleResult
	}
	m := fields(hybrid)
	if m == nil {
		return fmt.Errorf("%w: hybrid is not a JSON object", ErrBadJudgeResult)
	}
	m["id"], m["isHybrid"] = jsonString(HybridResolutionID), json.RawMessage("true")
	s.HybridResolution = appendObject(nil, m)
	s.HybridResolutionPending, s.HybridVersion = false, 0
	s.bump()
	return nil
}

// FailHybrid records the failure of the hybrid asked at version: nothing is
// pending any more, and a user may ask again (RequestHybrid).
func (s *Session) FailHybrid(version uint64) error {
	if !s.awaitsHybrid(version) {
		return ErrStaleResult
	}
	s.HybridResolutionPending, s.HybridVersion = false, 0
	s.bump()
	return nil
}

// PendingJudgeCalls returns the judge calls s waits for: what a new owner
// calls again after taking the session over (docs/ownership.md "Judge
// calls"). Calls are idempotent by (session, version).
func (s *Session) PendingJudgeCalls() []JudgeCall {
	var calls []JudgeCall
	if s.awaitsDeliberation(s.DeliberationVersion) {
		calls = append(calls, JudgeCall{Kind: JudgeDeliberate, Version: s.DeliberationVersion})
	}
	if s.awaitsHybrid(s.HybridVersion) {
		calls = append(calls, JudgeCall{Kind: JudgeHybrid, Version: s.HybridVersion})
	}
	return calls
}
