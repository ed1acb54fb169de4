package court

import "encoding/json"

// Effect is a side effect of a transition. The home commits a transition's
// effects in the same Postgres transaction as the new state (SaveCase rows,
// outbox rows for Notify and MemoryJob) or acts on them once the commit
// succeeded (JudgeCall, Emit), so a refused or repeated transition changes
// nothing twice.
type Effect interface{ effect() }

// Notify is a push notification (court-protocol.md §4.7), delivered through
// the outbox.
type Notify struct {
	UserIDs []string `json:"userIds"`
	// Type is court_session, evidence_submitted or settlement_request.
	Type  string `json:"type"`
	Title string `json:"title"`
	Body  string `json:"body"`
	// SessionID goes in the push data {type, screen:'courtroom', sessionId}.
	SessionID string `json:"sessionId"`
}

// MemoryJob is a memory-extraction job for the app's stenographer
// (court-protocol.md §3.4 step 1), delivered through the outbox. CaseID is nil
// for a tossed session.
type MemoryJob struct {
	SessionID string  `json:"sessionId"`
	CaseID    *string `json:"caseId"`
	// Case is the case data the job needs (the users' evidence and the
	// verdict), built at the time of the transition.
	Case json.RawMessage `json:"case"`
}

// SaveCase asks the store to insert the session's cases row (user a/b sorted
// as strings) and one verdicts row per VerdictHistory entry, with id CaseID,
// in the closing transaction (court-protocol.md §4.5).
type SaveCase struct {
	CaseID string `json:"caseId"`
}

// CountUsage counts one case of JudgeType for the creator's couple in the
// usage period of At, unix milliseconds (court-protocol.md §4.6): the app's increment_usage
// after each successful deliberation, the first and each addendum re-run.
// The store runs it in the transaction that commits the transition, so a
// retried or re-owned transition never counts twice.
type CountUsage struct {
	UserID    string `json:"userId"`
	PartnerID string `json:"partnerId"`
	JudgeType string `json:"judgeType"`
	At        int64  `json:"at"`
}

// JudgeKind names a judge call.
type JudgeKind string

// Judge calls.
const (
	// JudgeDeliberate is phase 1 (analysis, resolutions) then phase 2
	// (priming, joint menu), started on entering ANALYZING.
	JudgeDeliberate JudgeKind = "deliberate"
	// JudgeHybrid is the hybrid resolution of a mismatch (§3.7).
	JudgeHybrid JudgeKind = "hybrid"
)

// JudgeCall asks the home to call the judge after the commit. Its result is
// applied only while the session is still at Version (fixes R8 and R10).
type JudgeCall struct {
	Kind    JudgeKind `json:"kind"`
	Version uint64    `json:"version"`
}

// Emit is a server event for every socket of one user, other than
// court:state: court:settlement_requested and court:settlement_declined.
type Emit struct {
	UserID  string          `json:"userId"`
	Name    string          `json:"name"`
	Payload json.RawMessage `json:"payload"`
}

func (Notify) effect()       {}
func (MemoryJob) effect()    {}
func (SaveCase) effect()     {}
func (JudgeCall) effect()    {}
func (Emit) effect()         {}
func (CaseResolved) effect() {}
func (CountUsage) effect()   {}
