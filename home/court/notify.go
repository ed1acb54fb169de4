package court

import "encoding/json"

// Push notification types (court-protocol.md §4.7).
const (
	NotifyCourtSession      = "court_session"
	NotifyEvidenceSubmitted = "evidence_submitted"
	NotifySettlementRequest = "settlement_request"
)

// Push notification texts (court-protocol.md §3.5 T1, T5 and §3.8).
const (
	titleCourtSession      = "Court Session Request"
	bodyCourtSession       = "Your partner wants to settle a dispute in Cat Court"
	titleEvidenceSubmitted = "Evidence Complete"
	bodyEvidenceSubmitted  = "Both partners have submitted evidence. Judge Whiskers is analyzing..."
	titleSettlement        = "Settlement Request"
	bodySettlement         = "Your partner is requesting to settle this dispute peacefully"
)

// Server events other than court:state (court-protocol.md §2.6), carried by
// Emit effects with payload {"byUserId": ...}.
const (
	EventSettlementRequested = "court:settlement_requested"
	EventSettlementDeclined  = "court:settlement_declined"
)

// byUser is the payload of the settlement events.
type byUser struct {
	ByUserID string `json:"byUserId"`
}

// mustJSON encodes v. Every value the package encodes is built from strings,
// booleans and raw JSON that was validated on the way in (a session document
// decoded from JSON, or a judge result checked by ApplyDeliberation and
// ApplyHybrid), so an error is a broken invariant.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("court: encode: " + err.Error())
	}
	return b
}
