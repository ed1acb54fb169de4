package court

// Phase is an internal session phase (court-protocol.md §3.1).
type Phase string

// Internal phases. PhaseIdle means "no session": a session that was ended.
const (
	PhaseIdle       Phase = "IDLE"
	PhasePending    Phase = "PENDING"
	PhaseEvidence   Phase = "EVIDENCE"
	PhaseAnalyzing  Phase = "ANALYZING"
	PhasePriming    Phase = "PRIMING"
	PhaseJointReady Phase = "JOINT_READY"
	PhaseResolution Phase = "RESOLUTION"
	PhaseVerdict    Phase = "VERDICT"
	PhaseClosed     Phase = "CLOSED"
)

// Phases lists every phase, IDLE first, in lifecycle order.
var Phases = []Phase{
	PhaseIdle, PhasePending, PhaseEvidence, PhaseAnalyzing, PhasePriming,
	PhaseJointReady, PhaseResolution, PhaseVerdict, PhaseClosed,
}

// View phases: what one user's screen shows (court-protocol.md §3.2).
// RATING is declared by the original server but never produced, so it is
// absent here.
const (
	ViewIdle               = "IDLE"
	ViewPendingCreator     = "PENDING_CREATOR"
	ViewPendingPartner     = "PENDING_PARTNER"
	ViewEvidence           = "EVIDENCE"
	ViewWaitingEvidence    = "WAITING_EVIDENCE"
	ViewAnalyzing          = "ANALYZING"
	ViewPriming            = "PRIMING"
	ViewWaitingPriming     = "WAITING_PRIMING"
	ViewJointMenu          = "JOINT_MENU"
	ViewWaitingJoint       = "WAITING_JOINT"
	ViewResolutionSelect   = "RESOLUTION_SELECT"
	ViewResolutionMismatch = "RESOLUTION_MISMATCH"
	ViewWaitingResolution  = "WAITING_RESOLUTION"
	ViewVerdict            = "VERDICT"
	ViewWaitingAccept      = "WAITING_ACCEPT"
	ViewClosed             = "CLOSED"
)

// AddendumLimit is the number of addenda per session, shared by both users.
const AddendumLimit = 2

// DefaultJudgeType is the judge type of a serve without a valid one: the
// app maps anything but classic, swift and wise to swift (§4.6), and only
// those three reach the judge.
const DefaultJudgeType = JudgeSwift
