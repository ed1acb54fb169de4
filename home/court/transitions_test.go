package court_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func TestAccept(t *testing.T) {
	t.Parallel()
	t.Run("wrong user", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		require.EqualError(t, s.Accept("alice", t0, d1), "Not the intended partner")
		require.EqualError(t, s.Accept("mallory", t0, d1), "Not the intended partner")
		require.Equal(t, court.PhasePending, s.Phase)
		require.Equal(t, uint64(1), s.Version)
	})
	t.Run("partner", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		now := t0.Add(time.Minute)
		require.NoError(t, s.Accept("bob", now, d1))
		require.Equal(t, court.PhaseEvidence, s.Phase)
		require.Equal(t, uint64(2), s.Version)
		require.Equal(t, now.UnixMilli(), s.PhaseStartedAt)
		require.Equal(t, now.Add(time.Hour).UnixMilli(), s.PhaseDeadline)
		require.EqualError(t, s.Accept("bob", now, d1), "Session not in PENDING phase")
		require.Equal(t, uint64(2), s.Version)
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	require.EqualError(t, s.Cancel("bob"), "Only creator can cancel")
	require.Equal(t, uint64(1), s.Version)
	require.NoError(t, s.Cancel("alice"))
	require.True(t, s.Ended())
	require.Equal(t, court.EndCancelled, s.EndReason)
	require.Equal(t, uint64(2), s.Version)
	require.Zero(t, s.PhaseDeadline)

	s = newPending(t)
	require.NoError(t, s.Accept("bob", t0, d1))
	require.EqualError(t, s.Cancel("alice"), "Can only cancel pending sessions")
	require.EqualError(t, s.Cancel("bob"), "Can only cancel pending sessions")
	require.Equal(t, court.PhaseEvidence, s.Phase)
}

func TestDismiss(t *testing.T) {
	t.Parallel()
	for _, p := range court.Phases[1:] {
		for _, user := range []string{"alice", "bob"} {
			t.Run(string(p)+"/"+user, func(t *testing.T) {
				t.Parallel()
				s := newPending(t)
				s.Phase = p
				require.EqualError(t, s.Dismiss("mallory"), "User not part of this session")
				require.NoError(t, s.Dismiss(user))
				require.True(t, s.Ended())
				require.Equal(t, court.EndDismissed, s.EndReason)
				require.Equal(t, uint64(2), s.Version)
				require.EqualError(t, s.Dismiss(user), "No session found")
			})
		}
	}
}

func TestExpire(t *testing.T) {
	t.Parallel()
	t.Run("not due", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		require.ErrorIs(t, s.Expire(t0.Add(9*time.Minute), d1), court.ErrNotDue)
		require.Equal(t, uint64(1), s.Version)
	})
	t.Run("pending toss", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		require.NoError(t, s.Expire(t0.Add(10*time.Minute), d1))
		require.True(t, s.Ended())
		require.Equal(t, court.EndTimeout, s.EndReason)
		require.Equal(t, uint64(2), s.Version)
		require.ErrorIs(t, s.Expire(t0.Add(time.Hour), d1), court.ErrNotDue, "fires once")
	})
	t.Run("evidence toss", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		require.NoError(t, s.Accept("bob", t0, d1))
		require.ErrorIs(t, s.Expire(t0.Add(59*time.Minute), d1), court.ErrNotDue)
		require.NoError(t, s.Expire(t0.Add(time.Hour), d1))
		require.Equal(t, court.EndTimeout, s.EndReason)
	})
	t.Run("verdict closes then removes", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		s.Phase = court.PhaseVerdict
		s.SettlementDeadline = 1
		now := time.UnixMilli(s.PhaseDeadline)
		require.NoError(t, s.Expire(now, d1))
		require.Equal(t, court.PhaseClosed, s.Phase)
		require.True(t, s.Creator.VerdictAccepted && s.Partner.VerdictAccepted)
		require.Zero(t, s.SettlementDeadline)
		require.Equal(t, now.Add(30*time.Second).UnixMilli(), s.PhaseDeadline)
		require.Equal(t, "CLOSED", court.ViewPhase(s, "alice"))
		require.NoError(t, s.Expire(now.Add(30*time.Second), d1))
		require.Equal(t, court.EndRemoved, s.EndReason)
		require.Equal(t, uint64(3), s.Version)
	})
}

func TestVersionIncrementsOncePerTransition(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	steps := []func() error{
		func() error { return s.Accept("bob", t0, d1) },
		func() error { return s.Expire(t0.Add(time.Hour), d1) },
	}
	for i, step := range steps {
		require.NoError(t, step())
		require.Equal(t, uint64(i+2), s.Version)
	}
}
