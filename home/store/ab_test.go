package store_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/store"
)

// A judge result as the pipeline returns it.
const (
	abAnalysis    = `{"caseMetadata":{"caseTitle":"Dishes","severityLevel":"low","shortResolution":"Take turns"}}`
	abResolutions = `[{"id":"resolution_1","title":"Take turns"},{"id":"resolution_2","title":"Hire help"},{"id":"resolution_3","title":"Talk"}]`
	abPriming     = `{"userA":{"p":"creator's"},"userB":{"p":"partner's"}}`
)

// closedWithAddendum runs a session of creator and partner to CLOSED through
// the court's own transitions: evidence, the pipeline, picks, an addendum by
// the partner, the pipeline again, the creator picking resolution_1 and the
// partner resolution_2 then accepting the creator's, and both accepts.
func closedWithAddendum(t *testing.T, s *court.Session, caseID string) {
	t.Helper()
	now := time.Now()
	c, p := s.CreatorID, s.PartnerID
	run := func(err error) { t.Helper(); require.NoError(t, err) }
	deliberate := func() {
		run(s.ApplyDeliberation(s.DeliberationVersion, court.Deliberation{
			Analysis: json.RawMessage(abAnalysis), Resolutions: json.RawMessage(abResolutions),
			AssessedIntensity: json.RawMessage(`"low"`), PrimingContent: json.RawMessage(abPriming),
			JointMenu: json.RawMessage(`{"theSummary":"You both care."}`),
		}, now, durations))
		for _, u := range []string{c, p} {
			run(s.MarkPrimingComplete(u, now, durations))
		}
		for _, u := range []string{c, p} {
			run(s.MarkJointReady(u, now, durations))
		}
	}
	run(s.Accept(p, now, durations))
	run(s.SubmitEvidence(c, "creator saw", "creator felt", "creator needs", now, durations))
	run(s.SubmitEvidence(p, "partner saw", "partner felt", "partner needs", now, durations))
	deliberate()
	run(s.SubmitResolutionPick(c, "resolution_1", now, durations))
	run(s.SubmitResolutionPick(p, "resolution_1", now, durations))
	run(s.SubmitAddendum(p, "one more thing", now, durations))
	deliberate()
	run(s.SubmitResolutionPick(c, "resolution_1", now, durations))
	run(s.AcceptPartnerResolution(p, now, durations))
	require.Equal(t, court.PhaseVerdict, s.Phase)
	run(s.AcceptVerdict(c, caseID, now, durations))
	run(s.AcceptVerdict(p, caseID, now, durations))
	require.Equal(t, court.PhaseClosed, s.Phase)
}

// TestR21ABMeanings checks each row of docs/ab.md, the one place the A/B
// meanings are written down, against what a closed session writes.
func TestR21ABMeanings(t *testing.T) {
	t.Parallel()
	st, pool := newStore(t)
	ctx := t.Context()
	creator, partner := newUser("zed"), newUser("amy") // the partner sorts first
	s := create(t, st, creator, partner, 1)
	prev := s.Version
	s.TakeEffects()
	caseID := newID()
	closedWithAddendum(t, s, caseID)
	effects := s.TakeEffects()
	require.NoError(t, st.Commit(ctx, closeCommit(s, prev, effects)))

	// meaning names the user a value belongs to: creator first, or sorted.
	meaning := func(isCreator, isPartner bool) string {
		switch {
		case isCreator && !isPartner:
			return "creator"
		case isPartner && !isCreator:
			return "sorted"
		}
		return "unclear"
	}
	str := func(q string, args ...any) string {
		t.Helper()
		var v string
		require.NoError(t, pool.QueryRow(ctx, q, args...).Scan(&v))
		return v
	}
	var memory struct {
		Case struct {
			Participants struct {
				UserA struct {
					ID string `json:"id"`
				} `json:"userA"`
			} `json:"participants"`
		} `json:"case"`
	}
	require.NoError(t, json.Unmarshal([]byte(str(`SELECT payload::text FROM court_outbox WHERE session_id = $1 AND kind = 'memory_job'`, s.ID)), &memory))
	var resolved map[string]any
	require.NoError(t, json.Unmarshal([]byte(str(`SELECT payload::text FROM court_outbox WHERE session_id = $1 AND kind = 'case_resolved'`, s.ID)), &resolved))
	var state struct {
		Session struct {
			PrimingContent  map[string]json.RawMessage `json:"primingContent"`
			ResolutionPicks struct {
				UserA *string `json:"userA"`
			} `json:"resolutionPicks"`
		} `json:"session"`
	}
	enc, err := court.NewStateEncoder(s) // the CLOSED state
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(enc.AppendState(nil, creator), &state))

	checks := map[string]func() string{
		"court_sessions.user_a_*": func() string {
			v := str(`SELECT user_a_evidence FROM court_sessions WHERE id = $1`, s.ID)
			return meaning(v == "creator saw", v == "partner saw")
		},
		"cases.user_a_id": func() string {
			id := str(`SELECT user_a_id FROM cases WHERE id = $1`, caseID)
			in := str(`SELECT user_a_input FROM cases WHERE id = $1`, caseID)
			require.Equal(t, id == creator, in == "creator saw", "inputs follow user_a_id")
			return meaning(id == creator, id == partner)
		},
		"verdicts.addendum_by": func() string {
			by := str(`SELECT addendum_by FROM verdicts WHERE case_id = $1 AND version = 2`, caseID)
			return meaning(by == "userB", by == "userA") // the partner wrote it
		},
		"verdicts.content._meta.userAResolutionPick": func() string {
			// In the second round only the creator picked (resolution_1);
			// the partner accepted it.
			title := str(`SELECT content->'_meta'->'userAResolutionPick'->>'title' FROM verdicts WHERE case_id = $1 AND version = 2`, caseID)
			return meaning(title == "Take turns", false)
		},
		"court:state session.primingContent.userA": func() string {
			a := string(state.Session.PrimingContent["userA"])
			return meaning(strings.Contains(a, "creator's"), strings.Contains(a, "partner's"))
		},
		"court:state session.resolutionPicks.userA": func() string {
			return meaning(state.Session.ResolutionPicks.UserA != nil && *state.Session.ResolutionPicks.UserA == "resolution_1", false)
		},
		"memory_job case.participants.userA": func() string {
			return meaning(memory.Case.Participants.UserA.ID == creator, memory.Case.Participants.UserA.ID == partner)
		},
		"case_resolved": func() string {
			_, hasA := resolved["userAId"]
			if resolved["creatorId"] == creator && resolved["partnerId"] == partner && !hasA {
				return "roles"
			}
			return "unclear"
		},
	}

	doc, err := os.ReadFile("../../docs/ab.md")
	require.NoError(t, err)
	documented := map[string]string{}
	for line := range strings.Lines(string(doc)) {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		documented[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[2])
	}
	require.Len(t, documented, len(checks), "every documented row is checked, every check documented")
	for where, want := range documented {
		check, ok := checks[where]
		require.True(t, ok, "docs/ab.md row %q has no check", where)
		require.Equal(t, want, check(), where)
	}
}

// closeCommit commits s, created at version prev, with effects.
func closeCommit(s *court.Session, prev uint64, effects []court.Effect) store.Commit {
	return store.Commit{Prev: prev, Session: s, Epoch: 1, Node: "n1", Event: "close", Effects: effects}
}
