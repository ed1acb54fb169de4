package store

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"courtmesh/home/court"
	"courtmesh/protocol"
)

// expiresAfter is how far ahead the app sets court_sessions.expires_at at
// every write (court-protocol.md §4.4; never read).
const expiresAfter = 24 * time.Hour

// col is one court_sessions column, its value, and the group it is written
// with.
type col struct {
	name  string
	value any
	group group
}

// group is a set of columns that a commit writes only when one of them
// changed (changedGroups); the columns of no group are written at every
// write. Each set of groups is one UPDATE text, so there are at most
// 1<<len(groups) of them for pgx to prepare.
type group uint8

// Groups of big columns.
const (
	groupEvidence     group = 1 << iota // evidence_submissions, user_[ab]_{evidence,feelings,needs}
	groupVerdict                        // verdict, verdict_history
	groupAddenda                        // addendum_history
	groupDeliberation                   // analysis, resolutions, assessed_intensity, priming_content, joint_menu
	groupResolution                     // hybrid_resolution, final_resolution
	allGroups         = groupResolution<<1 - 1
)

// rowState is what a row says besides the session: whether the session ended
// (kept rows only) and the case it closed with.
type rowState struct {
	endedAt *time.Time
	caseID  *string
}

// columnCount is how many columns sessionCols returns, the room it
// allocates for them at once (TestColumnCountIsTheCount keeps it so).
const columnCount = 47

// sessionCols returns the court_sessions columns written at every write, in a
// fixed order, from s (court-protocol.md §4.4, user_a = the creator). A kept
// row of an ended session shows status and phase CLOSED; its doc keeps the
// session's own phase, IDLE.
func sessionCols(s *court.Session, st rowState) ([]col, error) {
	doc, err := court.AppendJSON(nil, docOf(s))
	if err != nil {
		return nil, fmt.Errorf("store: encode session: %w", err)
	}
	status := string(s.Phase)
	if st.endedAt != nil {
		status = string(court.PhaseClosed)
	}
	cols := append(make([]col, 0, columnCount),
		col{"status", status, 0},
		col{"phase", status, 0},
		col{"created_by", s.CreatorID, 0},
		col{"partner_id", s.PartnerID, 0},
		col{"couple_id", uuidOrNil(s.CoupleID), 0},
		col{"couple_key", s.CoupleID, 0},
		col{"creator_joined", true, 0},
		col{"partner_joined", s.Phase != court.PhasePending, 0},
		col{"case_id", st.caseID, 0},
		col{"judge_type", s.JudgeType, 0},
		col{"creator_language", s.CreatorLanguage, 0},
		col{"partner_language", s.PartnerLanguage, 0},
		col{"case_language", s.CaseLanguage, 0},
	)
	cols = appendEvidenceCols(cols, s)
	cols = appendVerdictCols(cols, s)
	cols = appendV2Cols(cols, s)
	return append(cols,
		col{"created_at", time.UnixMilli(s.CreatedAt).UTC(), 0},
		col{"expires_at", time.Now().Add(expiresAfter).UTC(), 0},
		col{"version", int64(s.Version), 0},
		col{"doc", doc, 0},
		col{"phase_deadline", msTime(s.PhaseDeadline), 0},
		col{"settlement_deadline", msTime(s.SettlementDeadline), 0},
		col{"ended_at", st.endedAt, 0},
	), nil
}

// evidenceSide is one side of evidence_submissions.
type evidenceSide struct {
	Submitted bool   `json:"submitted"`
	Evidence  string `json:"evidence"`
	Feelings  string `json:"feelings"`
	Needs     string `json:"needs"`
}

func appendEvidenceCols(cols []col, s *court.Session) []col {
	side := func(u court.UserState) evidenceSide {
		return evidenceSide{u.EvidenceSubmitted, deref(u.Evidence), deref(u.Feelings), deref(u.Needs)}
	}
	return append(cols,
		col{"evidence_submissions", lazy(func() any {
			return mustJSON(map[string]evidenceSide{"creator": side(s.Creator), "partner": side(s.Partner)})
		}), groupEvidence},
		col{"user_a_evidence", deref(s.Creator.Evidence), groupEvidence},
		col{"user_a_feelings", deref(s.Creator.Feelings), groupEvidence},
		col{"user_a_needs", deref(s.Creator.Needs), groupEvidence},
		col{"user_b_evidence", deref(s.Partner.Evidence), groupEvidence},
		col{"user_b_feelings", deref(s.Partner.Feelings), groupEvidence},
		col{"user_b_needs", deref(s.Partner.Needs), groupEvidence},
	)
}

func appendVerdictCols(cols []col, s *court.Session) []col {
	var resolvedAt *time.Time
	if s.ResolvedAt != nil {
		t := time.UnixMilli(*s.ResolvedAt).UTC()
		resolvedAt = &t
	}
	return append(cols,
		col{"settle_requests", settleRequests(s), 0},
		col{"verdict_acceptances", sides(make([]byte, 0, 32), s.Creator.VerdictAccepted, s.Partner.VerdictAccepted, '}'), 0},
		col{"verdict", jsonOrNil(s.Verdict), groupVerdict},
		col{"resolved_at", resolvedAt, 0},
		col{"addendum_history", lazy(func() any { return mustJSON(nonNil(s.AddendumHistory)) }), groupAddenda},
		col{"addendum_count", s.AddendumCount, 0},
		col{"verdict_history", lazy(func() any { return court.AppendVerdictHistory(nil, s.VerdictHistory) }), groupVerdict},
	)
}

// settleRequests is the settle_requests column: who asked for a settlement
// and when, {"creator":…,"partner":…,"requestedAt":…}.
func settleRequests(s *court.Session) []byte {
	requester := deref(s.SettlementRequested)
	b := sides(make([]byte, 0, 64), requester != "" && requester == s.CreatorID, requester != "" && requester == s.PartnerID, ',')
	b = append(b, `"requestedAt":`...)
	if s.SettlementRequestedAt == nil {
		return append(b, "null}"...)
	}
	return append(strconv.AppendInt(b, *s.SettlementRequestedAt, 10), '}')
}

// sides appends {"creator":creator,"partner":partner then next: the
// object's end or the comma before its next member.
func sides(dst []byte, creator, partner bool, next byte) []byte {
	dst = strconv.AppendBool(append(dst, `{"creator":`...), creator)
	dst = strconv.AppendBool(append(dst, `,"partner":`...), partner)
	return append(dst, next)
}

func appendV2Cols(cols []col, s *court.Session) []col {
	return append(cols,
		col{"analysis", jsonOrNil(s.Analysis), groupDeliberation},
		col{"resolutions", jsonOrNil(s.Resolutions), groupDeliberation},
		col{"assessed_intensity", jsonOrNil(s.AssessedIntensity), groupDeliberation},
		col{"priming_content", jsonOrNil(s.PrimingContent), groupDeliberation},
		col{"joint_menu", jsonOrNil(s.JointMenu), groupDeliberation},
		col{"user_a_priming_ready", s.Creator.PrimingReady, 0},
		col{"user_b_priming_ready", s.Partner.PrimingReady, 0},
		col{"user_a_joint_ready", s.Creator.JointReady, 0},
		col{"user_b_joint_ready", s.Partner.JointReady, 0},
		col{"user_a_resolution_pick", s.UserAResolutionPick, 0},
		col{"user_b_resolution_pick", s.UserBResolutionPick, 0},
		col{"hybrid_resolution", jsonOrNil(s.HybridResolution), groupResolution},
		col{"final_resolution", jsonOrNil(s.FinalResolution), groupResolution},
	)
}

// Statements built once from the column list, so names and values cannot
// drift apart: the INSERT, and the fenced UPDATE for every set of groups.
// Each also inserts the transition's court_transitions row, so that a
// transition runs one statement less (docs/decisions.md, issue 11).
var (
	insertSessionSQL = insertSQL(mustCols())
	updateSessionSQL = func() (u [allGroups + 1]string) {
		for g := range u {
			u[g] = updateSQL(withGroups(mustCols(), group(g)))
		}
		return u
	}()
	deleteFencedSQL = `WITH w AS (DELETE FROM court_sessions
		WHERE id = $1 AND owner_epoch = $2 AND version = $3 AND ended_at IS NULL RETURNING 1), ` +
		historySQL(1, 4, 5, 2, 6, 7) + ` SELECT court_fence(count(*)) FROM w`
)

// historySQL returns the CTE "h" that inserts the court_transitions row, one
// for each row of "w", from the parameters numbered id, version, phase,
// epoch, node and event.
func historySQL(id, version, phase, epoch, node, event int) string {
	return fmt.Sprintf(`h AS (INSERT INTO court_transitions (session_id, version, phase, owner_epoch, node, event)
		SELECT $%d, $%d, $%d, $%d, $%d, $%d FROM w)`, id, version, phase, epoch, node, event)
}

// insertSQL returns the INSERT of cols with its transition row (arguments:
// id, owner_epoch, home_region, then the columns, then the history's
// version, phase, node and event).
func insertSQL(cols []col) string {
	names := make([]string, len(cols))
	params := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		params[i] = fmt.Sprintf("$%d", i+4)
	}
	n := len(cols) + 3
	return "WITH w AS (INSERT INTO court_sessions (id, owner_epoch, home_region, " + strings.Join(names, ", ") +
		") VALUES ($1, $2, $3, " + strings.Join(params, ", ") + ") RETURNING 1), " +
		historySQL(1, n+1, n+2, 2, n+3, n+4) + " SELECT count(*) FROM w"
}

// updateSQL returns the fenced UPDATE of cols with its transition row
// (arguments: the columns, then id, owner_epoch, previous version, then the
// history's version, phase, node and event), raising CM001 when it matches
// no row: the transition row is then not written either.
func updateSQL(cols []col) string {
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = fmt.Sprintf("%s = $%d", c.name, i+1)
	}
	n := len(cols)
	return "WITH w AS (UPDATE court_sessions SET " + strings.Join(sets, ", ") + ", updated_at = now()" +
		fmt.Sprintf(" WHERE id = $%d AND owner_epoch = $%d AND version = $%d AND ended_at IS NULL", n+1, n+2, n+3) +
		" RETURNING 1), " + historySQL(n+1, n+4, n+5, n+2, n+6, n+7) + " SELECT court_fence(count(*)) FROM w"
}

// withGroups returns the columns of no group and those of groups g.
func withGroups(cols []col, g group) []col {
	out := make([]col, 0, len(cols))
	for _, c := range cols {
		if c.group == 0 || c.group&g != 0 {
			out = append(out, c)
		}
	}
	return out
}

// mustCols returns the columns of an empty session; it cannot fail.
func mustCols() []col {
	cols, err := sessionCols(&court.Session{}, rowState{})
	if err != nil {
		panic(err)
	}
	return cols
}

// lazy is a column value computed only if the column is written.
type lazy func() any

// appendValues appends the values of withGroups(cols, g), in that order,
// computing the lazy ones.
func appendValues(dst []any, cols []col, g group) []any {
	for _, c := range cols {
		if c.group != 0 && c.group&g == 0 {
			continue
		}
		v := c.value
		if f, ok := v.(lazy); ok {
			v = f()
		}
		dst = append(dst, v)
	}
	return dst
}

// uuidOrNil returns s when it is a uuid in canonical text form, else nil
// (R22: the client's couple id is a composite string).
func uuidOrNil(s string) any {
	if !protocol.IsUUID(s) {
		return nil
	}
	return s
}

// jsonOrNil returns raw for a jsonb argument, or nil (SQL NULL) for a missing
// value or JSON null. pgx sends a []byte as JSON text as it is.
func jsonOrNil(raw json.RawMessage) any {
	if isNullJSON(raw) {
		return nil
	}
	return []byte(raw)
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
