package court_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func TestTruncate(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		in    string
		limit int
		want  string
	}{
		"short":               {"hello", 10, "hello"},
		"exact":               {"0123456789", 10, "0123456789"},
		"no space":            {"0123456789abc", 10, "0123456789"},
		"space beyond 80%":    {"012345678 abc", 10, "012345678"},
		"space at 80%":        {"01234567 9abc", 10, "01234567 9"},
		"space early":         {"01 3456789abc", 10, "01 3456789"},
		"last space wins":     {"0123 5678 abcd", 10, "0123 5678"},
		"characters not byte": {strings.Repeat("é", 12), 10, strings.Repeat("é", 10)},
		"emoji kept whole":    {"ab😀cdefghijkl", 3, "ab😀"},
		"empty":               {"", 10, ""},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, court.Truncate(tc.in, tc.limit))
		})
	}
}

func TestSubmitEvidenceGuards(t *testing.T) {
	t.Parallel()
	submit := func(u string) func(*court.Session) error {
		return func(s *court.Session) error { return s.SubmitEvidence(u, "e", "f", "n", tm(2), d1) }
	}
	refuse(t, newPending(t), "Not in EVIDENCE phase", submit("alice"))
	s := inEvidence(t)
	refuse(t, s, "User not authorized for this session", submit("mallory"))
	step(t, s, submit("alice"))
	refuse(t, s, "Evidence already submitted", submit("alice"))
	step(t, s, submit("bob"))
	refuse(t, s, "Not in EVIDENCE phase", submit("bob"))
}

func TestSubmitEvidence(t *testing.T) {
	t.Parallel()
	s := inEvidence(t)
	long := strings.Repeat("x", 4500) + " " + strings.Repeat("y", 600)
	step(t, s, func(s *court.Session) error { return s.SubmitEvidence("bob", long, "sad", "calm", tm(2), d1) })
	require.Equal(t, court.PhaseEvidence, s.Phase)
	require.Empty(t, s.TakeEffects(), "one submission has no effect")
	require.Equal(t, strings.Repeat("x", 4500), *s.Partner.Evidence, "cut at the last space")
	require.Equal(t, "calm", *s.Partner.Needs)
	require.Equal(t, "WAITING_EVIDENCE", court.ViewPhase(s, "bob"))
	require.Equal(t, "EVIDENCE", court.ViewPhase(s, "alice"))

	now := tm(3)
	feelings := strings.Repeat("f", 2100)
	step(t, s, func(s *court.Session) error { return s.SubmitEvidence("alice", "e", feelings, "n", now, d1) })
	require.Len(t, *s.Creator.Feelings, 2000)
	require.Equal(t, court.PhaseAnalyzing, s.Phase)
	require.Equal(t, now.Add(5*time.Minute).UnixMilli(), s.PhaseDeadline)
	require.Equal(t, s.Version, s.DeliberationVersion)
	require.Equal(t, []court.Effect{
		court.Notify{
			UserIDs: []string{"alice", "bob"}, Type: "evidence_submitted", Title: "Evidence Complete",
			Body:      "Both partners have submitted evidence. Judge Whiskers is analyzing...",
			SessionID: s.ID,
		},
		court.JudgeCall{Kind: court.JudgeDeliberate, Version: s.Version},
	}, s.TakeEffects())
	require.Equal(t, []court.JudgeCall{{Kind: court.JudgeDeliberate, Version: s.Version}}, s.PendingJudgeCalls())
}

func TestPrimingAndJoint(t *testing.T) {
	t.Parallel()
	s := inPriming(t)
	require.Equal(t, tm(4).Add(time.Hour).UnixMilli(), s.PhaseDeadline)
	prime := func(u string) func(*court.Session) error {
		return func(s *court.Session) error { return s.MarkPrimingComplete(u, tm(5), d1) }
	}
	joint := func(u string) func(*court.Session) error {
		return func(s *court.Session) error { return s.MarkJointReady(u, tm(6), d1) }
	}
	refuse(t, s, "User not authorized for this session", prime("mallory"))
	refuse(t, s, "Not in JOINT_READY phase", joint("alice"))
	step(t, s, prime("alice"))
	require.Equal(t, "WAITING_PRIMING", court.ViewPhase(s, "alice"))
	noop(t, s, prime("alice"))
	step(t, s, prime("bob"))
	require.Equal(t, court.PhaseJointReady, s.Phase)
	require.Equal(t, tm(5).Add(time.Hour).UnixMilli(), s.PhaseDeadline)

	refuse(t, s, "Not in PRIMING phase", prime("bob"))
	refuse(t, s, "User not authorized for this session", joint("mallory"))
	step(t, s, joint("bob"))
	require.Equal(t, "WAITING_JOINT", court.ViewPhase(s, "bob"))
	noop(t, s, joint("bob"))
	step(t, s, joint("alice"))
	require.Equal(t, court.PhaseResolution, s.Phase)
	require.Equal(t, tm(6).Add(time.Hour).UnixMilli(), s.PhaseDeadline)
	require.Empty(t, s.TakeEffects())
}

// TestR24BlankTextsRefused: blank evidence, feelings, needs or addendum is
// refused with a readable error before anything changes or the judge is
// called; the original accepted it on the socket and failed in the judge.
func TestR24BlankTextsRefused(t *testing.T) {
	t.Parallel()
	s := inEvidence(t)
	v := s.Version
	for _, in := range [][3]string{{"", "f", "n"}, {"e", "  ", "n"}, {"e", "f", "\n\t"}} {
		require.ErrorIs(t, s.SubmitEvidence("alice", in[0], in[1], in[2], tm(3), d1), court.ErrEvidenceRequired)
	}
	require.Equal(t, v, s.Version)
	require.Empty(t, s.TakeEffects())

	s = inVerdict(t)
	v = s.Version
	require.ErrorIs(t, s.SubmitAddendum("bob", " \u00a0 ", tm(9), d1), court.ErrAddendumRequired)
	require.Equal(t, v, s.Version)
	require.Zero(t, s.AddendumCount)
}
