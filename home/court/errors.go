package court

import "errors"

// Error is a refused action. Its text is shown to the client verbatim
// (court-protocol.md §3.5: ack error and court:error message), so unlike the
// project's other errors it carries no package prefix.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Client-visible errors, with the exact strings of court-protocol.md
// §2.5, §3.5, §3.7 and §3.8.
var (
	ErrPartnerRequired    = &Error{"partnerId required"}
	ErrInvalidPartner     = &Error{"Invalid partnerId for current user"}
	ErrUsersBusy          = &Error{"One or both users already in a session"}
	ErrNoPendingSession   = &Error{"No pending session found"}
	ErrNoSession          = &Error{"No session found"}
	ErrNoActiveSession    = &Error{"No active session"}
	ErrNotIntendedPartner = &Error{"Not the intended partner"}
	ErrNotPending         = &Error{"Session not in PENDING phase"}
	ErrCancelNotPending   = &Error{"Can only cancel pending sessions"}
	ErrOnlyCreatorCancel  = &Error{"Only creator can cancel"}
	ErrNotParticipant     = &Error{"User not part of this session"}
	ErrNotAuthorized      = &Error{"User not authorized for this session"}

	ErrNotEvidence       = &Error{"Not in EVIDENCE phase"}
	ErrEvidenceSubmitted = &Error{"Evidence already submitted"}
	ErrNotPriming        = &Error{"Not in PRIMING phase"}
	ErrNotJointReady     = &Error{"Not in JOINT_READY phase"}

	ErrResolutionIDRequired = &Error{"resolutionId required"}
	ErrNotResolution        = &Error{"Not in RESOLUTION phase"}
	ErrInvalidResolutionID  = &Error{"Invalid resolution ID"}
	ErrResolutionNotFound   = &Error{"Resolution not found"}
	ErrSamePickRequired     = &Error{"You both need to pick the same resolution to continue."}
	ErrPartnerNotPicked     = &Error{"Partner has not picked yet"}
	ErrHybridNeedsMismatch  = &Error{"Hybrid resolution is only available after different picks."}

	ErrNotVerdict         = &Error{"Not in VERDICT phase"}
	ErrAddendumNotVerdict = &Error{"Addendum only allowed in VERDICT phase"}
	ErrAddendumLimit      = &Error{"Addendum limit reached for this case."}

	ErrSettlementPhase      = &Error{"Settlement only allowed during EVIDENCE or ANALYZING"}
	ErrNoSettlement         = &Error{"No settlement request pending"}
	ErrOwnSettlementAccept  = &Error{"Cannot accept your own settlement"}
	ErrOwnSettlementDecline = &Error{"Cannot decline your own settlement"}
)

// Client-visible errors this implementation adds (fixes of
// court-protocol.md §6).
var (
	// ErrVerdictUnavailable refuses accepting an error verdict: it can never
	// become a case (R11). Dismissing is the way out, or the VERDICT timer
	// tosses the session.
	ErrVerdictUnavailable = &Error{"Verdict unavailable. Please dismiss this case."}
	// ErrSettlementPending refuses a settlement request while the partner's
	// own request is pending; the original silently replaced the requester
	// (R13). The caller accepts or declines the partner's request instead.
	ErrSettlementPending = &Error{"Your partner already requested a settlement. Accept or decline it."}
	// ErrEvidenceRequired refuses evidence whose facts, feelings or needs
	// are blank once truncated: the judge would refuse the case after the
	// pipeline started, giving an error verdict (R24).
	ErrEvidenceRequired = &Error{"Evidence, feelings and needs are all required."}
	// ErrAddendumRequired refuses a blank addendum, on every path (R24); the
	// text is the original REST route's.
	ErrAddendumRequired = &Error{"text required"}
)

// Errors of the caller, never shown to clients.
var (
	// ErrNotDue means Expire or ExpireSettlement was called before the
	// deadline, or for a session with none.
	ErrNotDue = errors.New("court: deadline not reached")
	// ErrStaleResult means a judge result arrived for a call the session no
	// longer awaits: it was ended, moved on, or asked again (R8, R10).
	ErrStaleResult = errors.New("court: stale judge result")
	// ErrNoCaseID means a transition that closes the session was given no
	// case id.
	ErrNoCaseID = errors.New("court: case id required to close")
	// ErrBadJudgeResult means a judge result is not the JSON it must be.
	ErrBadJudgeResult = errors.New("court: malformed judge result")
)
