package court

import "time"

// Settlement (court-protocol.md §3.8) with the R13 fixes: a request lives
// only while the session is in EVIDENCE or ANALYZING (leaving them drops
// it), it is accepted only there, and a partner cannot replace the other's
// pending request (ErrSettlementPending).

// settlementPhase reports whether a settlement may be requested in p.
func settlementPhase(p Phase) bool { return p == PhaseEvidence || p == PhaseAnalyzing }

// clearSettlement drops the settlement request and its timer.
func (s *Session) clearSettlement() {
	s.SettlementRequested, s.SettlementRequestedAt, s.SettlementDeadline = nil, nil, 0
}

// RequestSettlement records userID's request to settle and (re)starts its
// timer: SettlementDeadline is now+d.Settlement. The partner gets
// court:settlement_requested and a settlement_request push. The requester
// may request again, which restarts the timer as the original does.
func (s *Session) RequestSettlement(userID string, now time.Time, d Durations) error {
	if _, _, err := s.side(userID); err != nil {
		return err
	}
	switch {
	case !settlementPhase(s.Phase):
		return ErrSettlementPhase
	case s.SettlementRequested != nil && *s.SettlementRequested != userID:
		return ErrSettlementPending
	}
	at := now.UnixMilli()
	s.SettlementRequested, s.SettlementRequestedAt = &userID, &at
	s.SettlementDeadline = now.Add(d.Settlement).UnixMilli()
	s.bump()
	partner := s.other(userID)
	s.emit(
		Emit{UserID: partner, Name: EventSettlementRequested, Payload: mustJSON(byUser{userID})},
		Notify{
			UserIDs: []string{partner}, Type: NotifySettlementRequest,
			Title: titleSettlement, Body: bodySettlement, SessionID: s.ID,
		},
	)
	return nil
}

// settlementAnswer checks that participant userID may answer the pending
// request; own is the error for answering one's own.
func (s *Session) settlementAnswer(userID string, own error) error {
	switch {
	case s.SettlementRequested == nil:
		return ErrNoSettlement
	case *s.SettlementRequested == userID:
		return own
	}
	return nil
}

// AcceptSettlement is the partner's acceptance: the session is tossed
// (EndSettled, a MemoryJob with no case). Only in EVIDENCE or ANALYZING
// (R13); a judge result still on its way is then stale (R8).
func (s *Session) AcceptSettlement(userID string) error {
	if _, _, err := s.side(userID); err != nil {
		return err
	}
	if !settlementPhase(s.Phase) {
		return ErrSettlementPhase
	}
	if err := s.settlementAnswer(userID, ErrOwnSettlementAccept); err != nil {
		return err
	}
	s.toss(EndSettled)
	return nil
}

// DeclineSettlement is the partner's refusal: the request and its timer are
// dropped and the requester gets court:settlement_declined.
func (s *Session) DeclineSettlement(userID string) error {
	if _, _, err := s.side(userID); err != nil {
		return err
	}
	if err := s.settlementAnswer(userID, ErrOwnSettlementDecline); err != nil {
		return err
	}
	requester := *s.SettlementRequested
	s.clearSettlement()
	s.bump()
	s.emit(Emit{UserID: requester, Name: EventSettlementDeclined, Payload: mustJSON(byUser{userID})})
	return nil
}

// ExpireSettlement is the settlement timer: once SettlementDeadline has
// passed at now, the request is dropped and the session goes on. A request
// that was answered, or made again since (a later deadline), is not due:
// ErrNotDue.
func (s *Session) ExpireSettlement(now time.Time) error {
	if s.SettlementDeadline == 0 || now.UnixMilli() < s.SettlementDeadline {
		return ErrNotDue
	}
	s.clearSettlement()
	s.bump()
	return nil
}
