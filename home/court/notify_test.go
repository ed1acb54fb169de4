package court_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

// preferenceCategories are the categories of the app's notification
// preferences that should_send_notification checks (court-protocol.md §4.7).
var preferenceCategories = []string{"court_sessions", "verdicts"}

// TestR19PushCategories: every push the court sends maps to a preference
// category, never to its own type name (which no preference matches).
func TestR19PushCategories(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{court.NotifyCourtSession, court.NotifyEvidenceSubmitted, court.NotifySettlementRequest} {
		require.Contains(t, preferenceCategories, court.Category(typ), typ)
	}
	require.Empty(t, court.Category("verdict_ready"))
	// The pushes of a whole session and of a settlement request.
	s := inEvidence(t)
	var notifies []court.Notify
	require.NoError(t, s.RequestSettlement("alice", tm(3), d1))
	for _, e := range s.TakeEffects() {
		if n, ok := e.(court.Notify); ok {
			notifies = append(notifies, n)
		}
	}
	require.NotEmpty(t, notifies)
	for _, n := range notifies {
		require.Equal(t, "court_sessions", court.Category(n.Type))
	}
}
