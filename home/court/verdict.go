package court

import (
	"encoding/json"
	"strconv"
	"time"
)

// Verdict defaults (court-protocol.md §3.5 T10).
const (
	defaultSummary = "Resolution found."
	defaultTitle   = "Resolution"
	defaultClosing = "May this resolution bring you closer together."
)

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
	s.Verdict = appendVerdict(nil, s, verdictParts{
		summary:  or(menu["theSummary"], jsonString(defaultSummary)),
		title:    or(r["title"], jsonString(defaultTitle)),
		desc:     or(r["description"], r["combinedDescription"]),
		rat:      r["rationale"],
		closing:  or(menu["closingWisdom"], jsonString(defaultClosing)),
		final:    final,
		isHybrid: hybridID != "" && idOf(final) == hybridID,
		pickA:    pickA,
		pickB:    pickB,
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

// verdictParts are the values of a T10 verdict that are not the session's
// own: the sentence, the summary and closing, and the final resolution.
type verdictParts struct {
	summary, title, desc, rat, closing json.RawMessage
	final, pickA, pickB                json.RawMessage
	isHybrid                           bool
}

// appendVerdict appends the verdict of T10 to dst, keys in the original's
// order, as json.Marshal wrote it from a struct of raw members: a missing
// description or rationale left out (JSON.stringify drops undefined), a
// missing value null, every value compacted and HTML-escaped. Written by
// hand so that the deliberation's outputs it carries (about 50 KiB) are
// copied once, not validated and compacted again by encoding/json
// (docs/decisions.md, issue 11).
func appendVerdict(dst []byte, s *Session, p verdictParts) []byte {
	n := 512 + len(s.Analysis) + len(s.AssessedIntensity) + len(s.Resolutions) + len(s.PrimingContent) +
		len(s.JointMenu) + len(s.HybridResolution) + 3*len(p.final) + len(p.summary) + len(p.title) +
		len(p.desc) + len(p.rat) + len(p.closing)
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = appendRaw(append(dst, `{"status":"success","judgeContent":{"theSummary":`...), p.summary)
	dst = appendRaw(append(dst, `,"theSentence":{"title":`...), p.title)
	if len(p.desc) > 0 {
		dst = appendRaw(append(dst, `,"description":`...), p.desc)
	}
	if len(p.rat) > 0 {
		dst = appendRaw(append(dst, `,"rationale":`...), p.rat)
	}
	dst = appendRaw(append(dst, `},"closingStatement":`...), p.closing)
	dst = appendRaw(append(dst, `},"_meta":{"analysis":`...), orNull(s.Analysis))
	dst = appendRaw(append(dst, `,"assessedIntensity":`...), orNull(s.AssessedIntensity))
	dst = appendRaw(append(dst, `,"resolutions":`...), orNull(s.Resolutions))
	dst = appendRaw(append(dst, `,"primingContent":`...), orNull(s.PrimingContent))
	dst = appendRaw(append(dst, `,"jointMenu":`...), orNull(s.JointMenu))
	dst = appendRaw(append(dst, `,"finalResolution":`...), p.final)
	dst = strconv.AppendBool(append(dst, `,"isHybrid":`...), p.isHybrid)
	dst = appendRaw(append(dst, `,"userAResolutionPick":`...), p.pickA)
	dst = appendRaw(append(dst, `,"userBResolutionPick":`...), p.pickB)
	dst = appendRaw(append(dst, `,"hybridResolution":`...), orNull(s.HybridResolution))
	return append(dst, "}}"...)
}

// AppendVerdictHistory appends h as json.Marshal encodes it, [] for none,
// with each verdict (tens of KiB) copied as it is when already compact and
// escaped instead of validated and compacted again: the store's
// verdict_history column.
func AppendVerdictHistory(dst []byte, h []VerdictVersion) []byte {
	n := 2
	for _, v := range h {
		n += 128 + len(v.Content) + len(v.CreatedAt)
		if v.AddendumText != nil {
			n += len(*v.AddendumText) + len(*v.AddendumText)/8
		}
	}
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	dst = append(dst, '[')
	for i, v := range h {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendInt(append(dst, `{"version":`...), int64(v.Version), 10)
		dst = appendRaw(append(dst, `,"content":`...), v.Content)
		dst = appendStringPtr(append(dst, `,"addendumBy":`...), v.AddendumBy)
		dst = appendStringPtr(append(dst, `,"addendumText":`...), v.AddendumText)
		dst = append(appendString(append(dst, `,"createdAt":`...), v.CreatedAt), '}')
	}
	return append(dst, ']')
}

// appendStringPtr appends *s as a JSON string, null for nil.
func appendStringPtr(dst []byte, s *string) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	return appendString(dst, *s)
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
