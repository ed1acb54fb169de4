package protocol

// RESTPrefix is the path of every REST route (court-protocol.md §5).
const RESTPrefix = "/api/court/"

// RESTState is the path, below RESTPrefix, of the state read (GET); it
// forwards ReadState.
const RESTState = "state"

// RESTRoutes maps each POST route, below RESTPrefix, to the client event it
// forwards. court:dismiss has no route: the client only resets locally
// (§2.7).
var RESTRoutes = map[string]string{
	"serve":                     Serve,
	"accept":                    Accept,
	"cancel":                    Cancel,
	"evidence":                  SubmitEvidence,
	"verdict/accept":            AcceptVerdict,
	"settle/request":            RequestSettle,
	"settle/accept":             AcceptSettle,
	"settle/decline":            DeclineSettle,
	"addendum":                  SubmitAddendum,
	"priming/complete":          PrimingComplete,
	"joint/ready":               JointReady,
	"resolution/pick":           ResolutionPick,
	"resolution/accept-partner": ResolutionAcceptOther,
	"resolution/hybrid":         ResolutionHybrid,
}
