package store

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"courtmesh/home/court"
)

// expiresAfter is how far ahead the app sets court_sessions.expires_at at
// every write (court-protocol.md §4.4; never read).
const expiresAfter = 24 * time.Hour

// col is one court_sessions column and its value.
type col struct {
	name  string
	value any
}

// rowState is what a row says besides the session: whether the session ended
// (kept rows only) and the case it closed with.
type rowState struct {
	endedAt *time.Time
	caseID  *string
}

// sessionCols returns the court_sessions columns written at every write, in a
// fixed order, from s (court-protocol.md §4.4, user_a = the creator). A kept
// row of an ended session shows status and phase CLOSED; its doc keeps the
// session's own phase, IDLE.
func sessionCols(s *court.Session, st rowState) ([]col, error) {
	doc, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("store: encode session: %w", err)
	}
	status := string(s.Phase)
	if st.endedAt != nil {
		status = string(court.PhaseClosed)
	}
	cols := []col{
		{"status", status},
		{"phase", status},
		{"created_by", s.CreatorID},
		{"partner_id", s.PartnerID},
		{"couple_id", uuidOrNil(s.CoupleID)},
		{"couple_key", s.CoupleID},
		{"creator_joined", true},
		{"partner_joined", s.Phase != court.PhasePending},
		{"case_id", st.caseID},
		{"judge_type", s.JudgeType},
		{"creator_language", s.CreatorLanguage},
		{"partner_language", s.PartnerLanguage},
		{"case_language", s.CaseLanguage},
	}
	cols = append(cols, evidenceCols(s)...)
	cols = append(cols, verdictCols(s)...)
	cols = append(cols, v2Cols(s)...)
	return append(cols,
		col{"created_at", time.UnixMilli(s.CreatedAt).UTC()},
		col{"expires_at", time.Now().Add(expiresAfter).UTC()},
		col{"version", int64(s.Version)},
		col{"doc", string(doc)},
		col{"phase_deadline", msTime(s.PhaseDeadline)},
		col{"settlement_deadline", msTime(s.SettlementDeadline)},
		col{"ended_at", st.endedAt},
	), nil
}

// evidenceSide is one side of evidence_submissions.
type evidenceSide struct {
	Submitted bool   `json:"submitted"`
	Evidence  string `json:"evidence"`
	Feelings  string `json:"feelings"`
	Needs     string `json:"needs"`
}

func evidenceCols(s *court.Session) []col {
	side := func(u court.UserState) evidenceSide {
		return evidenceSide{u.EvidenceSubmitted, deref(u.Evidence), deref(u.Feelings), deref(u.Needs)}
	}
	return []col{
		{"evidence_submissions", mustJSON(map[string]evidenceSide{"creator": side(s.Creator), "partner": side(s.Partner)})},
		{"user_a_evidence", deref(s.Creator.Evidence)},
		{"user_a_feelings", deref(s.Creator.Feelings)},
		{"user_a_needs", deref(s.Creator.Needs)},
		{"user_b_evidence", deref(s.Partner.Evidence)},
		{"user_b_feelings", deref(s.Partner.Feelings)},
		{"user_b_needs", deref(s.Partner.Needs)},
	}
}

func verdictCols(s *court.Session) []col {
	requester := deref(s.SettlementRequested)
	settle := struct {
		Creator     bool   `json:"creator"`
		Partner     bool   `json:"partner"`
		RequestedAt *int64 `json:"requestedAt"`
	}{requester != "" && requester == s.CreatorID, requester != "" && requester == s.PartnerID, s.SettlementRequestedAt}
	var resolvedAt *time.Time
	if s.ResolvedAt != nil {
		t := time.UnixMilli(*s.ResolvedAt).UTC()
		resolvedAt = &t
	}
	return []col{
		{"settle_requests", mustJSON(settle)},
		{"verdict_acceptances", mustJSON(map[string]bool{"creator": s.Creator.VerdictAccepted, "partner": s.Partner.VerdictAccepted})},
		{"verdict", jsonOrNil(s.Verdict)},
		{"resolved_at", resolvedAt},
		{"addendum_history", mustJSON(nonNil(s.AddendumHistory))},
		{"addendum_count", s.AddendumCount},
		{"verdict_history", mustJSON(nonNil(s.VerdictHistory))},
	}
}

func v2Cols(s *court.Session) []col {
	return []col{
		{"analysis", jsonOrNil(s.Analysis)},
		{"resolutions", jsonOrNil(s.Resolutions)},
		{"assessed_intensity", jsonOrNil(s.AssessedIntensity)},
		{"priming_content", jsonOrNil(s.PrimingContent)},
		{"joint_menu", jsonOrNil(s.JointMenu)},
		{"user_a_priming_ready", s.Creator.PrimingReady},
		{"user_b_priming_ready", s.Partner.PrimingReady},
		{"user_a_joint_ready", s.Creator.JointReady},
		{"user_b_joint_ready", s.Partner.JointReady},
		{"user_a_resolution_pick", s.UserAResolutionPick},
		{"user_b_resolution_pick", s.UserBResolutionPick},
		{"hybrid_resolution", jsonOrNil(s.HybridResolution)},
		{"final_resolution", jsonOrNil(s.FinalResolution)},
	}
}

// Statements built once from the column list, so names and values cannot
// drift apart.
var (
	insertSessionSQL, updateSessionSQL = sessionSQL()
	sessionColCount                    = len(mustCols())
)

// sessionSQL returns the INSERT (arguments: id, owner_epoch, home_region, then
// the columns) and the fenced UPDATE (arguments: the columns, then id,
// owner_epoch, previous version).
func sessionSQL() (insert, update string) {
	cols := mustCols()
	names := make([]string, len(cols))
	params := make([]string, len(cols))
	sets := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		params[i] = fmt.Sprintf("$%d", i+4)
		sets[i] = fmt.Sprintf("%s = $%d", c.name, i+1)
	}
	n := len(cols)
	insert = "INSERT INTO court_sessions (id, owner_epoch, home_region, " + strings.Join(names, ", ") +
		") VALUES ($1, $2, $3, " + strings.Join(params, ", ") + ")"
	update = "UPDATE court_sessions SET " + strings.Join(sets, ", ") + ", updated_at = now()" +
		fmt.Sprintf(" WHERE id = $%d AND owner_epoch = $%d AND version = $%d AND ended_at IS NULL", n+1, n+2, n+3)
	return insert, update
}

// mustCols returns the columns of an empty session; it cannot fail.
func mustCols() []col {
	cols, err := sessionCols(&court.Session{}, rowState{})
	if err != nil {
		panic(err)
	}
	return cols
}

func values(cols []col) []any {
	v := make([]any, len(cols))
	for i, c := range cols {
		v[i] = c.value
	}
	return v
}

// uuidOrNil returns s when it is a uuid in canonical text form, else nil
// (R22: the client's couple id is a composite string).
func uuidOrNil(s string) any {
	if !isUUID(s) {
		return nil
	}
	return s
}

// isUUID reports whether s is a uuid in canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// jsonOrNil returns raw for a jsonb argument, or nil (SQL NULL) for a missing
// value or JSON null.
func jsonOrNil(raw json.RawMessage) any {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return string(raw)
}

// mustJSON encodes v, a value built here from plain fields that always encodes.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("store: encode %T: %v", v, err))
	}
	return string(b)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func msTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
