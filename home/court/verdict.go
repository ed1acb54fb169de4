package court

import (
	"encoding/json"
	"time"
)

// Verdict defaults (court-protocol.md §3.5 T10).
const (
	defaultSummary = "Resolution found."
	defaultTitle   = "Resolution"
	defaultClosing = "May this resolution bring you closer together."
)

// verdictEnvelope is the verdict of T10, keys in the original's order.
type verdictEnvelope struct {
	Status       string       `json:"status"`
	JudgeContent judgeContent `json:"judgeContent"`
	Meta         verdictMeta  `json:"_meta"`
}

type judgeContent struct {
	TheSummary       json.RawMessage `json:"theSummary"`
	TheSentence      sentence        `json:"theSentence"`
	ClosingStatement json.RawMessage `json:"closingStatement"`
}

// sentence omits a missing description or rationale, as JSON.stringify
// drops undefined.
type sentence struct {
	Title       json.RawMessage `json:"title"`
	Description json.RawMessage `json:"description,omitempty"`
	Rationale   json.RawMessage `json:"rationale,omitempty"`
}

type verdictMeta struct {
	Analysis            json.RawMessage `json:"analysis"`
	AssessedIntensity   json.RawMessage `json:"assessedIntensity"`
	Resolutions         json.RawMessage `json:"resolutions"`
	PrimingContent      json.RawMessage `json:"primingContent"`
	JointMenu           json.RawMessage `json:"jointMenu"`
	FinalResolution     json.RawMessage `json:"finalResolution"`
	IsHybrid            bool            `json:"isHybrid"`
	UserAResolutionPick json.RawMessage `json:"userAResolutionPick"`
	UserBResolutionPick json.RawMessage `json:"userBResolutionPick"`
	HybridResolution    json.RawMessage `json:"hybridResolution"`
}

// errorVerdict is the verdict of a failed pipeline (§3.6).
type errorVerdict struct {
	Status string `json:"status"`
	Error  string `json:"error"`
}

// toVerdict is T10: RESOLUTION → VERDICT with no judge call. The final
// resolution is the first of the final resolution, userA's pick, userB's
// pick and the hybrid; the verdict is assembled from it and the joint menu
// and recorded in VerdictHistory.
func (s *Session) toVerdict(now time.Time, d Durations) {
	pickA, pickB := s.findPick(s.UserAResolutionPick), s.findPick(s.UserBResolutionPick)
	final := or(s.FinalResolution, pickA, pickB, s.HybridResolution)
	s.FinalResolution = final
	menu := members(s.JointMenu)
	r := members(final)
	hybridID := idOf(s.HybridResolution)
	s.Verdict = mustJSON(verdictEnvelope{
		Status: "success",
		JudgeContent: judgeContent{
			TheSummary: or(menu["theSummary"], jsonString(defaultSummary)),
			TheSentence: sentence{
				Title:       or(r["title"], jsonString(defaultTitle)),
				Description: or(r["description"], r["combinedDescription"]),
				Rationale:   r["rationale"],
			},
			ClosingStatement: or(menu["closingWisdom"], jsonString(defaultClosing)),
		},
		Meta: verdictMeta{
			Analysis:            orNull(s.Analysis),
			AssessedIntensity:   orNull(s.AssessedIntensity),
			Resolutions:         orNull(s.Resolutions),
			PrimingContent:      orNull(s.PrimingContent),
			JointMenu:           orNull(s.JointMenu),
			FinalResolution:     final,
			IsHybrid:            hybridID != "" && idOf(final) == hybridID,
			UserAResolutionPick: pickA,
			UserBResolutionPick: pickB,
			HybridResolution:    orNull(s.HybridResolution),
		},
	})
	s.recordVerdict(now)
	at := now.UnixMilli()
	s.ResolvedAt = &at
	s.enter(PhaseVerdict, now, d)
}

// recordVerdict appends the verdict to VerdictHistory. The version is the
// history's length; an entry after an addendum carries the addendum that
// caused it: the latest one (the original took addendumHistory[version-2],
// which drifts once an error verdict, never recorded, was followed by an
// addendum).
func (s *Session) recordVerdict(now time.Time) {
	v := VerdictVersion{
		Version:   len(s.VerdictHistory) + 1,
		Content:   s.Verdict,
		CreatedAt: now.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
	}
	if n := len(s.AddendumHistory); n > 0 && s.AddendumCount > 0 {
		a := s.AddendumHistory[n-1]
		v.AddendumBy, v.AddendumText = &a.FromUser, &a.Text
	}
	s.VerdictHistory = append(s.VerdictHistory, v)
}

func (s *Session) findPick(id *string) json.RawMessage {
	if id == nil {
		return nil
	}
	return s.FindResolution(*id)
}

// AcceptVerdict is T11: userID accepts the verdict; when both have, the
// session closes with case caseID (§3.9). Accepting again changes nothing.
// An error verdict cannot be accepted (R11): ErrVerdictUnavailable. Once
// closed, a further accept is refused (Not in VERDICT phase), so a case is
// saved once (R9).
func (s *Session) AcceptVerdict(userID, caseID string, now time.Time, d Durations) error {
	me, creator, err := s.side(userID)
	switch {
	case err != nil:
		return err
	case s.Phase != PhaseVerdict:
		return ErrNotVerdict
	case !verdictOK(s.Verdict):
		return ErrVerdictUnavailable
	case me.VerdictAccepted:
		return nil
	}
	if other := pick(creator, s.Partner, s.Creator); !other.VerdictAccepted {
		me.VerdictAccepted = true
		s.bump()
		return nil
	}
	if caseID == "" {
		return ErrNoCaseID
	}
	me.VerdictAccepted = true
	s.close(caseID, now, d)
	return nil
}

// close is §3.9: phase CLOSED (timers cleared, held for d.ClosedHold), the
// case saved as caseID, the memory extracted for it and the case announced
// to the awards service (R20).
func (s *Session) close(caseID string, now time.Time, d Durations) {
	s.CaseID = &caseID
	s.emit(SaveCase{CaseID: caseID}, MemoryJob{SessionID: s.ID, CaseID: &caseID, Case: CaseData(s)},
		caseResolved(s, caseID, now))
	s.enter(PhaseClosed, now, d)
}

// verdictOK reports whether verdict is a success envelope, the only kind
// that can become a case (R11).
func verdictOK(verdict json.RawMessage) bool {
	return stringMember(verdict, "status") == "success"
}

// SubmitAddendum is T12: userID adds text (truncated to 2000 characters) to
// the case; the session goes back to ANALYZING and the whole flow re-runs.
// At most AddendumLimit per session. The judge call is an effect, so the
// request is not held for the pipeline (R23).
func (s *Session) SubmitAddendum(userID, text string, now time.Time, d Durations) error {
	_, creator, err := s.side(userID)
	switch {
	case err != nil:
		return err
	case s.Phase != PhaseVerdict:
		return ErrAddendumNotVerdict
	case s.AddendumCount >= AddendumLimit:
		return ErrAddendumLimit
	}
	text = Truncate(text, LimitAddendum)
	if Blank(text) {
		return ErrAddendumRequired
	}
	s.AddendumHistory = append(s.AddendumHistory, Addendum{
		UserID: userID, FromUser: pick(creator, "userA", "userB"),
		Text: text, SubmittedAt: now.UnixMilli(),
	})
	s.AddendumCount++
	s.resetForAddendum()
	s.enter(PhaseAnalyzing, now, d)
	s.deliberate()
	return nil
}

// resetForAddendum clears everything a run of the pipeline produced
// (PhaseTransitionController.resetForAddendum); the evidence stays.
func (s *Session) resetForAddendum() {
	for _, u := range []*UserState{&s.Creator, &s.Partner} {
		u.VerdictAccepted, u.PrimingReady, u.JointReady = false, false, false
	}
	s.Analysis, s.Resolutions, s.AssessedIntensity = nil, nil, nil
	s.PrimingContent, s.JointMenu = nil, nil
	s.UserAResolutionPick, s.UserBResolutionPick = nil, nil
	s.HybridResolution, s.FinalResolution = nil, nil
	s.MismatchOriginal, s.MismatchPicks = nil, nil
	s.MismatchLock, s.MismatchLockBy = nil, nil
	s.HybridResolutionPending, s.HybridVersion = false, 0
	s.Verdict, s.ResolvedAt = nil, nil
}
