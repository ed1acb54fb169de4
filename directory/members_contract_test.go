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

// testHandoffNotTakenByOthers: a session handed to a live node is acquired
// by that node only, not by a claim round that listed it before the
// hand-off (its former holder's, which read owned:<node> before the
// hand-off; a peer's). Once the target is dead, it is an orphan.
func testHandoffNotTakenByOthers(t *testing.T, s directory.Store) {
	ctx := t.Context()
	beat(t, s, "n1", "i1")
	beat(t, s, "n2", "i2")
	beat(t, s, "n3", "i3")
	create(t, s, owned("s1", "n1", "i1"))
	create(t, s, owned("s2", "n1", "i1"))
	require.NoError(t, s.Handoff(ctx, "s1", "n1", "i1", "n2", "us"))
	require.NoError(t, s.Handoff(ctx, "s2", "n1", "i1", "n2", "us"))
	awaiting := directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "n2", Epoch: 1}
	for _, n := range [][2]string{{"n1", "i1"}, {"n3", "i3"}} {
		r, err := s.Acquire(ctx, "s1", n[0], n[1])
		require.ErrorIs(t, err, directory.ErrOwned, "%s takes a session handed to live n2", n[0])
		require.Equal(t, awaiting, r)
		got, err := s.AcquireMany(ctx, []string{"s1"}, n[0], n[1])
		require.NoError(t, err)
		require.Empty(t, got, "%s takes a session handed to live n2", n[0])
	}
	r, err := s.RouteOf(ctx, "s1", true)
	require.NoError(t, err)
	require.Equal(t, awaiting, r, "still awaits n2")
	got, err := s.AcquireMany(ctx, []string{"s1"}, "n2", "i2")
	require.NoError(t, err)
	require.Equal(t, uint64(2), got["s1"].Epoch, "the target acquires it")

	require.NoError(t, s.Leave(ctx, "n2", "i2"))
	r, err = s.Acquire(ctx, "s2", "n3", "i3")
	require.NoError(t, err, "a dead target's hand-off is an orphan")
	require.Equal(t, "n3", r.OwnerNode)
	require.Equal(t, uint64(2), r.Epoch)
}
