package judge

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DevJudgeName names the dev judge in its output (analysis.judge,
// jointMenu.judge) and in the X-Judge header of NewDevHandler.
const DevJudgeName = "courtmesh dev judge"

// devTitlePrefix marks the dev judge's titles, which users see.
const devTitlePrefix = "Dev judge: "

// DevConfig configures a Dev judge.
type DevConfig struct {
	// TextScale multiplies the length of every generated text. Zero means 1;
	// a negative value is an error.
	TextScale float64
	// Delay is how long each call waits before it answers, as a model call
	// would; the wait ends early when the call's context does. Zero means
	// none; a negative value is an error.
	Delay time.Duration
}

// Dev is the deterministic dev judge. It calls no model: each output is drawn
// from a generator seeded with a hash of the case (session id, evidence,
// feelings, needs, addenda) or, for a hybrid, of the two picks, with the
// shapes and sizes of the real pipeline (those of the peer server's local
// judge). It validates its input like the real one. It is safe for
// concurrent use.
type Dev struct {
	scale float64
	delay time.Duration
}

var _ Judge = (*Dev)(nil)

// NewDev returns a dev judge.
func NewDev(cfg DevConfig) (*Dev, error) {
	if cfg.TextScale < 0 || cfg.Delay < 0 {
		return nil, fmt.Errorf("%w: negative TextScale or Delay", ErrConfig)
	}
	if cfg.TextScale == 0 {
		cfg.TextScale = 1
	}
	return &Dev{scale: cfg.TextScale, delay: cfg.Delay}, nil
}

// caseSeed is what the case's generators are seeded with.
func caseSeed(step Step, c Case) []string {
	parts := []string{string(step), c.SessionID,
		c.Creator.Evidence, c.Partner.Evidence, c.Creator.Feelings, c.Partner.Feelings,
		c.Creator.Needs, c.Partner.Needs}
	for _, a := range c.Addenda {
		parts = append(parts, a.From, a.Text)
	}
	return parts
}

// Phase1 implements Judge.
func (d *Dev) Phase1(ctx context.Context, req Phase1Request) (Phase1Result, error) {
	if err := d.begin(ctx, req.Validate); err != nil {
		return Phase1Result{}, err
	}
	g, digest := newDevText(d.scale, caseSeed(StepPhase1, req.Case)...)
	resolutions := make([]Resolution, 3)
	for i := range resolutions {
		resolutions[i] = g.resolution(i + 1)
	}
	intensity := []string{"low", "medium", "high"}[digest[4]%3]
	analysis, err := json.Marshal(g.analysis(intensity, resolutions))
	if err != nil {
		return Phase1Result{}, fmt.Errorf("judge: dev analysis: %w", err)
	}
	return Phase1Result{Analysis: analysis, Resolutions: resolutions, AssessedIntensity: intensity}, nil
}

// Phase2 implements Judge.
func (d *Dev) Phase2(ctx context.Context, req Phase2Request) (Phase2Result, error) {
	if err := d.begin(ctx, req.Validate); err != nil {
		return Phase2Result{}, err
	}
	g, _ := newDevText(d.scale, caseSeed(StepPhase2, req.Case)...)
	userA, errA := json.Marshal(g.priming())
	userB, errB := json.Marshal(g.priming())
	menu, errM := json.Marshal(g.jointMenu())
	for _, err := range []error{errA, errB, errM} {
		if err != nil {
			return Phase2Result{}, fmt.Errorf("judge: dev phase 2: %w", err)
		}
	}
	return Phase2Result{PrimingContent: PrimingContent{UserA: userA, UserB: userB}, JointMenu: menu}, nil
}

// Hybrid implements Judge.
func (d *Dev) Hybrid(ctx context.Context, req HybridRequest) (HybridResult, error) {
	if err := d.begin(ctx, req.Validate); err != nil {
		return HybridResult{}, err
	}
	g, _ := newDevText(d.scale, string(StepHybrid), req.SessionID, req.PickA.ID, req.PickB.ID)
	return HybridResult{Hybrid: Hybrid{
		Title:             devTitlePrefix + g.text(40),
		Description:       g.text(480),
		Rationale:         g.text(320),
		EstimatedDuration: "20 minutes",
		BridgingMessage:   g.text(220),
	}}, nil
}

// begin validates a request, then waits out the configured delay.
func (d *Dev) begin(ctx context.Context, validate func() error) error {
	if err := validate(); err != nil {
		return err
	}
	if d.delay > 0 {
		if err := sleep(ctx, d.delay); err != nil {
			return fmt.Errorf("judge: dev delay: %w", err)
		}
	}
	return nil
}

func (g *devText) resolution(i int) Resolution {
	return Resolution{
		ID:                  fmt.Sprintf("resolution_%d", i),
		Title:               devTitlePrefix + g.text(40),
		RepairAttemptIDs:    []string{fmt.Sprintf("repair_%da", i), fmt.Sprintf("repair_%db", i)},
		CombinedDescription: g.text(480),
		Rationale:           g.text(320),
		NeedsAddressed:      g.needsAddressed(),
		HowItMeetsNeeds:     g.text(260),
		EstimatedDuration:   fmt.Sprintf("%d minutes", 10*i),
	}
}

func (g *devText) needsAddressed() json.RawMessage {
	raw, _ := json.Marshal(map[string][]string{"userA": g.texts(2, 20), "userB": g.texts(2, 20)}) // strings always marshal
	return raw
}

// analysis mirrors the real analysis object, which repeats the resolutions.
func (g *devText) analysis(intensity string, resolutions []Resolution) map[string]any {
	return map[string]any{
		"judge":                 DevJudgeName,
		"userReportedIntensity": nil,
		"assessedIntensity":     intensity,
		"intensityMismatch":     false,
		"analysisDepth":         "moderate",
		"analysis": map[string]any{
			"identifiedDynamic":       "Pursuer-Distancer",
			"dynamicExplanation":      g.text(560),
			"userA_Horsemen":          []string{"Criticism"},
			"userB_Horsemen":          []string{"Defensiveness"},
			"userA_VulnerableEmotion": g.text(140),
			"userB_VulnerableEmotion": g.text(140),
			"rootConflictTheme":       g.text(200),
			"needsAnalysis":           g.needsAnalysis(),
		},
		"caseMetadata": map[string]any{"caseTitle": devTitlePrefix + g.text(40), "severityLevel": "friction"},
		"resolutions":  resolutions,
	}
}

func (g *devText) needsAnalysis() map[string]any {
	return map[string]any{
		"userA_PrimaryNeed": g.text(30), "userA_SecondaryNeeds": g.texts(2, 25), "userA_StatedNeedMapping": g.text(180),
		"userB_PrimaryNeed": g.text(30), "userB_SecondaryNeeds": g.texts(2, 25), "userB_StatedNeedMapping": g.text(180),
		"needCollision": g.text(280), "bridgingPath": g.text(280),
	}
}

func (g *devText) priming() map[string]any {
	return map[string]any{
		"yourFeelings":        g.text(620),
		"partnerPerspective":  g.text(620),
		"reflectionQuestions": g.texts(3, 110),
		"questionsForPartner": g.texts(3, 110),
		"yourNeeds":           g.text(420),
		"partnerNeeds":        g.text(420),
	}
}

func (g *devText) jointMenu() map[string]any {
	return map[string]any{
		"judge":      DevJudgeName,
		"theSummary": devTitlePrefix + g.text(560),
		"needsBridge": map[string]string{
			"whatUserANeeds": g.text(200), "whatUserBNeeds": g.text(200),
			"commonGround": g.text(240), "bridgingInsight": g.text(240),
		},
		"theGoodStuff":      map[string]string{"userA": g.text(280), "userB": g.text(280)},
		"theGrowthEdges":    map[string]string{"userA": g.text(280), "userB": g.text(280)},
		"resolutionPreview": g.text(280),
		"closingWisdom":     g.text(220),
	}
}
