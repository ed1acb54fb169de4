package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"courtmesh/home/court"
)

// The big values of a session, the LLM outputs and the verdicts, live in
// their own columns only: the doc column holds the rest of the session, so
// that a transition which does not change them writes neither them nor a
// copy of them in doc (changedGroups), and reading a session rebuilds it
// from doc and those columns (storedRow).

// docOf returns s without the values kept in their own columns. Its doc
// column is court.AppendJSON's encoding, byte for byte json.Marshal's,
// written at every commit without reflection.
func docOf(s *court.Session) *court.Session {
	d := *s
	d.Verdict, d.VerdictHistory = nil, nil
	d.Analysis, d.Resolutions, d.AssessedIntensity, d.PrimingContent, d.JointMenu = nil, nil, nil, nil, nil
	d.HybridResolution, d.FinalResolution = nil, nil
	return &d
}

// readCols are the columns a session is rebuilt from, in storedRow.dest
// order.
const readCols = "doc, verdict, verdict_history, analysis, resolutions, assessed_intensity, " +
	"priming_content, joint_menu, hybrid_resolution, final_resolution"

// storedRow is a session as read from readCols; a NULL column reads as nil.
type storedRow struct {
	doc, verdict, verdictHistory                                        []byte
	analysis, resolutions, intensity, priming, jointMenu, hybrid, final []byte
}

// dest returns the scan destinations of readCols.
func (r *storedRow) dest() []any {
	return []any{&r.doc, &r.verdict, &r.verdictHistory, &r.analysis, &r.resolutions, &r.intensity,
		&r.priming, &r.jointMenu, &r.hybrid, &r.final}
}

// session rebuilds the session. Postgres returns jsonb reformatted (spaces,
// keys in its own order); the values are re-encoded compact and escaped, as
// json.Marshal writes them, so that court.StateEncoder copies them as they
// are.
func (r *storedRow) session() (*court.Session, error) {
	var s court.Session
	if err := json.Unmarshal(r.doc, &s); err != nil {
		return nil, fmt.Errorf("store: decode session: %w", err)
	}
	raws := []struct {
		dst *json.RawMessage
		src []byte
	}{
		{&s.Verdict, r.verdict}, {&s.Analysis, r.analysis}, {&s.Resolutions, r.resolutions},
		{&s.AssessedIntensity, r.intensity}, {&s.PrimingContent, r.priming}, {&s.JointMenu, r.jointMenu},
		{&s.HybridResolution, r.hybrid}, {&s.FinalResolution, r.final},
	}
	for _, v := range raws {
		raw, err := compact(v.src)
		if err != nil {
			return nil, err
		}
		*v.dst = raw
	}
	s.VerdictHistory = nil
	if r.verdictHistory != nil {
		if err := json.Unmarshal(r.verdictHistory, &s.VerdictHistory); err != nil {
			return nil, fmt.Errorf("store: decode verdict history: %w", err)
		}
	}
	for i := range s.VerdictHistory {
		raw, err := compact(s.VerdictHistory[i].Content)
		if err != nil {
			return nil, err
		}
		s.VerdictHistory[i].Content = raw
	}
	return &s, nil
}

// compact returns the JSON value raw as json.Marshal writes a
// json.RawMessage; nil for none or JSON null.
func compact(raw []byte) (json.RawMessage, error) {
	if isNullJSON(raw) {
		return nil, nil
	}
	b, err := json.Marshal(json.RawMessage(raw))
	if err != nil {
		return nil, fmt.Errorf("store: decode session value: %w", err)
	}
	return b, nil
}

// changedGroups returns the groups of columns whose values differ between
// prev and next.
func changedGroups(prev, next *court.Session) group {
	var g group
	if !sameEvidence(prev.Creator, next.Creator) || !sameEvidence(prev.Partner, next.Partner) {
		g |= groupEvidence
	}
	if !sameRaw(prev.Verdict, next.Verdict) || !slices.EqualFunc(prev.VerdictHistory, next.VerdictHistory, sameVerdictVersion) {
		g |= groupVerdict
	}
	if !slices.Equal(prev.AddendumHistory, next.AddendumHistory) {
		g |= groupAddenda
	}
	if !sameRaw(prev.Analysis, next.Analysis) || !sameRaw(prev.Resolutions, next.Resolutions) ||
		!sameRaw(prev.AssessedIntensity, next.AssessedIntensity) || !sameRaw(prev.PrimingContent, next.PrimingContent) ||
		!sameRaw(prev.JointMenu, next.JointMenu) {
		g |= groupDeliberation
	}
	if !sameRaw(prev.HybridResolution, next.HybridResolution) || !sameRaw(prev.FinalResolution, next.FinalResolution) {
		g |= groupResolution
	}
	return g
}

func sameEvidence(a, b court.UserState) bool {
	return a.EvidenceSubmitted == b.EvidenceSubmitted && deref(a.Evidence) == deref(b.Evidence) &&
		deref(a.Feelings) == deref(b.Feelings) && deref(a.Needs) == deref(b.Needs)
}

func sameVerdictVersion(a, b court.VerdictVersion) bool {
	return a.Version == b.Version && a.CreatedAt == b.CreatedAt && sameRaw(a.Content, b.Content) &&
		samePtr(a.AddendumBy, b.AddendumBy) && samePtr(a.AddendumText, b.AddendumText)
}

// sameRaw reports whether a and b write the same column value. Unchanged
// values are usually the same memory, which bytes.Equal sees at once.
func sameRaw(a, b json.RawMessage) bool {
	if isNullJSON(a) || isNullJSON(b) {
		return isNullJSON(a) == isNullJSON(b)
	}
	return bytes.Equal(a, b)
}

func samePtr(a, b *string) bool { return (a == nil) == (b == nil) && deref(a) == deref(b) }

func isNullJSON(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }
