package court

import (
	"strings"

	"courtmesh/protocol"
)

// The app's checks before an action (court-protocol.md §2.5, §4.6), as pure
// functions of the app's data: the caller reads the profiles and usage
// (package appdata) and passes what they say.

// Client-visible errors of the app's checks.
var (
	// ErrAIConsentRequired refuses evidence, addendum and hybrid without
	// profiles.ai_insights_consent. It is coded: the ack's error is the
	// code, court:error carries message and code.
	ErrAIConsentRequired = &Error{msg: protocol.MsgAIConsentRequired, code: protocol.CodeAIConsentRequired}
	// ErrUsageLimit refuses a serve, or fails the verdict step, of a couple
	// over its monthly limit for the judge type.
	ErrUsageLimit = &Error{msg: "Usage limit reached. Please upgrade to continue."}
	// ErrInvalidCoupleID refuses a serve whose coupleId is not the couple
	// of the caller and the partner.
	ErrInvalidCoupleID = &Error{msg: "Invalid coupleId for current user"}
)

// MsgUsageCheckFailed is the error verdict when usage cannot be read before
// the verdict step (§3.6 step 3).
const MsgUsageCheckFailed = "Unable to verify usage limits right now. Please try again."

// Account is what the app's data says about a user for these checks.
type Account struct {
	// PartnerID is profiles.partner_id, "" for none.
	PartnerID string
	// AIConsent is profiles.ai_insights_consent.
	AIConsent bool
	// Tier is the effective subscription tier now (free once a paid tier
	// expired).
	Tier string
	// Language is profiles.preferred_language, "" for null.
	Language string
}

// Judge types a serve may ask for.
const (
	JudgeClassic = "classic"
	JudgeSwift   = "swift"
	JudgeWise    = "wise"
)

// JudgeTypeOf maps a client's judgeType to classic, swift or wise; anything
// else is swift (the app's mapJudgeTypeToUsage). Only these three values
// ever reach the judge.
func JudgeTypeOf(raw string) string {
	switch raw {
	case JudgeClassic, JudgeSwift, JudgeWise:
		return raw
	}
	return JudgeSwift
}

// CheckServe runs the serve checks in the app's order: a partner is
// required and is not the caller; with the app's data (partnerCheck), the
// caller's profiles.partner_id must be partnerID; a given coupleID must be
// the couple's ("<creator>-<partner>", either order). It returns the
// session's couple id.
func CheckServe(creatorID string, creator Account, partnerCheck bool, partnerID, coupleID string) (string, error) {
	if err := ValidateServe(creatorID, partnerID); err != nil {
		return "", err
	}
	if partnerCheck && !strings.EqualFold(creator.PartnerID, partnerID) {
		return "", ErrInvalidPartner
	}
	derived := creatorID + "-" + partnerID
	if coupleID != "" && coupleID != derived && coupleID != partnerID+"-"+creatorID {
		return "", ErrInvalidCoupleID
	}
	return derived, nil
}

// CheckConsent refuses an AI action of a user without AI consent.
func CheckConsent(a Account) error {
	if !a.AIConsent {
		return ErrAIConsentRequired
	}
	return nil
}

// Tiers and their monthly limits per couple (usageLimits.js:29-45); -1 is
// unlimited. An unknown tier has the free limits.
var usageLimits = map[string]map[string]int{
	"free":       {JudgeClassic: 3, JudgeSwift: 1, JudgeWise: 0},
	"pause_gold": {JudgeClassic: -1, JudgeSwift: 100, JudgeWise: 10},
}

// UsageLimit is the monthly limit of judgeType for tier, -1 for none.
func UsageLimit(tier, judgeType string) int {
	limits, ok := usageLimits[tier]
	if !ok {
		limits = usageLimits["free"]
	}
	return limits[JudgeTypeOf(judgeType)]
}

// CheckUsage refuses one more case of judgeType for a couple on tier that
// has used used of them this month.
func CheckUsage(tier, judgeType string, used int) error {
	if limit := UsageLimit(tier, judgeType); limit >= 0 && used >= limit {
		return ErrUsageLimit
	}
	return nil
}

// DefaultLanguage is the language of a user with none.
const DefaultLanguage = "en"

// Languages are a session's three languages (language.js:106-127): the
// creator's is their preferred_language, else the first language of the
// Accept-Language header of the request, else DefaultLanguage; the
// partner's is their preferred_language, else DefaultLanguage; the case's is
// the creator's.
func Languages(creator, partner Account, acceptLanguage string) (creatorLang, partnerLang, caseLang string) {
	creatorLang = normLanguage(creator.Language)
	if creatorLang == "" {
		creatorLang = firstAccepted(acceptLanguage)
	}
	if creatorLang == "" {
		creatorLang = DefaultLanguage
	}
	partnerLang = normLanguage(partner.Language)
	if partnerLang == "" {
		partnerLang = DefaultLanguage
	}
	return creatorLang, partnerLang, creatorLang
}

// SetLanguages sets s's languages.
func (s *Session) SetLanguages(creatorLang, partnerLang, caseLang string) {
	s.CreatorLanguage, s.PartnerLanguage, s.CaseLanguage = creatorLang, partnerLang, caseLang
}

// firstAccepted is the primary language of the first entry of an
// Accept-Language header ("fr-CA,fr;q=0.9" → "fr"), "" for none or "*".
func firstAccepted(header string) string {
	first, _, _ := strings.Cut(header, ",")
	first, _, _ = strings.Cut(first, ";")
	return normLanguage(first)
}

// normLanguage is the lowercase primary subtag of a language tag when it is
// two or three ASCII letters, else "": only such codes reach a prompt.
func normLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	primary, _, _ = strings.Cut(primary, "_")
	primary = strings.ToLower(primary)
	if len(primary) < 2 || len(primary) > 3 {
		return ""
	}
	for i := range len(primary) {
		if primary[i] < 'a' || primary[i] > 'z' {
			return ""
		}
	}
	return primary
}
