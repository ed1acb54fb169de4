package court

import (
	"encoding/json"
	"slices"
	"time"
)

// Session is the internal session record (court-protocol.md §3.1), stored as
// a JSON document. Nullable values are pointers or json.RawMessage (nil
// marshals as null); LLM outputs are kept as raw JSON. Values behind pointers
// and raw messages are never changed in place, only replaced, so Clone may
// share them. Every raw value is empty or valid JSON: the LLM outputs are
// validated where they enter (ApplyDeliberation, ApplyHybrid), the package
// builds the others, and the store loads them from jsonb; the package reads
// them without validating them again (members, jsonvalue.go).
type Session struct {
	ID        string  `json:"id"`
	CoupleID  string  `json:"coupleId"`
	CreatorID string  `json:"creatorId"`
	PartnerID string  `json:"partnerId"`
	Phase     Phase   `json:"phase"`
	CaseID    *string `json:"caseId"`
	JudgeType string  `json:"judgeType"`

	CreatorLanguage string `json:"creatorLanguage"`
	PartnerLanguage string `json:"partnerLanguage"`
	CaseLanguage    string `json:"caseLanguage"`

	// Creator is userA, Partner is userB.
	Creator UserState `json:"creator"`
	Partner UserState `json:"partner"`

	Verdict         json.RawMessage  `json:"verdict"`
	AddendumHistory []Addendum       `json:"addendumHistory"`
	AddendumCount   int              `json:"addendumCount"`
	VerdictHistory  []VerdictVersion `json:"verdictHistory"`

	// SettlementRequested is the requester's user id.
	SettlementRequested   *string `json:"settlementRequested"`
	SettlementRequestedAt *int64  `json:"settlementRequestedAt"`

	// Times are unix milliseconds.
	CreatedAt      int64  `json:"createdAt"`
	PhaseStartedAt int64  `json:"phaseStartedAt"`
	ResolvedAt     *int64 `json:"resolvedAt"`

	Analysis          json.RawMessage `json:"analysis"`
	Resolutions       json.RawMessage `json:"resolutions"`
	AssessedIntensity json.RawMessage `json:"assessedIntensity"`
	HistoricalContext json.RawMessage `json:"historicalContext"`
	PrimingContent    json.RawMessage `json:"primingContent"`
	JointMenu         json.RawMessage `json:"jointMenu"`

	// Resolution picks are resolution ids.
	UserAResolutionPick     *string         `json:"userAResolutionPick"`
	UserBResolutionPick     *string         `json:"userBResolutionPick"`
	HybridResolution        json.RawMessage `json:"hybridResolution"`
	HybridResolutionPending bool            `json:"hybridResolutionPending"`
	FinalResolution         json.RawMessage `json:"finalResolution"`
	MismatchOriginal        *Picks          `json:"mismatchOriginal"`
	MismatchPicks           *Picks          `json:"mismatchPicks"`
	MismatchLock            *string         `json:"mismatchLock"`
	MismatchLockBy          *string         `json:"mismatchLockBy"`

	// Version increments at every transition; creation is version 1.
	Version uint64 `json:"version"`
	// PhaseDeadline and SettlementDeadline are the timers, as unix
	// milliseconds; 0 means none.
	PhaseDeadline      int64 `json:"phaseDeadline"`
	SettlementDeadline int64 `json:"settlementDeadline"`
	// EndReason says why an ended session (Phase IDLE) ended.
	EndReason EndReason `json:"endReason,omitempty"`

	// DeliberationVersion and HybridVersion name the judge calls in flight
	// (JudgeCall.Version; 0 means none): a result is applied only to the
	// call that is still awaited (R8, R10). They outlive later versions of
	// the same wait, such as a settlement request during ANALYZING or a
	// mismatch pick while the hybrid is generated.
	DeliberationVersion uint64 `json:"deliberationVersion"`
	HybridVersion       uint64 `json:"hybridVersion"`

	// effects are the side effects of the transitions run since the last
	// TakeEffects; never serialised nor cloned.
	effects []Effect
	// raws is what the state encoding made of the raw values, shared by
	// the clones of a session KeepEncodings was called on (viewjson.go);
	// never serialised.
	raws *rawMemo
}

// UserState is one participant's part of a session.
type UserState struct {
	EvidenceSubmitted bool    `json:"evidenceSubmitted"`
	Evidence          *string `json:"evidence"`
	Feelings          *string `json:"feelings"`
	// Needs is stored with the evidence and never sent to clients.
	Needs           *string `json:"needs,omitempty"`
	VerdictAccepted bool    `json:"verdictAccepted"`
	PrimingReady    bool    `json:"primingReady"`
	JointReady      bool    `json:"jointReady"`
}

// Addendum is one entry of Session.AddendumHistory.
type Addendum struct {
	UserID      string `json:"userId"`
	FromUser    string `json:"fromUser"` // "userA" or "userB"
	Text        string `json:"text"`
	SubmittedAt int64  `json:"submittedAt"`
}

// VerdictVersion is one entry of Session.VerdictHistory.
type VerdictVersion struct {
	Version      int             `json:"version"`
	Content      json.RawMessage `json:"content"`
	AddendumBy   *string         `json:"addendumBy"`
	AddendumText *string         `json:"addendumText"`
	CreatedAt    string          `json:"createdAt"` // RFC 3339
}

// Picks is a pair of resolution ids, one per user; nil is no pick.
type Picks struct {
	UserA *string `json:"userA"`
	UserB *string `json:"userB"`
}

// EndReason says why a session ended.
type EndReason string

// End reasons.
const (
	EndCancelled EndReason = "cancelled" // the creator cancelled while PENDING
	EndDismissed EndReason = "dismissed" // a participant dismissed it
	EndTimeout   EndReason = "timeout"   // a phase timer tossed it
	EndRemoved   EndReason = "removed"   // a CLOSED session's hold ran out
	EndSettled   EndReason = "settled"   // the partner accepted a settlement
)

// NewSession returns a PENDING session (version 1) served by creatorID to
// partnerID, with its PENDING deadline set. The couple id is always
// "<creatorID>-<partnerID>"; a given coupleID must name the same couple
// (CheckServe). The judge type is JudgeTypeOf(judgeType). It returns the
// serve validation errors of CheckServe without the partner check, which
// needs the app's data and is the caller's.
func NewSession(id, creatorID, partnerID, coupleID, judgeType string, now time.Time, d Durations) (*Session, error) {
	coupleID, err := CheckServe(creatorID, Account{}, false, partnerID, coupleID)
	if err != nil {
		return nil, err
	}
	judgeType = JudgeTypeOf(judgeType)
	s := &Session{
		ID:              id,
		CoupleID:        coupleID,
		CreatorID:       creatorID,
		PartnerID:       partnerID,
		JudgeType:       judgeType,
		CreatorLanguage: "en",
		PartnerLanguage: "en",
		CaseLanguage:    "en",
		AddendumHistory: []Addendum{},
		VerdictHistory:  []VerdictVersion{},
		CreatedAt:       now.UnixMilli(),
	}
	s.enter(PhasePending, now, d)
	s.emit(Notify{
		UserIDs: []string{partnerID}, Type: NotifyCourtSession,
		Title: titleCourtSession, Body: bodyCourtSession, SessionID: id,
	})
	return s, nil
}

// Clone returns a copy of s that shares no mutable state with it, so a
// transition can run on the copy and be dropped if committing it fails. The
// copy has no pending effects.
func (s *Session) Clone() *Session {
	c := *s
	c.effects = nil
	c.AddendumHistory = slices.Clone(s.AddendumHistory)
	c.VerdictHistory = slices.Clone(s.VerdictHistory)
	if s.MismatchOriginal != nil {
		p := *s.MismatchOriginal
		c.MismatchOriginal = &p
	}
	if s.MismatchPicks != nil {
		p := *s.MismatchPicks
		c.MismatchPicks = &p
	}
	return &c
}

// KeepEncodings makes the state encodings of s and of its clones from now on
// remember what they made of the raw values (the LLM outputs), so that each
// version encodes again only the values its transition replaced. For the
// session a home holds; call it before s is shared.
func (s *Session) KeepEncodings() {
	if s.raws == nil {
		s.raws = new(rawMemo)
	}
}

// Ended reports whether a transition ended the session.
func (s *Session) Ended() bool { return s.Phase == PhaseIdle }

// Participant reports whether userID is the creator or the partner.
func (s *Session) Participant(userID string) bool {
	return userID == s.CreatorID || userID == s.PartnerID
}

// side returns the state of participant userID, whether it is the creator,
// and ErrNotAuthorized for anyone else.
func (s *Session) side(userID string) (*UserState, bool, error) {
	switch userID {
	case s.CreatorID:
		return &s.Creator, true, nil
	case s.PartnerID:
		return &s.Partner, false, nil
	}
	return nil, false, ErrNotAuthorized
}

// other returns the participant who is not userID.
func (s *Session) other(userID string) string {
	if userID == s.CreatorID {
		return s.PartnerID
	}
	return s.CreatorID
}

// Users returns the creator and the partner.
func (s *Session) Users() [2]string { return [2]string{s.CreatorID, s.PartnerID} }

// TakeEffects returns the effects of the transitions run on s since the
// last call, in order, and forgets them.
func (s *Session) TakeEffects() []Effect {
	e := s.effects
	s.effects = nil
	return e
}

func (s *Session) emit(e ...Effect) { s.effects = append(s.effects, e...) }

// bump records a change that stays in the current phase: a new version.
func (s *Session) bump() { s.Version++ }

// enter moves s to phase p at now: a new phase start, the phase's deadline
// (none for a phase without a timer) and a new version. A settlement
// request does not survive leaving EVIDENCE and ANALYZING (R13).
func (s *Session) enter(p Phase, now time.Time, d Durations) {
	s.Phase = p
	s.PhaseStartedAt = now.UnixMilli()
	s.PhaseDeadline = 0
	if t := d.ForPhase(p); t > 0 {
		s.PhaseDeadline = now.Add(t).UnixMilli()
	}
	if !settlementPhase(p) {
		s.clearSettlement()
	}
	s.Version++
}

// end ends s for reason: phase IDLE, no timers, a new version.
func (s *Session) end(reason EndReason) {
	s.Phase = PhaseIdle
	s.PhaseDeadline = 0
	s.SettlementDeadline = 0
	s.EndReason = reason
	s.Version++
}
