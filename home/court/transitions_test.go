package court_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/home/court"
)

func TestNewSessionNotifiesPartner(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	require.Equal(t, []court.Effect{court.Notify{
		UserIDs: []string{"bob"}, Type: "court_session", Title: "Court Session Request",
		Body: "Your partner wants to settle a dispute in Cat Court", SessionID: s.ID,
	}}, s.TakeEffects())
	require.Empty(t, s.TakeEffects(), "taken once")
}

func TestCloneHasNoEffects(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	c := s.Clone()
	require.Empty(t, c.TakeEffects())
	require.Len(t, s.TakeEffects(), 1)
}

func TestAccept(t *testing.T) {
	t.Parallel()
	t.Run("wrong user", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		refuse(t, s, "Not the intended partner", func(s *court.Session) error { return s.Accept("alice", t0, d1) })
		refuse(t, s, "Not the intended partner", func(s *court.Session) error { return s.Accept("mallory", t0, d1) })
	})
	t.Run("partner", func(t *testing.T) {
		t.Parallel()
		s := newPending(t)
		s.TakeEffects()
		now := t0.Add(time.Minute)
		step(t, s, func(s *court.Session) error { return s.Accept("bob", now, d1) })
		require.Equal(t, court.PhaseEvidence, s.Phase)
		require.Equal(t, now.UnixMilli(), s.PhaseStartedAt)
		require.Equal(t, now.Add(time.Hour).UnixMilli(), s.PhaseDeadline)
		require.Empty(t, s.TakeEffects())
		refuse(t, s, "Session not in PENDING phase", func(s *court.Session) error { return s.Accept("bob", now, d1) })
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	s := newPending(t)
	refuse(t, s, "Only creator can cancel", func(s *court.Session) error { return s.Cancel("bob") })
	step(t, s, func(s *court.Session) error { return s.Cancel("alice") })
	require.True(t, s.Ended())
	require.Equal(t, court.EndCancelled, s.EndReason)
	require.Zero(t, s.PhaseDeadline)
	require.Empty(t, s.TakeEffects(), "cancel enqueues no memory job")

	s = inEvidence(t)
	refuse(t, s, "Can only cancel pending sessions", func(s *court.Session) error { return s.Cancel("alice") })
	refuse(t, s, "Can only cancel pending sessions", func(s *court.Session) error { return s.Cancel("bob") })
}

func TestDismiss(t *testing.T) {
	t.Parallel()
	for _, p := range court.Phases[1:] {
		for _, user := range []string{"alice", "bob"} {
			t.Run(string(p)+"/"+user, func(t *testing.T) {
				t.Parallel()
				s := newPending(t)
				s.Phase = p
				refuse(t, s, "User not part of this session", func(s *court.Session) error { return s.Dismiss("mallory") })
				step(t, s, func(s *court.Session) error { return s.Dismiss(user) })
				require.True(t, s.Ended())
				require.Equal(t, court.EndDismissed, s.EndReason)
				if p == court.PhaseClosed {
					require.Empty(t, s.TakeEffects(), "the case's memory job was enqueued at close")
				} else {
					require.Equal(t, []court.Effect{memoryJob(s)}, s.TakeEffects())
				}
				refuse(t, s, "No session found", func(s *court.Session) error { return s.Dismiss(user) })
			})
		}
	}
}

func TestExpireTosses(t *testing.T) {
	t.Parallel()
	for name, build := range map[string]func(*testing.T) *court.Session{
		"pending":  func(t *testing.T) *court.Session { s := newPending(t); s.TakeEffects(); return s },
		"evidence": inEvidence,
		"analyzing": func(t *testing.T) *court.Session {
			s, _ := inAnalyzing(t)
			return s
		},
		"priming": inPriming,
		"joint": func(t *testing.T) *court.Session {
			s := inPriming(t)
			require.NoError(t, s.MarkPrimingComplete("alice", tm(5), d1))
			require.NoError(t, s.MarkPrimingComplete("bob", tm(5), d1))
			require.Equal(t, court.PhaseJointReady, s.Phase)
			return s
		},
		"resolution": inResolution,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := build(t)
			due := time.UnixMilli(s.PhaseDeadline)
			refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.Expire(due.Add(-time.Millisecond), "case-1", d1) })
			step(t, s, func(s *court.Session) error { return s.Expire(due, "case-1", d1) })
			require.True(t, s.Ended())
			require.Equal(t, court.EndTimeout, s.EndReason)
			require.Nil(t, s.CaseID)
			require.Equal(t, []court.Effect{memoryJob(s)}, s.TakeEffects())
			refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.Expire(due.Add(time.Hour), "case-1", d1) })
		})
	}
}

func TestExpireVerdictClosesThenRemoves(t *testing.T) {
	t.Parallel()
	s := inVerdict(t)
	step(t, s, func(s *court.Session) error { return s.AcceptVerdict("bob", "unused", tm(9), d1) })
	now := time.UnixMilli(s.PhaseDeadline)
	require.Equal(t, tm(8).Add(time.Hour), now)
	refuseIs(t, s, court.ErrNoCaseID, func(s *court.Session) error { return s.Expire(now, "", d1) })
	step(t, s, func(s *court.Session) error { return s.Expire(now, "case-1", d1) })
	require.Equal(t, court.PhaseClosed, s.Phase)
	require.True(t, s.Creator.VerdictAccepted && s.Partner.VerdictAccepted)
	require.Equal(t, "case-1", *s.CaseID)
	require.Equal(t, now.Add(30*time.Second).UnixMilli(), s.PhaseDeadline)
	caseID := "case-1"
	effects := s.TakeEffects()
	require.Equal(t, []court.Effect{
		court.SaveCase{CaseID: "case-1"},
		court.MemoryJob{SessionID: s.ID, CaseID: &caseID, Case: court.CaseData(s)},
		resolvedOf(t, effects),
	}, effects)
	require.Equal(t, now.UnixMilli(), resolvedOf(t, effects).ResolvedAt, "the timer's close is announced too")
	require.Equal(t, "CLOSED", court.ViewPhase(s, "alice"))

	refuseIs(t, s, court.ErrNotDue, func(s *court.Session) error { return s.Expire(now.Add(29*time.Second), "x", d1) })
	step(t, s, func(s *court.Session) error { return s.Expire(now.Add(30*time.Second), "x", d1) })
	require.Equal(t, court.EndRemoved, s.EndReason)
	require.Equal(t, "case-1", *s.CaseID)
	require.Empty(t, s.TakeEffects())
}
