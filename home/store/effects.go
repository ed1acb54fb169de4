package store

import (
	"encoding/json"
	"fmt"
	"time"

	"courtmesh/appdata"
	"courtmesh/home/court"
	"courtmesh/protocol"
)

// Outbox kinds (court_outbox.kind).
const (
	KindPush         = "push"
	KindMemoryJob    = "memory_job"
	KindCaseResolved = "case_resolved"
)

// Push is the payload of a push outbox row: one notification to one user
// (court-protocol.md §4.7). Category is the preference category the
// receiver checks (should_send_notification(userId, category)); Type is the
// push type, also in the data the client reads.
type Push struct {
	UserID   string   `json:"userId"`
	Type     string   `json:"type"`
	Category string   `json:"category"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	Data     PushData `json:"data"`
}

// PushData is the data of a push.
type PushData struct {
	Type      string `json:"type"`
	Screen    string `json:"screen"` // always "courtroom"
	SessionID string `json:"sessionId"`
}

// MemoryJob is the payload of a memory_job outbox row: the app's
// case_extraction job (court-protocol.md §3.4 step 1).
type MemoryJob struct {
	JobType    string          `json:"jobType"`    // always "case_extraction"
	SourceType string          `json:"sourceType"` // always "case"
	SessionID  string          `json:"sessionId"`
	CaseID     *string         `json:"caseId"`
	Case       json.RawMessage `json:"case"`
}

// outboxRow is one court_outbox row to insert.
type outboxRow struct {
	kind    string
	payload string
}

// plan is what a transition's effects ask of its transaction.
type plan struct {
	saveCase *court.SaveCase
	outbox   []outboxRow
	// usage are the appdata.Increment statements of the court.CountUsage
	// effects, one each.
	usage []appdata.Statement
}

// planEffects sorts the effects the store commits; JudgeCall and Emit are
// acted on by the caller after the commit and ignored here. CountUsage runs
// the app's increment_usage in the transaction (package appdata), so the
// count is made exactly when the transition is.
func planEffects(sessionID string, effects []court.Effect) (plan, error) {
	var p plan
	for _, e := range effects {
		switch e := e.(type) {
		case court.Notify:
			p.outbox = append(p.outbox, pushRows(sessionID, e)...)
		case court.MemoryJob:
			job := MemoryJob{"case_extraction", "case", sessionID, e.CaseID, e.Case}
			if len(job.Case) == 0 {
				job.Case = json.RawMessage("null")
			}
			b, err := json.Marshal(job)
			if err != nil {
				return plan{}, fmt.Errorf("store: encode memory job: %w", err)
			}
			p.outbox = append(p.outbox, outboxRow{KindMemoryJob, string(b)})
		case court.CaseResolved:
			p.outbox = append(p.outbox, outboxRow{KindCaseResolved, mustJSON(e)})
		case court.CountUsage:
			// Like a failing increment_usage, a count that cannot be made
			// (user ids that are not UUIDs, which no verified token has)
			// never blocks the transition.
			if st, err := appdata.Increment(e.UserID, e.PartnerID, e.JudgeType, time.UnixMilli(e.At)); err == nil {
				p.usage = append(p.usage, st)
			}
		case court.SaveCase:
			if p.saveCase != nil {
				return plan{}, fmt.Errorf("store: two SaveCase effects in one transition")
			}
			if !protocol.IsUUID(e.CaseID) {
				return plan{}, fmt.Errorf("store: case id %q is not a uuid", e.CaseID)
			}
			p.saveCase = &e
		}
	}
	return p, nil
}

// pushRows returns one push row per recipient of n.
func pushRows(sessionID string, n court.Notify) []outboxRow {
	rows := make([]outboxRow, 0, len(n.UserIDs))
	for _, u := range n.UserIDs {
		p := Push{UserID: u, Type: n.Type, Category: court.Category(n.Type), Title: n.Title, Body: n.Body,
			Data: PushData{Type: n.Type, Screen: "courtroom", SessionID: sessionID}}
		rows = append(rows, outboxRow{KindPush, mustJSON(p)})
	}
	return rows
}
