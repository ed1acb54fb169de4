package judge_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/judge"
)

func deliberate(t *testing.T, j judge.Judge, c judge.Case) court.Deliberation {
	t.Helper()
	d, err := judge.Deliberate(testCtx(t), j, c)
	require.NoError(t, err)
	return d
}

func deliberationSize(d court.Deliberation) int {
	return len(d.Analysis) + len(d.Resolutions) + len(d.AssessedIntensity) + len(d.HistoricalContext) +
		len(d.PrimingContent) + len(d.JointMenu)
}

func TestDevDeterministic(t *testing.T) {
	t.Parallel()
	c := sampleCase()
	a := deliberate(t, newDev(t, judge.DevConfig{}), c)
	b := deliberate(t, newDev(t, judge.DevConfig{}), c)
	require.Equal(t, a, b)

	other := c
	other.Creator.Evidence = "Something else happened entirely."
	require.NotEqual(t, a.Analysis, deliberate(t, newDev(t, judge.DevConfig{}), other).Analysis)

	req := judge.HybridRequest{SessionID: c.SessionID, Version: 9, Analysis: a.Analysis,
		PickA: judge.Resolution{ID: "resolution_1", Title: "One"}, PickB: judge.Resolution{ID: "resolution_3", Title: "Three"}}
	h1, err := newDev(t, judge.DevConfig{}).Hybrid(testCtx(t), req)
	require.NoError(t, err)
	h2, err := newDev(t, judge.DevConfig{}).Hybrid(testCtx(t), req)
	require.NoError(t, err)
	require.Equal(t, h1, h2)
}

// TestDevShapes checks the fields the court reads (§3.5 T10, §3.7, §4.5).
func TestDevShapes(t *testing.T) {
	t.Parallel()
	d := deliberate(t, newDev(t, judge.DevConfig{}), sampleCase())

	var analysis struct {
		Judge        string `json:"judge"`
		CaseMetadata struct {
			CaseTitle     string `json:"caseTitle"`
			SeverityLevel string `json:"severityLevel"`
		} `json:"caseMetadata"`
	}
	require.NoError(t, json.Unmarshal(d.Analysis, &analysis))
	require.Equal(t, judge.DevJudgeName, analysis.Judge)
	require.Contains(t, analysis.CaseMetadata.CaseTitle, "Dev judge")
	require.NotEmpty(t, analysis.CaseMetadata.SeverityLevel)

	var resolutions []map[string]any
	require.NoError(t, json.Unmarshal(d.Resolutions, &resolutions))
	require.Len(t, resolutions, 3)
	for i, r := range resolutions {
		require.Equal(t, []string{"resolution_1", "resolution_2", "resolution_3"}[i], r["id"])
		for _, f := range []string{"title", "combinedDescription", "rationale", "estimatedDuration"} {
			require.NotEmpty(t, r[f], f)
		}
		require.IsType(t, []any{}, r["repairAttemptIds"])
	}

	var intensity string
	require.NoError(t, json.Unmarshal(d.AssessedIntensity, &intensity))
	require.Contains(t, []string{"low", "medium", "high"}, intensity)
	require.JSONEq(t, "null", string(d.HistoricalContext))

	var priming map[string]map[string]any
	require.NoError(t, json.Unmarshal(d.PrimingContent, &priming))
	for _, u := range []string{"userA", "userB"} {
		require.NotEmpty(t, priming[u]["yourFeelings"], u)
		require.Len(t, priming[u]["reflectionQuestions"], 3, u)
	}

	var menu map[string]any
	require.NoError(t, json.Unmarshal(d.JointMenu, &menu))
	require.NotEmpty(t, menu["theSummary"])
	require.NotEmpty(t, menu["closingWisdom"])
	require.Equal(t, judge.DevJudgeName, menu["judge"])
}

func TestDevHybridResolution(t *testing.T) {
	t.Parallel()
	res, err := newDev(t, judge.DevConfig{}).Hybrid(testCtx(t), judge.HybridRequest{
		SessionID: "s", Version: 3, Analysis: json.RawMessage(`{}`),
		PickA: judge.Resolution{ID: "resolution_1", Title: "A"}, PickB: judge.Resolution{ID: "resolution_2", Title: "B"},
	})
	require.NoError(t, err)
	require.Contains(t, res.Hybrid.Title, "Dev judge")
	require.NotEmpty(t, res.Hybrid.BridgingMessage)

	raw, err := json.Marshal(res.Hybrid.Resolution("resolution_1", "resolution_2"))
	require.NoError(t, err)
	var hr map[string]any
	require.NoError(t, json.Unmarshal(raw, &hr))
	require.Equal(t, court.HybridResolutionID, hr["id"])
	require.Equal(t, true, hr["isHybrid"])
	require.Equal(t, hr["description"], hr["combinedDescription"])
	require.Equal(t, []any{}, hr["repairAttemptIds"])
	require.Equal(t, "resolution_1", hr["fromUserA"])
}

// TestDevSizes checks the output against court-protocol.md §7.2: about
// 21 KiB of court:state in PRIMING, most of it the deliberation.
func TestDevSizes(t *testing.T) {
	t.Parallel()
	c := sampleCase()
	one := deliberationSize(deliberate(t, newDev(t, judge.DevConfig{}), c))
	two := deliberationSize(deliberate(t, newDev(t, judge.DevConfig{TextScale: 2}), c))
	t.Logf("deliberation: %d bytes at scale 1, %d at scale 2", one, two)
	require.InDelta(t, 18<<10, one, 3<<10)
	require.InDelta(t, 2.0, float64(two)/float64(one), 0.25)
}

func TestDevDelayEndsWithContext(t *testing.T) {
	t.Parallel()
	d := newDev(t, judge.DevConfig{Delay: time.Hour})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	_, err := d.Phase1(ctx, judge.Phase1Request{Case: sampleCase()})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestDevRejectsInvalidInput(t *testing.T) {
	t.Parallel()
	c := sampleCase()
	c.Partner.Feelings = "  "
	_, err := newDev(t, judge.DevConfig{}).Phase1(testCtx(t), judge.Phase1Request{Case: c})
	require.ErrorIs(t, err, judge.ErrInvalidInput)
	require.EqualError(t, err, "Invalid input: userB.theStoryIamTellingMyself must not be empty")
	require.Equal(t, err.Error(), judge.VerdictError(err))
}

func TestNewDevConfig(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]judge.DevConfig{
		"negative scale": {TextScale: -1},
		"negative delay": {Delay: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := judge.NewDev(cfg)
			require.ErrorIs(t, err, judge.ErrConfig)
		})
	}
}
