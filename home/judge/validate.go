package judge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"courtmesh/home/court"
)

// Validate checks c as the LLM input schema does (§3.6 step 6): each user's
// cameraFacts, theStoryIamTellingMyself and unmetNeeds not court.Blank, and
// well formed addenda. The court refuses blank texts with the same rule
// before any call (R24). The error is an *InputError.
func (c Case) Validate() error {
	if c.SessionID == "" {
		return invalid("sessionId is required")
	}
	for _, p := range []struct {
		who   string
		party Party
	}{{"userA", c.Creator}, {"userB", c.Partner}} {
		for _, f := range []struct{ name, value string }{
			{"cameraFacts", p.party.Evidence},
			{"theStoryIamTellingMyself", p.party.Feelings},
			{"unmetNeeds", p.party.Needs},
		} {
			if court.Blank(f.value) {
				return invalid("%s.%s must not be empty", p.who, f.name)
			}
		}
	}
	for i, a := range c.Addenda {
		if a.From != "userA" && a.From != "userB" {
			return invalid("addenda[%d].from must be userA or userB", i)
		}
		if court.Blank(a.Text) {
			return invalid("addenda[%d].text must not be empty", i)
		}
	}
	return nil
}

// Validate checks the case and the phase 1 output it carries.
func (r Phase2Request) Validate() error {
	if err := r.Case.Validate(); err != nil {
		return err
	}
	if err := checkAnalysis(r.Analysis); err != nil {
		return invalid("%v", err)
	}
	if err := checkResolutions(r.Resolutions); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// Validate checks that r names a session and two resolutions.
func (r HybridRequest) Validate() error {
	switch {
	case r.SessionID == "":
		return invalid("sessionId is required")
	case !isObject(r.Analysis):
		return invalid("analysis must be an object")
	case r.PickA.ID == "" || r.PickA.Title == "":
		return invalid("pick_a needs an id and a title")
	case r.PickB.ID == "" || r.PickB.Title == "":
		return invalid("pick_b needs an id and a title")
	}
	return nil
}

// check validates and normalises a phase 1 output.
func (r *Phase1Result) check() error {
	if err := checkAnalysis(r.Analysis); err != nil {
		return err
	}
	normaliseResolutions(r.Resolutions)
	return checkResolutions(r.Resolutions)
}

func (r *Phase2Result) check() error {
	if !isObject(r.PrimingContent.UserA) || !isObject(r.PrimingContent.UserB) {
		return errors.New("primingContent needs userA and userB objects")
	}
	var menu struct {
		TheSummary    string `json:"theSummary"`
		ClosingWisdom string `json:"closingWisdom"`
	}
	if !isObject(r.JointMenu) || json.Unmarshal(r.JointMenu, &menu) != nil {
		return errors.New("jointMenu must be an object")
	}
	if menu.TheSummary == "" || menu.ClosingWisdom == "" {
		return errors.New("jointMenu needs theSummary and closingWisdom")
	}
	return nil
}

func (h *Hybrid) check() error {
	if h.Title == "" || h.Description == "" {
		return errors.New("hybrid needs a title and a description")
	}
	return nil
}

func checkAnalysis(raw json.RawMessage) error {
	var a struct {
		CaseMetadata *struct {
			CaseTitle     string `json:"caseTitle"`
			SeverityLevel string `json:"severityLevel"`
		} `json:"caseMetadata"`
	}
	if !isObject(raw) || json.Unmarshal(raw, &a) != nil {
		return errors.New("analysis must be an object")
	}
	if a.CaseMetadata == nil || a.CaseMetadata.CaseTitle == "" || a.CaseMetadata.SeverityLevel == "" {
		return errors.New("analysis.caseMetadata needs caseTitle and severityLevel")
	}
	return nil
}

// checkResolutions requires exactly resolution_1, resolution_2 and
// resolution_3, in that order, each with a title and a description.
func checkResolutions(rs []Resolution) error {
	if len(rs) != 3 {
		return fmt.Errorf("want 3 resolutions, got %d", len(rs))
	}
	for i, r := range rs {
		if want := fmt.Sprintf("resolution_%d", i+1); r.ID != want {
			return fmt.Errorf("resolutions[%d].id is %q, want %q", i, r.ID, want)
		}
		if r.Title == "" || r.CombinedDescription == "" {
			return fmt.Errorf("%s needs a title and a description", r.ID)
		}
	}
	return nil
}

// normaliseResolutions sorts rs by id, fills combinedDescription from
// description and makes repairAttemptIds non-null.
func normaliseResolutions(rs []Resolution) {
	for i := range rs {
		if rs[i].CombinedDescription == "" {
			rs[i].CombinedDescription = rs[i].Description
		}
		if rs[i].RepairAttemptIDs == nil {
			rs[i].RepairAttemptIDs = []string{}
		}
	}
	slices.SortStableFunc(rs, func(a, b Resolution) int { return strings.Compare(a.ID, b.ID) })
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 1 && raw[0] == '{' && json.Valid(raw)
}
