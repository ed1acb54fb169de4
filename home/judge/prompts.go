package judge

import "encoding/json"

// The system prompts of the OpenAI judge. They are courtmesh's own, short,
// and ask for exactly the JSON shapes the contract validates.
const (
	promptPhase1 = `You are the judge of courtmesh's couples court, a calm and fair guide for two partners in a disagreement. ` +
		`The user message is a JSON case: each partner's cameraFacts (what a camera would have seen), theStoryIamTellingMyself (their feelings) and unmetNeeds, plus any addenda. userA started the case. ` +
		`Reply with one JSON object and nothing else, written in the case's language: ` +
		`{"analysis": {"assessedIntensity": "low|medium|high", "analysis": {"identifiedDynamic", "dynamicExplanation", "userA_VulnerableEmotion", "userB_VulnerableEmotion", "rootConflictTheme", "needsAnalysis": {...}}, ` +
		`"caseMetadata": {"caseTitle": "<short title>", "severityLevel": "friction|conflict|crisis"}, "shortResolution": "<one line>"}, ` +
		`"resolutions": [exactly 3 items {"id": "resolution_1" | "resolution_2" | "resolution_3", "title", "combinedDescription", "rationale", "estimatedDuration", "repairAttemptIds": [], "howItMeetsNeeds"}], ` +
		`"assessedIntensity": "low|medium|high"}. Be kind to both partners and take no side.`

	promptPhase2 = `You are the judge of courtmesh's couples court. The user message holds the case, your analysis and the three resolutions. ` +
		`Prepare each partner for a joint conversation. Reply with one JSON object and nothing else, written in the case's language: ` +
		`{"primingContent": {"userA": P, "userB": P}, "jointMenu": {"theSummary", "needsBridge": {"whatUserANeeds", "whatUserBNeeds", "commonGround", "bridgingInsight"}, ` +
		`"theGoodStuff": {"userA", "userB"}, "theGrowthEdges": {"userA", "userB"}, "resolutionPreview", "closingWisdom"}}, ` +
		`where P is {"yourFeelings", "partnerPerspective", "reflectionQuestions": [3], "questionsForPartner": [3], "yourNeeds", "partnerNeeds"}, ` +
		`each text two or three short paragraphs. theSummary and closingWisdom are required.`

	promptHybrid = `You are the judge of courtmesh's couples court. The partners picked different resolutions: userAChoice and userBChoice. ` +
		`Blend them into one resolution both can accept, keeping what each partner valued in their pick. ` +
		`Reply with one JSON object and nothing else, written in the case's language: ` +
		`{"title", "description", "rationale", "estimatedDuration", "bridgingMessage"}.`
)

// promptParty is one partner as the prompts name the fields.
type promptParty struct {
	Name                     string `json:"name,omitempty"`
	CameraFacts              string `json:"cameraFacts"`
	TheStoryIamTellingMyself string `json:"theStoryIamTellingMyself"`
	UnmetNeeds               string `json:"unmetNeeds"`
}

// promptCase is the user message of phase 1, and part of phase 2's.
type promptCase struct {
	Language  string      `json:"language"`
	JudgeType string      `json:"judgeType"`
	UserA     promptParty `json:"userA"`
	UserB     promptParty `json:"userB"`
	Addenda   []Addendum  `json:"addenda,omitempty"`
}

func newPromptCase(c Case) promptCase {
	party := func(p Party) promptParty {
		return promptParty{Name: p.Name, CameraFacts: p.Evidence, TheStoryIamTellingMyself: p.Feelings, UnmetNeeds: p.Needs}
	}
	return promptCase{Language: language(c.Language), JudgeType: c.JudgeType,
		UserA: party(c.Creator), UserB: party(c.Partner), Addenda: c.Addenda}
}

type promptPhase2Input struct {
	Case        promptCase      `json:"case"`
	Analysis    json.RawMessage `json:"analysis"`
	Resolutions []Resolution    `json:"resolutions"`
}

type promptHybridInput struct {
	Language    string          `json:"language"`
	Analysis    json.RawMessage `json:"analysis"`
	UserAChoice Resolution      `json:"userAChoice"`
	UserBChoice Resolution      `json:"userBChoice"`
}

func language(l string) string {
	if l == "" {
		return "en"
	}
	return l
}
