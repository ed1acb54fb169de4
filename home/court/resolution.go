package court

import (
	"encoding/json"
	"time"
)

// HybridResolutionID is the id of the hybrid resolution (§3.7).
const HybridResolutionID = "resolution_hybrid"

// SubmitResolutionPick is T9 (court-protocol.md §3.7): userID picks
// resolution resolutionID. Equal picks finish at once (T10, → VERDICT);
// different picks start a mismatch, which asks for one hybrid; during a
// mismatch both must agree on one pick. Picking again the same resolution
// changes nothing. The home serialises a session's transitions, so the
// original's Redis lock is not needed.
func (s *Session) SubmitResolutionPick(userID, resolutionID string, now time.Time, d Durations) error {
	_, creator, err := s.side(userID)
	switch {
	case err != nil:
		return err
	case s.Phase != PhaseResolution:
		return ErrNotResolution
	case resolutionID == "":
		return ErrInvalidResolutionID
	case s.FindResolution(resolutionID) == nil:
		return ErrResolutionNotFound
	}
	if MismatchActive(s) {
		return s.mismatchPick(userID, creator, resolutionID, now, d)
	}
	if mine := pick(creator, s.UserAResolutionPick, s.UserBResolutionPick); mine != nil && *mine == resolutionID {
		// Picking again what one picked changes nothing: a retry of a
		// pick whose answer was lost commits nothing twice.
		return nil
	}
	id := &resolutionID
	if creator {
		s.UserAResolutionPick = id
	} else {
		s.UserBResolutionPick = id
	}
	a, b := s.UserAResolutionPick, s.UserBResolutionPick
	switch {
	case a == nil || b == nil:
		s.bump()
	case *a == *b:
		s.FinalResolution = s.FindResolution(*a)
		s.toVerdict(now, d)
	default:
		s.startMismatch()
	}
	return nil
}

// startMismatch is initializeMismatch (§3.7): the two original picks are
// kept, the mismatch picks start empty, and one hybrid is asked for. It is
// the only automatic hybrid request of a mismatch (R10).
func (s *Session) startMismatch() {
	s.MismatchOriginal = &Picks{UserA: s.UserAResolutionPick, UserB: s.UserBResolutionPick}
	s.MismatchPicks = &Picks{}
	s.MismatchLock, s.MismatchLockBy = nil, nil
	s.HybridResolution = nil
	s.bump()
	s.requestHybrid()
}

// requestHybrid marks a hybrid pending and asks for it at the current
// version.
func (s *Session) requestHybrid() {
	s.HybridResolutionPending = true
	s.HybridVersion = s.Version
	s.emit(JudgeCall{Kind: JudgeHybrid, Version: s.Version})
}

// mismatchPick is a pick during a mismatch (ResolutionService
// _handleMismatchPick): once a partner has picked, the other must pick the
// same; agreement finishes (T10). It never asks for another hybrid (R10).
func (s *Session) mismatchPick(userID string, creator bool, id string, now time.Time, d Durations) error {
	picks := Picks{}
	if s.MismatchPicks != nil {
		picks = *s.MismatchPicks
	}
	mine, theirs := &picks.UserB, picks.UserA
	if creator {
		mine, theirs = &picks.UserA, picks.UserB
	}
	partnerLock := s.MismatchLock != nil && s.MismatchLockBy != nil && *s.MismatchLockBy != userID
	switch {
	case partnerLock && *s.MismatchLock != id:
		return ErrSamePickRequired
	case !partnerLock && theirs != nil && *theirs != id:
		return ErrSamePickRequired
	}
	*mine = &id
	if !partnerLock {
		s.MismatchLock, s.MismatchLockBy = &id, &userID
	}
	if s.MismatchOriginal == nil {
		s.MismatchOriginal = &Picks{UserA: s.UserAResolutionPick, UserB: s.UserBResolutionPick}
	}
	s.MismatchPicks = &picks
	if picks.UserA != nil && picks.UserB != nil && *picks.UserA == *picks.UserB {
		s.FinalResolution = s.FindResolution(id)
		s.toVerdict(now, d)
		return nil
	}
	s.bump()
	return nil
}

// AcceptPartnerResolution takes the partner's original pick as the final
// resolution, in normal and mismatch mode alike (§3.7), then T10.
func (s *Session) AcceptPartnerResolution(userID string, now time.Time, d Durations) error {
	_, creator, err := s.side(userID)
	if err != nil {
		return err
	}
	if s.Phase != PhaseResolution {
		return ErrNotResolution
	}
	theirs := s.UserAResolutionPick
	if creator {
		theirs = s.UserBResolutionPick
	}
	if theirs == nil {
		return ErrPartnerNotPicked
	}
	s.FinalResolution = s.FindResolution(*theirs)
	s.toVerdict(now, d)
	return nil
}

// RequestHybrid is the explicit hybrid request (§3.7): during a mismatch,
// ask for a hybrid again, which matters after a failed one. It changes
// nothing (and asks nothing) while a hybrid exists or is pending.
func (s *Session) RequestHybrid(userID string) error {
	if _, _, err := s.side(userID); err != nil {
		return err
	}
	switch {
	case s.Phase != PhaseResolution:
		return ErrNotResolution
	case !MismatchActive(s):
		return ErrHybridNeedsMismatch
	case !isNull(s.HybridResolution) || s.HybridResolutionPending:
		return nil
	}
	s.bump()
	s.requestHybrid()
	return nil
}

// FindResolution returns the resolution with id id: the hybrid, or one of
// the analysis's resolutions; nil if there is none.
func (s *Session) FindResolution(id string) json.RawMessage {
	if id == "" {
		return nil
	}
	if !isNull(s.HybridResolution) && idOf(s.HybridResolution) == id {
		return s.HybridResolution
	}
	for _, r := range elements(s.Resolutions) {
		if idOf(r) == id {
			return r
		}
	}
	return nil
}

// idOf returns the string "id" of a JSON object, or "".
func idOf(raw json.RawMessage) string { return stringMember(raw, "id") }
