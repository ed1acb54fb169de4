package court

import (
	"errors"

	"courtmesh/protocol"
)

// Error is a refused action. Its text is shown to the client verbatim
// (court-protocol.md §3.5: ack error and court:error message), so unlike the
// project's other errors it carries no package prefix. A coded error
// (§2.5 "Coded errors") is acked with its code as the error, and its
// court:error carries message and code.
type Error struct {
	msg  string
	code string
}

func (e *Error) Error() string { return e.msg }

// Code is the error's code, "" for an uncoded one.
func (e *Error) Code() string { return e.code }

// Client-visible errors, with the exact strings of court-protocol.md
// §2.5, §3.5, §3.7 and §3.8.
var (
	ErrPartnerRequired    = &Error{msg: protocol.MsgPartnerRequired}
	ErrInvalidPartner     = &Error{msg: protocol.MsgInvalidPartner}
	ErrUsersBusy          = &Error{msg: "One or both users already in a session"}
	ErrNoPendingSession   = &Error{msg: "No pending session found"}
	ErrNoSession          = &Error{msg: "No session found"}
	ErrNoActiveSession    = &Error{msg: "No active session"}
	ErrNotIntendedPartner = &Error{msg: "Not the intended partner"}
	ErrNotPending         = &Error{msg: "Session not in PENDING phase"}
	ErrCancelNotPending   = &Error{msg: "Can only cancel pending sessions"}
	ErrOnlyCreatorCancel  = &Error{msg: "Only creator can cancel"}
	ErrNotParticipant     = &Error{msg: "User not part of this session"}
	ErrNotAuthorized      = &Error{msg: "User not authorized for this session"}

	ErrNotEvidence       = &Error{msg: "Not in EVIDENCE phase"}
	ErrEvidenceSubmitted = &Error{msg: "Evidence already submitted"}
	ErrNotPriming        = &Error{msg: "Not in PRIMING phase"}
	ErrNotJointReady     = &Error{msg: "Not in JOINT_READY phase"}

	ErrResolutionIDRequired = &Error{msg: "resolutionId required"}
	ErrNotResolution        = &Error{msg: "Not in RESOLUTION phase"}
	ErrInvalidResolutionID  = &Error{msg: "Invalid resolution ID"}
	ErrResolutionNotFound   = &Error{msg: "Resolution not found"}
	ErrSamePickRequired     = &Error{msg: "You both need to pick the same resolution to continue."}
	ErrPartnerNotPicked     = &Error{msg: "Partner has not picked yet"}
	ErrHybridNeedsMismatch  = &Error{msg: "Hybrid resolution is only available after different picks."}

	ErrNotVerdict         = &Error{msg: "Not in VERDICT phase"}
	ErrAddendumNotVerdict = &Error{msg: "Addendum only allowed in VERDICT phase"}
	ErrAddendumLimit      = &Error{msg: "Addendum limit reached for this case."}

	ErrSettlementPhase      = &Error{msg: "Settlement only allowed during EVIDENCE or ANALYZING"}
	ErrNoSettlement         = &Error{msg: "No settlement request pending"}
	ErrOwnSettlementAccept  = &Error{msg: "Cannot accept your own settlement"}
	ErrOwnSettlementDecline = &Error{msg: "Cannot decline your own settlement"}
)

// Client-visible errors this implementation adds (fixes of
// court-protocol.md §6).
var (
	// ErrVerdictUnavailable refuses accepting an error verdict: it can never
	// become a case (R11). Dismissing is the way out, or the VERDICT timer
	// tosses the session.
	ErrVerdictUnavailable = &Error{msg: "Verdict unavailable. Please dismiss this case."}
	// ErrSettlementPending refuses a settlement request while the partner's
	// own request is pending; the original silently replaced the requester
	// (R13). The caller accepts or declines the partner's request instead.
	ErrSettlementPending = &Error{msg: "Your partner already requested a settlement. Accept or decline it."}
	// ErrEvidenceRequired refuses evidence whose facts, feelings or needs
	// are blank once truncated: the judge would refuse the case after the
	// pipeline started, giving an error verdict (R24).
	ErrEvidenceRequired = &Error{msg: protocol.MsgEvidenceRequired}
	// ErrAddendumRequired refuses a blank addendum, on every path (R24); the
	// text is the original REST route's.
	ErrAddendumRequired = &Error{msg: "text required"}
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
