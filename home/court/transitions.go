package court

import "time"

// ValidateServe checks a serve by creatorID of partnerID (court-protocol.md
// §2.5): a partner is required and may not be the creator.
func ValidateServe(creatorID, partnerID string) error {
	switch {
	case partnerID == "":
		return ErrPartnerRequired
	case partnerID == creatorID:
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

// Cancel is T3: the creator withdraws a PENDING summons; the session ends.
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

// Dismiss is T13: either participant ends the session, in any phase.
func (s *Session) Dismiss(userID string) error {
	switch {
	case s.Ended():
		return ErrNoSession
	case !s.Participant(userID):
		return ErrNotParticipant
	}
	s.end(EndDismissed)
	return nil
}

// Expire runs the phase timer (court-protocol.md §3.3) once its deadline has
// passed at now: the timed phases before VERDICT toss the session, VERDICT
// auto-accepts for both and closes, and a CLOSED session is removed. The
// caller checks first that the timer it armed still belongs to s's current
// version; Expire itself refuses with ErrNotDue before the deadline.
func (s *Session) Expire(now time.Time, d Durations) error {
	if s.PhaseDeadline == 0 || now.UnixMilli() < s.PhaseDeadline {
		return ErrNotDue
	}
	switch s.Phase {
	case PhaseVerdict:
		s.Creator.VerdictAccepted = true
		s.Partner.VerdictAccepted = true
		s.close(now, d)
	case PhaseClosed:
		s.end(EndRemoved)
	default:
		s.end(EndTimeout)
	}
	return nil
}

// close is §3.9: both timers cleared, phase CLOSED, held for d.ClosedHold.
func (s *Session) close(now time.Time, d Durations) {
	s.SettlementDeadline = 0
	s.enter(PhaseClosed, now, d)
}
