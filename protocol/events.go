package protocol

import "slices"

// Client events (court-protocol.md §2.5), and the server events the edge
// writes to a socket.
const (
	Register              = "court:register"
	Serve                 = "court:serve"
	Accept                = "court:accept"
	Cancel                = "court:cancel"
	Dismiss               = "court:dismiss"
	SubmitEvidence        = "court:submit_evidence"
	AcceptVerdict         = "court:accept_verdict"
	RequestSettle         = "court:request_settle"
	AcceptSettle          = "court:accept_settle"
	DeclineSettle         = "court:decline_settle"
	SubmitAddendum        = "court:submit_addendum"
	PrimingComplete       = "court:priming_complete"
	JointReady            = "court:joint_ready"
	ResolutionPick        = "court:resolution_pick"
	ResolutionAcceptOther = "court:resolution_accept_partner"
	ResolutionHybrid      = "court:resolution_hybrid"

	// State is the server event carrying a user's view of the court.
	State = "court:state"
	// Error is the server event carrying a refusal's message.
	Error = "court:error"
)

// ReadState is the mesh operation that reads a user's state without
// registering a socket: what the REST read GET /api/court/state forwards
// to the owning home. It is not a client event: a socket sending it is
// answered "Unknown event".
const ReadState = "mesh:read_state"

// clientEvents lists the client events, in the order of §2.5.
var clientEvents = [...]string{
	Register, Serve, Accept, Cancel, Dismiss, SubmitEvidence, AcceptVerdict, RequestSettle,
	AcceptSettle, DeclineSettle, SubmitAddendum, PrimingComplete, JointReady, ResolutionPick,
	ResolutionAcceptOther, ResolutionHybrid,
}

// ClientEvents returns the client events, in the order of §2.5.
func ClientEvents() []string { return slices.Clone(clientEvents[:]) }

// IsClientEvent reports whether name is a client event.
func IsClientEvent(name string) bool { return slices.Contains(clientEvents[:], name) }

// LabelOther is the metric label of every name that is neither a client
// event nor ReadState.
const LabelOther = "other"

// Label is the event label of a metric: the name itself ("court:serve",
// "mesh:read_state") for a client event or ReadState, else LabelOther, so
// a client cannot grow a metric's label set.
func Label(name string) string {
	if name == ReadState || IsClientEvent(name) {
		return name
	}
	return LabelOther
}

// Labels returns every value Label returns.
func Labels() []string { return append(ClientEvents(), ReadState, LabelOther) }
