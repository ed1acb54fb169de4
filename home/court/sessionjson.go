package court

import (
	"encoding/json"
	"strconv"
)

// AppendJSON appends s encoded byte for byte as json.Marshal(s) encodes it,
// without reflection: the store writes a session's document at every commit
// (home/store, the doc column). Raw values are copied as they are when they
// are already compact and escaped, else compacted as json.Marshal would. It
// fails only for a raw value that is not valid JSON, as json.Marshal would;
// a raw value that is empty but not nil, which json.Marshal refuses, is
// written as null, as the session's invariant reads it (Session).
func AppendJSON(dst []byte, s *Session) ([]byte, error) {
	if n := jsonLen(s); cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	w := jsonWriter{b: dst}
	w.str(`{"id":`, s.ID)
	w.str(`,"coupleId":`, s.CoupleID)
	w.str(`,"creatorId":`, s.CreatorID)
	w.str(`,"partnerId":`, s.PartnerID)
	w.str(`,"phase":`, string(s.Phase))
	w.strPtr(`,"caseId":`, s.CaseID)
	w.str(`,"judgeType":`, s.JudgeType)
	w.str(`,"creatorLanguage":`, s.CreatorLanguage)
	w.str(`,"partnerLanguage":`, s.PartnerLanguage)
	w.str(`,"caseLanguage":`, s.CaseLanguage)
	w.userState(`,"creator":`, &s.Creator)
	w.userState(`,"partner":`, &s.Partner)
	w.rawValue(`,"verdict":`, s.Verdict)
	list(&w, `,"addendumHistory":`, s.AddendumHistory, addendum)
	w.int(`,"addendumCount":`, int64(s.AddendumCount))
	list(&w, `,"verdictHistory":`, s.VerdictHistory, verdictVersion)
	w.strPtr(`,"settlementRequested":`, s.SettlementRequested)
	w.intPtr(`,"settlementRequestedAt":`, s.SettlementRequestedAt)
	w.int(`,"createdAt":`, s.CreatedAt)
	w.int(`,"phaseStartedAt":`, s.PhaseStartedAt)
	w.intPtr(`,"resolvedAt":`, s.ResolvedAt)
	w.rawValue(`,"analysis":`, s.Analysis)
	w.rawValue(`,"resolutions":`, s.Resolutions)
	w.rawValue(`,"assessedIntensity":`, s.AssessedIntensity)
	w.rawValue(`,"historicalContext":`, s.HistoricalContext)
	w.rawValue(`,"primingContent":`, s.PrimingContent)
	w.rawValue(`,"jointMenu":`, s.JointMenu)
	w.strPtr(`,"userAResolutionPick":`, s.UserAResolutionPick)
	w.strPtr(`,"userBResolutionPick":`, s.UserBResolutionPick)
	w.rawValue(`,"hybridResolution":`, s.HybridResolution)
	w.bool(`,"hybridResolutionPending":`, s.HybridResolutionPending)
	w.rawValue(`,"finalResolution":`, s.FinalResolution)
	w.picks(`,"mismatchOriginal":`, s.MismatchOriginal)
	w.picks(`,"mismatchPicks":`, s.MismatchPicks)
	w.strPtr(`,"mismatchLock":`, s.MismatchLock)
	w.strPtr(`,"mismatchLockBy":`, s.MismatchLockBy)
	w.uint(`,"version":`, s.Version)
	w.int(`,"phaseDeadline":`, s.PhaseDeadline)
	w.int(`,"settlementDeadline":`, s.SettlementDeadline)
	if s.EndReason != "" {
		w.str(`,"endReason":`, string(s.EndReason))
	}
	w.uint(`,"deliberationVersion":`, s.DeliberationVersion)
	w.uint(`,"hybridVersion":`, s.HybridVersion)
	w.b = append(w.b, '}')
	return w.b, w.err
}

// jsonLen is about the length of AppendJSON's encoding of s, so that the
// buffer is allocated once: the keys and small values, the texts with room
// for some escaping, and the raw values.
func jsonLen(s *Session) int {
	n := 1536
	text := func(p *string) {
		if p != nil {
			n += len(*p) + len(*p)/8
		}
	}
	for _, u := range []*UserState{&s.Creator, &s.Partner} {
		text(u.Evidence)
		text(u.Feelings)
		text(u.Needs)
	}
	for i := range s.AddendumHistory {
		n += 96 + len(s.AddendumHistory[i].Text) + len(s.AddendumHistory[i].Text)/8
	}
	for i := range s.VerdictHistory {
		n += 128 + len(s.VerdictHistory[i].Content)
		text(s.VerdictHistory[i].AddendumText)
	}
	for _, raw := range []json.RawMessage{s.Verdict, s.Analysis, s.Resolutions, s.AssessedIntensity,
		s.HistoricalContext, s.PrimingContent, s.JointMenu, s.HybridResolution, s.FinalResolution} {
		n += len(raw)
	}
	return n
}

func (w *jsonWriter) uint(key string, v uint64) {
	w.b = strconv.AppendUint(append(w.b, key...), v, 10)
}

// rawValue appends a raw JSON value as json.Marshal writes a
// json.RawMessage, null when it holds none.
func (w *jsonWriter) rawValue(key string, raw json.RawMessage) {
	w.b = append(w.b, key...)
	if c := w.compact(raw); c != nil {
		w.b = append(w.b, c...)
	} else {
		w.b = append(w.b, "null"...)
	}
}

func (w *jsonWriter) userState(key string, u *UserState) {
	w.b = append(w.b, key...)
	w.bool(`{"evidenceSubmitted":`, u.EvidenceSubmitted)
	w.strPtr(`,"evidence":`, u.Evidence)
	w.strPtr(`,"feelings":`, u.Feelings)
	if u.Needs != nil {
		w.str(`,"needs":`, *u.Needs)
	}
	w.bool(`,"verdictAccepted":`, u.VerdictAccepted)
	w.bool(`,"primingReady":`, u.PrimingReady)
	w.bool(`,"jointReady":`, u.JointReady)
	w.b = append(w.b, '}')
}

// list appends xs as a JSON array under key, each element written by elem;
// a nil slice is null, as json.Marshal writes it.
func list[T any](w *jsonWriter, key string, xs []T, elem func(w *jsonWriter, x *T)) {
	w.b = append(w.b, key...)
	if xs == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.b = append(w.b, '[')
	for i := range xs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		elem(w, &xs[i])
	}
	w.b = append(w.b, ']')
}

// addendum appends one entry of the addendum history.
func addendum(w *jsonWriter, a *Addendum) {
	w.str(`{"userId":`, a.UserID)
	w.str(`,"fromUser":`, a.FromUser)
	w.str(`,"text":`, a.Text)
	w.int(`,"submittedAt":`, a.SubmittedAt)
	w.b = append(w.b, '}')
}

// verdictVersion appends one entry of the verdict history.
func verdictVersion(w *jsonWriter, v *VerdictVersion) {
	w.int(`{"version":`, int64(v.Version))
	w.rawValue(`,"content":`, v.Content)
	w.strPtr(`,"addendumBy":`, v.AddendumBy)
	w.strPtr(`,"addendumText":`, v.AddendumText)
	w.str(`,"createdAt":`, v.CreatedAt)
	w.b = append(w.b, '}')
}
