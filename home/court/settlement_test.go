package court_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func requestBy(u string, now time.Time) func(*court.Session) error {
	return func(s *court.Session) error { return s.RequestSettlement(u, now, d1) }
}

func acceptBy(u string) func(*court.Session) error {
	return func(s *court.Session) error { return s.AcceptSettlement(u) }
}

func declineBy(u string) func(*court.Session) error {
	return func(s *court.Session) error { return s.DeclineSettlement(u) }
}

func TestRequestSettlement(t *testing.T) {
	t.Parallel()
	const phaseErr = "Settlement only allowed during EVIDENCE or ANALYZING"
	p := newPending(t)
	refuse(t, p, phaseErr, requestBy("alice", tm(1)))
	refuse(t, inPriming(t), phaseErr, requestBy("alice", tm(1)))
	refuse(t, inVerdict(t), phaseErr, requestBy("bob", tm(1)))

	s := inEvidence(t)
	refuse(t, s, "User not authorized for this session", requestBy("mallory", tm(2)))
	step(t, s, requestBy("alice", tm(2)))
	require.Equal(t, "alice", *s.SettlementRequested)
	require.Equal(t, tm(2).UnixMilli(), *s.SettlementRequestedAt)
	require.Equal(t, tm(7).UnixMilli(), s.SettlementDeadline)
	require.Equal(t, tm(1).Add(time.Hour).UnixMilli(), s.PhaseDeadline, "the phase timer runs on")
	require.Equal(t, "alice", *court.Sanitize(s, "alice").SettlementRequested)
	require.Equal(t, []court.Effect{
		court.Emit{UserID: "bob", Name: "court:settlement_requested", Payload: json.RawMessage(`{"byUserId":"alice"}`)},
		court.Notify{
			UserIDs: []string{"bob"}, Type: "settlement_request", Title: "Settlement Request",
			Body: "Your partner is requesting to settle this dispute peacefully", SessionID: s.ID,
		},
	}, s.TakeEffects())

	// Asking again restarts the timer.
	step(t, s, requestBy("alice", tm(4)))
	require.Equal(t, tm(9).UnixMilli(), s.SettlementDeadline)
	require.Len(t, s.TakeEffects(), 2)
}

// R13: the partner's request does not silently replace a pending one.
func TestR13SecondRequestRefused(t *testing.T) {
	t.Parallel()
	s := inEvidence(t)
	step(t, s, requestBy("alice", tm(2)))
	refuse(t, s, "Your partner already requested a settlement. Accept or decline it.", requestBy("bob", tm(3)))
	require.Equal(t, "alice", *s.SettlementRequested)
	step(t, s, declineBy("bob"))
	step(t, s, requestBy("bob", tm(3)))
	require.Equal(t, "bob", *s.SettlementRequested)
}

// R13: a request does not outlive EVIDENCE and ANALYZING, and a late accept
// is refused rather than deleting a session in PRIMING.
func TestR13AcceptAfterPhaseChange(t *testing.T) {
	t.Parallel()
	s, v := inAnalyzing(t)
	step(t, s, requestBy("alice", tm(3)))
	step(t, s, applyAt(v))
	require.Equal(t, court.PhasePriming, s.Phase)
	require.Nil(t, s.SettlementRequested)
	require.Nil(t, s.SettlementRequestedAt)
	require.Zero(t, s.SettlementDeadline)
	refuse(t, s, "Settlement only allowed during EVIDENCE or ANALYZING", acceptBy("bob"))
	refuse(t, s, "No settlement request pending", declineBy("bob"))
	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.ExpireSettlement(tm(100)) })

	// A request made in EVIDENCE survives into ANALYZING.
	s = inEvidence(t)
	step(t, s, requestBy("bob", tm(2)))
	require.NoError(t, s.SubmitEvidence("alice", "a", "b", "c", tm(3), d1))
	require.NoError(t, s.SubmitEvidence("bob", "a", "b", "c", tm(3), d1))
	require.Equal(t, court.PhaseAnalyzing, s.Phase)
	require.Equal(t, "bob", *s.SettlementRequested)
	s.TakeEffects()
	step(t, s, acceptBy("alice"))
	require.Equal(t, court.EndSettled, s.EndReason)
}

func TestAcceptSettlement(t *testing.T) {
	t.Parallel()
	s := inEvidence(t)
	refuse(t, s, "No settlement request pending", acceptBy("bob"))
	step(t, s, requestBy("alice", tm(2)))
	refuse(t, s, "User not authorized for this session", acceptBy("mallory"))
	refuse(t, s, "Cannot accept your own settlement", acceptBy("alice"))
	s.TakeEffects()
	step(t, s, acceptBy("bob"))
	require.True(t, s.Ended())
	require.Equal(t, court.EndSettled, s.EndReason)
	require.Zero(t, s.SettlementDeadline)
	require.Equal(t, []court.Effect{memoryJob(s)}, s.TakeEffects())
	require.Equal(t, court.IdleState(), court.View(s, "alice"))
}

func TestDeclineSettlement(t *testing.T) {
	t.Parallel()
	s := inEvidence(t)
	refuse(t, s, "No settlement request pending", declineBy("bob"))
	step(t, s, requestBy("alice", tm(2)))
	refuse(t, s, "User not authorized for this session", declineBy("mallory"))
	refuse(t, s, "Cannot decline your own settlement", declineBy("alice"))
	s.TakeEffects()
	step(t, s, declineBy("bob"))
	require.Nil(t, s.SettlementRequested)
	require.Zero(t, s.SettlementDeadline)
	require.Equal(t, court.PhaseEvidence, s.Phase)
	require.Equal(t, []court.Effect{
		court.Emit{UserID: "alice", Name: "court:settlement_declined", Payload: json.RawMessage(`{"byUserId":"bob"}`)},
	}, s.TakeEffects())
	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.ExpireSettlement(tm(100)) })
}

func TestExpireSettlement(t *testing.T) {
	t.Parallel()
	s := inEvidence(t)
	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.ExpireSettlement(tm(100)) })
	step(t, s, requestBy("alice", tm(2)))
	step(t, s, requestBy("alice", tm(4))) // the first request's timer is now stale
	s.TakeEffects()
	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.ExpireSettlement(tm(7)) })
	step(t, s, func(s *court.Session) error { return s.ExpireSettlement(tm(9)) })
	require.Nil(t, s.SettlementRequested)
	require.Zero(t, s.SettlementDeadline)
	require.Equal(t, court.PhaseEvidence, s.Phase)
	require.Empty(t, s.TakeEffects())
	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.ExpireSettlement(tm(100)) })
}
