package court

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Input limits in characters (court-protocol.md §7.1).
const (
	LimitEvidence = 5000
	LimitFeelings = 2000
	LimitNeeds    = 2000
	LimitAddendum = 2000
)

// Truncate cuts s to at most limit characters (runes) the way the original
// sanitiser does (§7.1): if it is longer, it keeps the first limit
// characters, and cuts again at the last space of those if that space lies
// beyond 80 % of the limit.
func Truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	r := []rune(s)[:max(limit, 0)]
	for i := len(r) - 1; i*5 > limit*4; i-- {
		if r[i] == ' ' {
			return string(r[:i])
		}
	}
	return string(r)
}

// Blank reports whether s is empty once leading and trailing white space
// (Unicode) is trimmed. It is the one rule for the users' texts (R24): a
// submission with a blank evidence, feelings or needs, or a blank addendum,
// is refused by the transition, whichever path (socket or REST) it came by,
// and the judge's input check (judge.Case.Validate) uses it too, so a case
// the court accepted is never refused by the judge.
func Blank(s string) bool { return strings.TrimSpace(s) == "" }

// SubmitEvidence is T4/T5: userID submits evidence, feelings and needs,
// truncated to §7.1's limits; none may be Blank once truncated
// (ErrEvidenceRequired). The second submission moves the session to
// ANALYZING, notifies both users (evidence_submitted) and asks for the
// judge's deliberation.
func (s *Session) SubmitEvidence(userID, evidence, feelings, needs string, now time.Time, d Durations) error {
	me, _, err := s.side(userID)
	switch {
	case err != nil:
		return err
	case s.Phase != PhaseEvidence:
		return ErrNotEvidence
	case me.EvidenceSubmitted:
		return ErrEvidenceSubmitted
	}
	ev, fe, ne := Truncate(evidence, LimitEvidence), Truncate(feelings, LimitFeelings), Truncate(needs, LimitNeeds)
	if Blank(ev) || Blank(fe) || Blank(ne) {
		return ErrEvidenceRequired
	}
	me.EvidenceSubmitted, me.Evidence, me.Feelings, me.Needs = true, &ev, &fe, &ne
	if !s.Creator.EvidenceSubmitted || !s.Partner.EvidenceSubmitted {
		s.bump()
		return nil
	}
	s.enter(PhaseAnalyzing, now, d)
	s.emit(Notify{
		UserIDs: []string{s.CreatorID, s.PartnerID}, Type: NotifyEvidenceSubmitted,
		Title: titleEvidenceSubmitted, Body: bodyEvidenceSubmitted, SessionID: s.ID,
	})
	s.deliberate()
	return nil
}

// deliberate records and asks for the judge's deliberation at the current
// version.
func (s *Session) deliberate() {
	s.DeliberationVersion = s.Version
	s.emit(JudgeCall{Kind: JudgeDeliberate, Version: s.Version})
}

// MarkPrimingComplete is T7: userID has read the priming; when both have,
// PRIMING → JOINT_READY. Marking again changes nothing.
func (s *Session) MarkPrimingComplete(userID string, now time.Time, d Durations) error {
	me, _, err := s.side(userID)
	switch {
	case err != nil:
		return err
	case s.Phase != PhasePriming:
		return ErrNotPriming
	case me.PrimingReady:
		return nil
	}
	me.PrimingReady = true
	s.advanceWhen(s.Creator.PrimingReady && s.Partner.PrimingReady, PhaseJointReady, now, d)
	return nil
}

// MarkJointReady is T8: userID is done with the joint menu; when both are,
// JOINT_READY → RESOLUTION. Marking again changes nothing.
func (s *Session) MarkJointReady(userID string, now time.Time, d Durations) error {
	me, _, err := s.side(userID)
	switch {
	case err != nil:
		return err
	case s.Phase != PhaseJointReady:
		return ErrNotJointReady
	case me.JointReady:
		return nil
	}
	me.JointReady = true
	s.advanceWhen(s.Creator.JointReady && s.Partner.JointReady, PhaseResolution, now, d)
	return nil
}

// advanceWhen enters p if both users are ready, and otherwise records the
// change in place.
func (s *Session) advanceWhen(both bool, p Phase, now time.Time, d Durations) {
	if both {
		s.enter(p, now, d)
		return
	}
	s.bump()
}
