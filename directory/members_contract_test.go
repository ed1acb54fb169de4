package directory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
)

// testMembers: an announcement is listed while its TTL runs, replaced by
// the next one, forgotten once it lapses or is withdrawn; bad announcements
// are refused.
func testMembers(t *testing.T, s directory.Store) {
	ctx := t.Context()
	edge := directory.Member{ID: "e1", Role: "edge", Region: "us", Version: "v1", State: directory.StateActive, Sockets: 3}
	home := directory.Member{ID: "h1", Role: "home", Region: "eu", MeshAddr: "10.0.0.1:7000", Version: "v1", State: directory.StateActive}
	require.NoError(t, s.Announce(ctx, edge, 150*time.Millisecond))
	require.NoError(t, s.Announce(ctx, home, time.Minute))
	got, err := s.Members(ctx)
	require.NoError(t, err)
	require.Equal(t, []directory.Member{edge, home}, got)

	home.State, home.Sessions = directory.StateDraining, 7
	require.NoError(t, s.Announce(ctx, home, time.Minute))
	require.Eventually(t, func() bool {
		got, err := s.Members(ctx)
		return err == nil && len(got) == 1 && got[0] == home
	}, 5*time.Second, 20*time.Millisecond, "the edge's announcement lapses, the home's second one replaced its first")

	require.NoError(t, s.Withdraw(ctx, "h1"))
	got, err = s.Members(ctx)
	require.NoError(t, err)
	require.Empty(t, got)

	for _, bad := range []directory.Member{
		{Role: "edge", Region: "us", State: directory.StateActive},
		{ID: "x", Role: "judge", Region: "us", State: directory.StateActive},
		{ID: "x", Role: "edge", State: directory.StateActive},
		{ID: "x", Role: "edge", Region: "us", State: "sleepy"},
	} {
		require.Error(t, s.Announce(ctx, bad, time.Minute), "%+v", bad)
	}
}

// testHandoff: a holder hands a session to a named node of another region;
// only the holder may; the target acquires it at the next epoch and clears
// its hand-off.
func testHandoff(t *testing.T, s directory.Store) {
	ctx := t.Context()
	beat(t, s, "n1", "i1")
	beat(t, s, "n2", "i2")
	create(t, s, owned("s1", "n1", "i1"))
	require.ErrorIs(t, s.Handoff(ctx, "s1", "n1", "other", "n2", "eu"), directory.ErrNotOwner)
	require.ErrorIs(t, s.Handoff(ctx, "nope", "n1", "i1", "n2", "eu"), directory.ErrNotFound)
	require.Error(t, s.Handoff(ctx, "s1", "n1", "i1", "", "eu"))
	require.NoError(t, s.Handoff(ctx, "s1", "n1", "i1", "n2", "eu"))
	r, err := s.RouteOf(ctx, "s1", true)
	require.NoError(t, err)
	require.Equal(t, directory.Route{SessionID: "s1", HomeRegion: "eu", OwnerNode: "n2", Epoch: 1}, r)
	owned1, err := s.Owned(ctx, "n1")
	require.NoError(t, err)
	require.Empty(t, owned1)
	handed, err := s.HandedTo(ctx, "n2")
	require.NoError(t, err)
	require.Equal(t, []string{"s1"}, handed)
	require.NoError(t, s.ClearHandoffs(ctx, "n2", "s1"))
	handed, err = s.HandedTo(ctx, "n2")
	require.NoError(t, err)
	require.Equal(t, []string{"s1"}, handed, "a hand-off still awaiting n2 is not cleared (handed again after n2 read its set)")
	r, err = s.Acquire(ctx, "s1", "n2", "i2")
	require.NoError(t, err)
	require.Equal(t, uint64(2), r.Epoch)
	require.NoError(t, s.ClearHandoffs(ctx, "n2", "s1"))
	handed, err = s.HandedTo(ctx, "n2")
	require.NoError(t, err)
	require.Empty(t, handed)
}
