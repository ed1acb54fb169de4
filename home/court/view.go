package court

import "encoding/json"

// State is the state object of court-protocol.md §2.4: the payload of
// court:state, of ack.state and of every REST success.
type State struct {
	Phase       string     `json:"phase"`
	MyViewPhase string     `json:"myViewPhase"`
	Session     *Sanitized `json:"session"`
}

// Sanitized is the session as clients see it (§2.4), field for field and in
// that order, except that each user receives only their own private parts
// (private.go, §6 R17). It adds JudgeType, the judge the creator chose (§6
// R18), and Version, the session version that orders court:state deliveries
// (DESIGN.md "Delivery"); the client ignores fields it does not know.
type Sanitized struct {
	ID                      string          `json:"id"`
	CoupleID                string          `json:"coupleId"`
	CreatorID               string          `json:"creatorId"`
	PartnerID               string          `json:"partnerId"`
	Phase                   string          `json:"phase"`
	CaseID                  *string         `json:"caseId"`
	Evidence                Evidence        `json:"evidence"`
	VerdictAcceptances      Pair            `json:"verdictAcceptances"`
	Verdict                 json.RawMessage `json:"verdict"`
	SettlementRequested     *string         `json:"settlementRequested"`
	CreatedAt               int64           `json:"createdAt"`
	ResolvedAt              *int64          `json:"resolvedAt"`
	AddendumCount           int             `json:"addendumCount"`
	AddendumLimit           int             `json:"addendumLimit"`
	AddendumRemaining       int             `json:"addendumRemaining"`
	Analysis                json.RawMessage `json:"analysis"`
	Resolutions             json.RawMessage `json:"resolutions"`
	AssessedIntensity       json.RawMessage `json:"assessedIntensity"`
	PrimingContent          json.RawMessage `json:"primingContent"`
	JointMenu               json.RawMessage `json:"jointMenu"`
	PrimingReady            Pair            `json:"primingReady"`
	JointReady              Pair            `json:"jointReady"`
	ResolutionPicks         Picks           `json:"resolutionPicks"`
	HybridResolution        json.RawMessage `json:"hybridResolution"`
	FinalResolution         json.RawMessage `json:"finalResolution"`
	MismatchOriginal        *Picks          `json:"mismatchOriginal"`
	MismatchPicks           *Picks          `json:"mismatchPicks"`
	HybridResolutionPending bool            `json:"hybridResolutionPending"`
	JudgeType               string          `json:"judgeType"`
	Version                 uint64          `json:"version"`
}

// Evidence is both users' evidence, without needs.
type Evidence struct {
	Creator EvidenceSide `json:"creator"`
	Partner EvidenceSide `json:"partner"`
}

// EvidenceSide is one user's evidence: facts is the evidence text, null in
// the other user's view.
type EvidenceSide struct {
	Submitted bool    `json:"submitted"`
	Facts     *string `json:"facts"`
	Feelings  *string `json:"feelings"`
}

// Pair is a per-user flag.
type Pair struct {
	Creator bool `json:"creator"`
	Partner bool `json:"partner"`
}

// IdleState is the state of a user in no session.
func IdleState() State {
	return State{Phase: string(PhaseIdle), MyViewPhase: ViewIdle}
}

// View is the state userID sees of s; nil or an ended session gives
// IdleState.
func View(s *Session, userID string) State {
	if s == nil || s.Ended() {
		return IdleState()
	}
	return State{Phase: string(s.Phase), MyViewPhase: ViewPhase(s, userID), Session: Sanitize(s, userID)}
}

// Sanitize returns the session userID sees of s (§2.4 without the other
// user's private parts).
func Sanitize(s *Session, userID string) *Sanitized {
	viewer := sideOf(s, userID)
	return &Sanitized{
		ID:                      s.ID,
		CoupleID:                s.CoupleID,
		CreatorID:               s.CreatorID,
		PartnerID:               s.PartnerID,
		Phase:                   string(s.Phase),
		CaseID:                  s.CaseID,
		Evidence:                Evidence{Creator: evidenceOf(s.Creator, viewer == creatorSide), Partner: evidenceOf(s.Partner, viewer == partnerSide)},
		VerdictAcceptances:      Pair{s.Creator.VerdictAccepted, s.Partner.VerdictAccepted},
		Verdict:                 orNull(privateView(compact(s.Verdict), verdictHalves, viewer)),
		SettlementRequested:     s.SettlementRequested,
		CreatedAt:               s.CreatedAt,
		ResolvedAt:              s.ResolvedAt,
		AddendumCount:           s.AddendumCount,
		AddendumLimit:           AddendumLimit,
		AddendumRemaining:       max(AddendumLimit-s.AddendumCount, 0),
		Analysis:                orNull(s.Analysis),
		Resolutions:             orNull(s.Resolutions),
		AssessedIntensity:       orNull(s.AssessedIntensity),
		PrimingContent:          orNull(privateView(compact(s.PrimingContent), primingHalves, viewer)),
		JointMenu:               orNull(s.JointMenu),
		PrimingReady:            Pair{s.Creator.PrimingReady, s.Partner.PrimingReady},
		JointReady:              Pair{s.Creator.JointReady, s.Partner.JointReady},
		ResolutionPicks:         Picks{UserA: s.UserAResolutionPick, UserB: s.UserBResolutionPick},
		HybridResolution:        orNull(s.HybridResolution),
		FinalResolution:         orNull(s.FinalResolution),
		MismatchOriginal:        s.MismatchOriginal,
		MismatchPicks:           s.MismatchPicks,
		HybridResolutionPending: s.HybridResolutionPending,
		JudgeType:               s.JudgeType,
		Version:                 s.Version,
	}
}

// evidenceOf is u's evidence; its texts only for u's own view (mine).
func evidenceOf(u UserState, mine bool) EvidenceSide {
	if !mine {
		return EvidenceSide{Submitted: u.EvidenceSubmitted}
	}
	return EvidenceSide{Submitted: u.EvidenceSubmitted, Facts: u.Evidence, Feelings: u.Feelings}
}

// ViewPhase is the view phase of userID in s (§3.2). A user who is not the
// creator is treated as the partner, as the original server does.
func ViewPhase(s *Session, userID string) string {
	creator := userID == s.CreatorID
	me, other := s.Partner, s.Creator
	if creator {
		me, other = s.Creator, s.Partner
	}
	switch s.Phase {
	case PhasePending:
		return pick(creator, ViewPendingCreator, ViewPendingPartner)
	case PhaseEvidence:
		return pick(me.EvidenceSubmitted, ViewWaitingEvidence, ViewEvidence)
	case PhaseAnalyzing:
		return ViewAnalyzing
	case PhasePriming:
		return pick(me.PrimingReady && !other.PrimingReady, ViewWaitingPriming, ViewPriming)
	case PhaseJointReady:
		return pick(me.JointReady && !other.JointReady, ViewWaitingJoint, ViewJointMenu)
	case PhaseResolution:
		return resolutionView(s, creator)
	case PhaseVerdict:
		return pick(me.VerdictAccepted && !other.VerdictAccepted, ViewWaitingAccept, ViewVerdict)
	case PhaseClosed:
		return ViewClosed
	}
	return ViewIdle
}

func resolutionView(s *Session, creator bool) string {
	if MismatchActive(s) {
		return ViewResolutionMismatch
	}
	mine, theirs := s.UserBResolutionPick, s.UserAResolutionPick
	if creator {
		mine, theirs = theirs, mine
	}
	if mine != nil && theirs == nil {
		return ViewWaitingResolution
	}
	return ViewResolutionSelect
}

// MismatchActive reports whether a resolution mismatch is active (§3.7):
// mismatchOriginal is set, or both picks exist, differ, and there is no
// final resolution.
func MismatchActive(s *Session) bool {
	if s.MismatchOriginal != nil {
		return true
	}
	a, b := s.UserAResolutionPick, s.UserBResolutionPick
	return a != nil && b != nil && *a != *b && isNull(s.FinalResolution)
}

// orNull returns raw, or nil (JSON null) when it holds no value.
func orNull(raw json.RawMessage) json.RawMessage {
	if isNull(raw) {
		return nil
	}
	return raw
}

// isNull reports whether raw is absent or JSON null.
func isNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}
