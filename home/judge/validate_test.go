package judge_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/judge"
)

func TestCaseValidate(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		edit func(*judge.Case)
		want string // "" is valid
	}{
		"valid":              {func(*judge.Case) {}, ""},
		"no session":         {func(c *judge.Case) { c.SessionID = "" }, "Invalid input: sessionId is required"},
		"userA cameraFacts":  {func(c *judge.Case) { c.Creator.Evidence = "" }, "Invalid input: userA.cameraFacts must not be empty"},
		"userA story":        {func(c *judge.Case) { c.Creator.Feelings = "\n" }, "Invalid input: userA.theStoryIamTellingMyself must not be empty"},
		"userB unmetNeeds":   {func(c *judge.Case) { c.Partner.Needs = "" }, "Invalid input: userB.unmetNeeds must not be empty"},
		"addendum from":      {func(c *judge.Case) { c.Addenda = []judge.Addendum{{From: "userC", Text: "x"}} }, "Invalid input: addenda[0].from must be userA or userB"},
		"addendum text":      {func(c *judge.Case) { c.Addenda = []judge.Addendum{{From: "userA", Text: ""}} }, "Invalid input: addenda[0].text must not be empty"},
		"addendum ok":        {func(c *judge.Case) { c.Addenda = []judge.Addendum{{From: "userB", Text: "also"}} }, ""},
		"name is optional":   {func(c *judge.Case) { c.Creator.Name = "" }, ""},
		"judge type is free": {func(c *judge.Case) { c.JudgeType = "whatever" }, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := sampleCase()
			tt.edit(&c)
			err := c.Validate()
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tt.want)
			require.ErrorIs(t, err, judge.ErrInvalidInput)
			_, ok := errors.AsType[*judge.InputError](err)
			require.True(t, ok)
		})
	}
}

func TestPhase2RequestValidate(t *testing.T) {
	t.Parallel()
	p1, err := newDev(t, judge.DevConfig{}).Phase1(testCtx(t), judge.Phase1Request{Case: sampleCase()})
	require.NoError(t, err)
	tests := map[string]struct {
		edit func(*judge.Phase2Request)
		ok   bool
	}{
		"valid":           {func(*judge.Phase2Request) {}, true},
		"bad case":        {func(r *judge.Phase2Request) { r.Creator.Evidence = "" }, false},
		"no analysis":     {func(r *judge.Phase2Request) { r.Analysis = nil }, false},
		"no metadata":     {func(r *judge.Phase2Request) { r.Analysis = json.RawMessage(`{"a":1}`) }, false},
		"two resolutions": {func(r *judge.Phase2Request) { r.Resolutions = r.Resolutions[:2] }, false},
		"wrong id":        {func(r *judge.Phase2Request) { r.Resolutions[1].ID = "resolution_9" }, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := judge.Phase2Request{Case: sampleCase(), Analysis: p1.Analysis,
				Resolutions: append([]judge.Resolution(nil), p1.Resolutions...)}
			tt.edit(&r)
			if tt.ok {
				require.NoError(t, r.Validate())
			} else {
				require.ErrorIs(t, r.Validate(), judge.ErrInvalidInput)
			}
		})
	}
}

func TestHybridRequestValidate(t *testing.T) {
	t.Parallel()
	valid := judge.HybridRequest{SessionID: "s", Analysis: json.RawMessage(`{}`),
		PickA: judge.Resolution{ID: "resolution_1", Title: "A"}, PickB: judge.Resolution{ID: "resolution_2", Title: "B"}}
	require.NoError(t, valid.Validate())
	for name, edit := range map[string]func(*judge.HybridRequest){
		"no session":  func(r *judge.HybridRequest) { r.SessionID = "" },
		"no analysis": func(r *judge.HybridRequest) { r.Analysis = nil },
		"no pick a":   func(r *judge.HybridRequest) { r.PickA = judge.Resolution{} },
		"no pick b":   func(r *judge.HybridRequest) { r.PickB.Title = "" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := valid
			edit(&r)
			require.ErrorIs(t, r.Validate(), judge.ErrInvalidInput)
		})
	}
}

func TestVerdictError(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Invalid input: x", judge.VerdictError(&judge.InputError{Reason: "x"}))
	require.Equal(t, "Verdict generation failed", judge.VerdictError(&judge.StatusError{Status: 500, Message: "boom"}))
	require.Equal(t, "Verdict generation failed", judge.VerdictError(errors.New("dial tcp: refused")))
}
