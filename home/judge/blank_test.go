package judge_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
	"courtmesh/home/judge"
)

// TestR24OneRuleForEvidence: the court refuses exactly the submissions the
// judge's input check would refuse, before any judge call, so blank evidence
// never becomes an error verdict after a full LLM call. Both socket and REST
// reach court.SubmitEvidence through the same home action.
func TestR24OneRuleForEvidence(t *testing.T) {
	t.Parallel()
	d := court.DurationsFromScale(1)
	now := time.UnixMilli(1_700_000_000_000)
	texts := []string{"", " ", "\t\n", "\u00a0\u2003", "ok", " a ", "日本",
		strings.Repeat(" ", court.LimitEvidence) + "x", // blank once truncated to 5000
		strings.Repeat(" ", court.LimitFeelings) + "y"}
	good := "fine"
	for _, field := range []int{0, 1, 2} {
		for _, txt := range texts {
			in := [3]string{good, good, good}
			in[field] = txt
			s, err := court.NewSession("11111111-2222-4333-8444-555555555555", "alice", "bob", "", "swift", now, d)
			require.NoError(t, err)
			require.NoError(t, s.Accept("bob", now, d))
			require.NoError(t, s.SubmitEvidence("bob", good, good, good, now, d))
			v := s.Version
			err = s.SubmitEvidence("alice", in[0], in[1], in[2], now, d)

			c := judge.Case{SessionID: s.ID,
				Creator: judge.Party{UserID: "alice", Evidence: court.Truncate(in[0], court.LimitEvidence),
					Feelings: court.Truncate(in[1], court.LimitFeelings), Needs: court.Truncate(in[2], court.LimitNeeds)},
				Partner: judge.Party{UserID: "bob", Evidence: good, Feelings: good, Needs: good}}
			judgeErr := c.Validate()
			if judgeErr != nil {
				require.ErrorIs(t, err, court.ErrEvidenceRequired, "field %d %q: the judge refuses it, so must the court", field, txt)
				require.Equal(t, v, s.Version, "a refused submission changes nothing")
				require.Equal(t, court.PhaseEvidence, s.Phase, "no judge call")
				continue
			}
			require.NoError(t, err, "field %d %q", field, txt)
			require.Equal(t, court.PhaseAnalyzing, s.Phase)
		}
	}
}
