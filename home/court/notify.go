package court

import "encoding/json"

// Push notification types (court-protocol.md §4.7).
const (
	NotifyCourtSession      = "court_session"
	NotifyEvidenceSubmitted = "evidence_submitted"
	NotifySettlementRequest = "settlement_request"
)

// CategoryCourtSessions is the notification preference category (the app's
// notification_preferences, checked by should_send_notification; §4.7) of
// every push the court sends: the summons, evidence complete and a
// settlement request are all court-session notifications. The original sent
// its push types where the category belongs, so users' category settings
// were ignored (§6 R19).
const CategoryCourtSessions = "court_sessions"

// Category is the preference category of a push of type notifyType, "" for
// a type the court does not send.
func Category(notifyType string) string {
	switch notifyType {
	case NotifyCourtSession, NotifyEvidenceSubmitted, NotifySettlementRequest:
		return CategoryCourtSessions
	}
	return ""
}

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
