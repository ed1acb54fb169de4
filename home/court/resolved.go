package court

import "time"

// CaseResolved announces a closed case to the app's awards service (XP,
// challenges, insights; court-protocol.md §6 R20), delivered through the
// outbox as a case_resolved row in the closing transaction, so a case is
// announced once, and only a case that was saved. The users are named by
// role, creator and partner, never by A/B (R21).
type CaseResolved struct {
	Event     string `json:"event"` // always "case_resolved"
	CaseID    string `json:"caseId"`
	SessionID string `json:"sessionId"`
	CoupleID  string `json:"coupleId"`
	CreatorID string `json:"creatorId"`
	PartnerID string `json:"partnerId"`
	JudgeType string `json:"judgeType"`
	// ResolvedAt is when the case closed, unix milliseconds.
	ResolvedAt int64          `json:"resolvedAt"`
	Verdict    VerdictSummary `json:"verdict"`
}

// VerdictSummary is what an awards service needs of a verdict, without the
// users' evidence or private priming.
type VerdictSummary struct {
	// Version is the accepted verdict's version: 1, or more after addenda.
	Version         int     `json:"version"`
	AddendumCount   int     `json:"addendumCount"`
	CaseTitle       *string `json:"caseTitle"`
	SeverityLevel   *string `json:"severityLevel"`
	ShortResolution *string `json:"shortResolution"`
	// Summary is judgeContent.theSummary, Title theSentence.title.
	Summary *string `json:"summary"`
	Title   *string `json:"title"`
	// IsHybrid reports whether the couple settled on a hybrid resolution.
	IsHybrid bool `json:"isHybrid"`
}

// EventCaseResolved is CaseResolved.Event.
const EventCaseResolved = "case_resolved"

// caseResolved is the CaseResolved of s, closing now as caseID.
func caseResolved(s *Session, caseID string, now time.Time) CaseResolved {
	rec, history, _ := caseFields(s)
	env := members(s.Verdict)
	content := members(env["judgeContent"])
	hybrid := string(members(env["_meta"])["isHybrid"]) == "true"
	return CaseResolved{
		Event: EventCaseResolved, CaseID: caseID, SessionID: s.ID, CoupleID: s.CoupleID,
		CreatorID: s.CreatorID, PartnerID: s.PartnerID, JudgeType: s.JudgeType,
		ResolvedAt: now.UnixMilli(),
		Verdict: VerdictSummary{
			Version: len(history), AddendumCount: s.AddendumCount,
			CaseTitle: rec.CaseTitle, SeverityLevel: rec.SeverityLevel, ShortResolution: rec.ShortResolution,
			Summary: text(content["theSummary"]), Title: text(members(content["theSentence"])["title"]),
			IsHybrid: hybrid,
		},
	}
}
