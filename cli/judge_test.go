package cli

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestHomeRequiresJudge: a production home never falls back to the dev
// judge's canned verdicts; `courtd dev` still defaults to it.
func TestHomeRequiresJudge(t *testing.T) {
	t.Parallel()
	home := newHomeCmd()
	require.Empty(t, home.Flags().Lookup("judge").DefValue)
	var f judgeFlags
	_, err := f.open()
	var ue usageError
	require.ErrorAs(t, err, &ue)
	require.ErrorContains(t, err, "--judge is required")
	require.Equal(t, "dev", newDevCmd().Flags().Lookup("judge").DefValue)
}
