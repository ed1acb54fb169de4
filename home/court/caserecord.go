package court

import (
	"cmp"
	"encoding/json"
	"slices"
)

// CaseRecord is what closing a session stores (court-protocol.md §4.5): the
// cases row, whose user a/b are the two users sorted as strings (not
// creator first), and one verdicts row per verdict version.
type CaseRecord struct {
	UserAID         string
	UserBID         string
	UserAInput      string
	UserAFeelings   string
	UserANeeds      string
	UserBInput      string
	UserBFeelings   string
	UserBNeeds      string
	Status          string // always "RESOLVED"
	CaseLanguage    string
	CaseTitle       *string
	SeverityLevel   *string
	PrimaryHissTag  *string
	ShortResolution *string
	Verdicts        []VerdictRow
}

// VerdictRow is one verdicts row.
type VerdictRow struct {
	Version int
	// Content is the verdict's judgeContent with its _meta merged in.
	Content json.RawMessage
	// AddendumBy is "userA" or "userB", relative to the creator (R21).
	AddendumBy   *string
	AddendumText *string
}

// CaseStatus is the status of every case a session saves.
const CaseStatus = "RESOLVED"

// CaseRow returns the case record of s, as saveCaseFromSession builds it
// (courtDatabase.js); the store inserts it for a SaveCase effect.
func CaseRow(s *Session) CaseRecord {
	rec, history, final := caseFields(s)
	rec.Verdicts = verdictRows(history, final)
	return rec
}

// caseFields returns the case record of s without its verdict rows, the
// verdict history they are made of (one entry at least) and the final
// resolution. The rows, which copy every verdict with its _meta (tens of
// KiB), are left to CaseRow: the case_resolved announcement needs only
// their count.
func caseFields(s *Session) (CaseRecord, []VerdictVersion, json.RawMessage) {
	a, b := s.Creator, s.Partner
	ua, ub := s.CreatorID, s.PartnerID
	if ub < ua {
		a, b, ua, ub = b, a, ub, ua
	}
	history := s.VerdictHistory
	if len(history) == 0 {
		history = []VerdictVersion{{Version: 1, Content: s.Verdict}}
	}
	latest := members(history[len(history)-1].Content)
	if latest == nil {
		latest = members(s.Verdict)
	}
	latestMeta := members(latest["_meta"])
	meta := members(members(s.Analysis)["caseMetadata"])
	if meta == nil {
		meta = members(members(latestMeta["analysis"])["caseMetadata"])
	}
	if meta == nil {
		meta = members(latestMeta["analysis"])
	}
	final := or(s.FinalResolution, latestMeta["finalResolution"])
	return CaseRecord{
		UserAID: ua, UserBID: ub,
		UserAInput: deref(a.Evidence), UserAFeelings: deref(a.Feelings), UserANeeds: deref(a.Needs),
		UserBInput: deref(b.Evidence), UserBFeelings: deref(b.Feelings), UserBNeeds: deref(b.Needs),
		Status:          CaseStatus,
		CaseLanguage:    cmp.Or(s.CaseLanguage, s.CreatorLanguage, "en"),
		CaseTitle:       text(or(meta["caseTitle"], meta["case_title"])),
		SeverityLevel:   text(or(meta["severityLevel"], meta["severity_level"])),
		PrimaryHissTag:  text(meta["primaryHissTag"]),
		ShortResolution: text(or(meta["shortResolution"], members(final)["title"])),
	}, history, final
}

// verdictRows returns one row per history entry, by version.
func verdictRows(history []VerdictVersion, final json.RawMessage) []VerdictRow {
	history = slices.SortedStableFunc(slices.Values(history), func(x, y VerdictVersion) int {
		return cmp.Compare(x.Version, y.Version)
	})
	rows := make([]VerdictRow, 0, len(history))
	for i, h := range history {
		rows = append(rows, VerdictRow{
			Version:      cmp.Or(h.Version, i+1),
			Content:      verdictContent(h.Content, final),
			AddendumBy:   nonEmpty(h.AddendumBy),
			AddendumText: nonEmpty(h.AddendumText),
		})
	}
	return rows
}

// verdictContent is normalizeVerdictPayload: a success envelope becomes its
// judgeContent plus _meta, with the usual _meta keys present and
// finalResolution falling back to the case's; anything else is kept as is.
func verdictContent(envelope, final json.RawMessage) json.RawMessage {
	env := members(envelope)
	content := members(env["judgeContent"])
	if !truthy(env["judgeContent"]) || content == nil {
		return orNull(envelope)
	}
	meta := members(env["_meta"])
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	null := json.RawMessage("null")
	for _, k := range []string{"analysis", "assessedIntensity", "resolutions", "primingContent", "jointMenu"} {
		meta[k] = or(meta[k], null)
	}
	meta["finalResolution"] = or(meta["finalResolution"], final, null)
	meta["isHybrid"] = json.RawMessage(pick(string(meta["isHybrid"]) == "true", "true", "false"))
	content["_meta"] = appendObject(nil, meta)
	return appendObject(nil, content)
}

// caseData is the case data of caseDataBuilder.js, the input of the judge
// and of memory extraction.
type caseData struct {
	Participants    pair[participant] `json:"participants"`
	Submissions     pair[submission]  `json:"submissions"`
	AddendumHistory []Addendum        `json:"addendumHistory"`
	Language        string            `json:"language"`
}

// pair is a value per user, user a being the creator.
type pair[T any] struct {
	UserA T `json:"userA"`
	UserB T `json:"userB"`
}

type participant struct {
	ID string `json:"id"`
	// Name is the display name, which the package does not know: null for
	// the consumer to fill in (the original falls back to "User A"/"User B").
	Name     *string `json:"name"`
	Language string  `json:"language"`
}

type submission struct {
	CameraFacts              *string `json:"cameraFacts"`
	TheStoryIamTellingMyself *string `json:"theStoryIamTellingMyself"`
	UnmetNeeds               string  `json:"unmetNeeds"`
	SelectedPrimaryEmotion   string  `json:"selectedPrimaryEmotion"`
	CoreNeed                 string  `json:"coreNeed"`
}

// CaseData returns the case data of s (caseDataBuilder.js, with the empty
// selectedPrimaryEmotion and coreNeed that memory extraction adds): user a
// is the creator. It is the Case of a MemoryJob, and what the judge needs.
func CaseData(s *Session) json.RawMessage {
	var c caseData
	c.Participants.UserA = participant{ID: s.CreatorID, Language: cmp.Or(s.CreatorLanguage, s.CaseLanguage, "en")}
	c.Participants.UserB = participant{ID: s.PartnerID, Language: cmp.Or(s.PartnerLanguage, s.CaseLanguage, "en")}
	c.Submissions.UserA = submissionOf(s.Creator)
	c.Submissions.UserB = submissionOf(s.Partner)
	c.AddendumHistory = s.AddendumHistory
	if c.AddendumHistory == nil {
		c.AddendumHistory = []Addendum{}
	}
	c.Language = cmp.Or(s.CaseLanguage, s.CreatorLanguage, "en")
	return mustJSON(c)
}

func submissionOf(u UserState) submission {
	return submission{CameraFacts: u.Evidence, TheStoryIamTellingMyself: u.Feelings, UnmetNeeds: deref(u.Needs)}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func nonEmpty(p *string) *string {
	if p == nil || *p == "" {
		return nil
	}
	return p
}
