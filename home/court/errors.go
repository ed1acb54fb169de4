package court

import "errors"

// Error is a refused action. Its text is shown to the client verbatim
// (court-protocol.md §3.5: ack error and court:error message), so unlike the
// project's other errors it carries no package prefix.
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

// Client-visible errors, with the exact strings of court-protocol.md
// §2.5 and §3.5.
var (
	ErrPartnerRequired    = &Error{"partnerId required"}
	ErrInvalidPartner     = &Error{"Invalid partnerId for current user"}
	ErrUsersBusy          = &Error{"One or both users already in a session"}
	ErrNoPendingSession   = &Error{"No pending session found"}
	ErrNoSession          = &Error{"No session found"}
	ErrNotIntendedPartner = &Error{"Not the intended partner"}
	ErrNotPending         = &Error{"Session not in PENDING phase"}
	ErrCancelNotPending   = &Error{"Can only cancel pending sessions"}
	ErrOnlyCreatorCancel  = &Error{"Only creator can cancel"}
	ErrNotParticipant     = &Error{"User not part of this session"}
)

// ErrNotDue means Expire was called before the phase deadline, or for a
// session with none.
var ErrNotDue = errors.New("court: phase deadline not reached")
