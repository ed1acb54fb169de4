package court

import "time"

// ValidateServe checks a serve by creatorID of partnerID (court-protocol.md
// §2.5): a partner is required and may not be the creator.
func ValidateServe(creatorID, partnerID string) error {
	switch partnerID {
	case "":
		return ErrPartnerRequired
	case creatorID:
		return ErrInvalidPartner
	}
	return nil
}

// Accept is T2: the partner accepts the summons; PENDING → EVIDENCE.
func (s *Session) Accept(userID string, now time.Time, d Durations) error {
	switch {
	case userID != s.PartnerID:
		return ErrNotIntendedPartner
	case s.Phase != PhasePending:
		return ErrNotPending
	}
	s.enter(PhaseEvidence, now, d)
	return nil
}

// Cancel is T3: the creator withdraws a PENDING summons; the session ends,
// with no memory job (§3.4).
func (s *Session) Cancel(userID string) error {
	switch {
	case s.Phase != PhasePending:
		return ErrCancelNotPending
	case userID != s.CreatorID:
		return ErrOnlyCreatorCancel
	}
	s.end(EndCancelled)
	return nil
}

// Dismiss is T13: either participant ends the session, in any phase. It is
// a toss (a MemoryJob with no case), except for a CLOSED session, whose
// case and memory job were already recorded at close.
func (s *Session) Dismiss(userID string) error {
	switch {
	case s.Ended():
		return ErrNoSession
	case !s.Participant(userID):
		return ErrNotParticipant
	}
	if s.Phase == PhaseClosed {
		s.end(EndDismissed)
		return nil
	}
	s.toss(EndDismissed)
	return nil
}

// Expire runs the phase timer (court-protocol.md §3.3) once its deadline has
// passed at now: the timed phases before VERDICT toss the session; VERDICT
// auto-accepts for both and closes with case caseID, unless the verdict is
// an error, which is tossed instead (R11); a CLOSED session is removed.
// caseID is used only by that close (ErrNoCaseID when it is needed and
// empty). The caller checks first that the timer it armed still belongs to
// s's current version; Expire itself refuses with ErrNotDue before the
// deadline.
func (s *Session) Expire(now time.Time, caseID string, d Durations) error {
	if s.PhaseDeadline == 0 || now.UnixMilli() < s.PhaseDeadline {
		return ErrNotDue
	}
	switch {
	case s.Phase == PhaseClosed:
		s.end(EndRemoved)
	case s.Phase == PhaseVerdict && verdictOK(s.Verdict):
		if caseID == "" {
			return ErrNoCaseID
		}
		s.Creator.VerdictAccepted = true
		s.Partner.VerdictAccepted = true
		s.close(caseID, now, d)
	default:
		s.toss(EndTimeout)
	}
	return nil
}

// toss is §3.4: the session ends without a case, and its memory is
// extracted with no case id.
func (s *Session) toss(reason EndReason) {
	s.emit(MemoryJob{SessionID: s.ID, Case: CaseData(s)})
	s.end(reason)
}
