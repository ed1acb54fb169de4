package directory_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
)

// contract runs the behaviour every Directory must have. newDir returns a
// directory of its own to each subtest.
func contract(t *testing.T, newDir func(t *testing.T) directory.Directory) {
	cases := []struct {
		name string
		run  func(t *testing.T, d directory.Directory)
	}{
		{"NotFound", testNotFound},
		{"CreateLookup", testCreateLookup},
		{"Busy", testBusy},
		{"CrossedServes", testCrossedServes},
		{"EndSession", testEndSession},
		{"StaleClaim", testStaleClaim},
		{"Presence", testPresence},
		{"PresenceExpiry", testPresenceExpiry},
		{"InvalidArguments", testInvalidArguments},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newDir(t))
		})
	}
}

func route(sessionID string) directory.Route {
	return directory.Route{SessionID: sessionID, HomeRegion: "us", OwnerNode: "home-us-1", Epoch: 1}
}

func testNotFound(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	for _, fresh := range []bool{false, true} {
		_, err := d.Lookup(ctx, "nobody", fresh)
		require.ErrorIs(t, err, directory.ErrNotFound)
		_, err = d.RouteOf(ctx, "no-session", fresh)
		require.ErrorIs(t, err, directory.ErrNotFound)
	}
	edges, err := d.Presence(ctx, "nobody")
	require.NoError(t, err)
	require.Empty(t, edges)
}

func testCreateLookup(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	r := directory.Route{SessionID: "a-b", HomeRegion: "asia", OwnerNode: "home-asia-2", Epoch: 7}
	// Warm the caches with the misses first: creation must invalidate them.
	_, err := d.Lookup(ctx, "a", false)
	require.ErrorIs(t, err, directory.ErrNotFound)
	_, err = d.RouteOf(ctx, "a-b", false)
	require.ErrorIs(t, err, directory.ErrNotFound)

	require.NoError(t, d.CreateSession(ctx, r, "a", "b"))
	for _, u := range []string{"a", "b"} {
		got, err := d.Lookup(ctx, u, true)
		require.NoError(t, err)
		require.Equal(t, r, got, "user %s", u)
		eventuallyLookup(t, d, u, r)
	}
	got, err := d.RouteOf(ctx, "a-b", true)
	require.NoError(t, err)
	require.Equal(t, r, got)
	eventuallyRouteOf(t, d, "a-b", r)
}

func testBusy(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	require.NoError(t, d.CreateSession(ctx, route("a-b"), "a", "b"))
	for _, pair := range [][2]string{{"a", "c"}, {"c", "b"}, {"b", "a"}, {"a", "b"}} {
		sid := pair[0] + "-x-" + pair[1]
		err := d.CreateSession(ctx, route(sid), pair[0], pair[1])
		require.ErrorIs(t, err, directory.ErrUserBusy, "pair %v", pair)
		_, err = d.RouteOf(ctx, sid, true)
		require.ErrorIs(t, err, directory.ErrNotFound, "failed create stored a route")
	}
	_, err := d.Lookup(ctx, "c", true)
	require.ErrorIs(t, err, directory.ErrNotFound, "failed create claimed the free user")
	got, err := d.Lookup(ctx, "a", true)
	require.NoError(t, err)
	require.Equal(t, "a-b", got.SessionID)
}

func testCrossedServes(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	for round := range 50 {
		a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() { <-start; errs[0] = d.CreateSession(ctx, route(a+"-"+b), a, b) })
		wg.Go(func() { <-start; errs[1] = d.CreateSession(ctx, route(b+"-"+a), b, a) })
		close(start)
		wg.Wait()

		winner := a + "-" + b
		if errs[0] != nil {
			winner = b + "-" + a
			errs[0], errs[1] = errs[1], errs[0]
		}
		require.NoError(t, errs[0], "round %d: no success", round)
		require.ErrorIs(t, errs[1], directory.ErrUserBusy, "round %d", round)
		for _, u := range []string{a, b} {
			got, err := d.Lookup(ctx, u, true)
			require.NoError(t, err)
			require.Equal(t, winner, got.SessionID, "round %d user %s", round, u)
		}
	}
}

func testEndSession(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	require.NoError(t, d.CreateSession(ctx, route("a-b"), "a", "b"))
	require.NoError(t, d.CreateSession(ctx, route("c-d"), "c", "d"))
	// c claims another session: ending a-b must leave that claim alone.
	require.NoError(t, d.EndSession(ctx, "a-b", "a", "b", "c"))
	for _, u := range []string{"a", "b"} {
		_, err := d.Lookup(ctx, u, true)
		require.ErrorIs(t, err, directory.ErrNotFound)
		eventuallyLookup(t, d, u, directory.Route{})
	}
	_, err := d.RouteOf(ctx, "a-b", true)
	require.ErrorIs(t, err, directory.ErrNotFound)
	eventuallyRouteOf(t, d, "a-b", directory.Route{})
	for _, u := range []string{"c", "d"} {
		got, err := d.Lookup(ctx, u, true)
		require.NoError(t, err)
		require.Equal(t, "c-d", got.SessionID)
		eventuallyLookup(t, d, u, route("c-d"))
	}
	require.NoError(t, d.EndSession(ctx, "a-b", "a"), "ending twice is a no-op")
	require.NoError(t, d.CreateSession(ctx, route("a-b"), "a", "b"), "ended users are free")
}

func testStaleClaim(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	require.NoError(t, d.CreateSession(ctx, route("a-b"), "a", "b"))
	require.NoError(t, d.EndSession(ctx, "a-b")) // route gone, claims left behind
	_, err := d.Lookup(ctx, "a", true)
	require.ErrorIs(t, err, directory.ErrNotFound)
	require.NoError(t, d.CreateSession(ctx, route("a-c"), "a", "c"))
	got, err := d.Lookup(ctx, "a", true)
	require.NoError(t, err)
	require.Equal(t, "a-c", got.SessionID)
	eventuallyLookup(t, d, "a", route("a-c"))
}

func testPresence(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	require.NoError(t, d.AddPresence(ctx, "edge-us-2", time.Minute, "u1", "u2"))
	require.NoError(t, d.AddPresence(ctx, "edge-asia-1", time.Minute, "u1"))
	require.NoError(t, d.AddPresence(ctx, "edge-us-2", time.Minute, "u1"), "refresh")
	require.NoError(t, d.AddPresence(ctx, "edge-us-2", time.Minute), "no users")
	eventuallyEdges(t, d, "u1", "edge-asia-1", "edge-us-2")
	eventuallyEdges(t, d, "u2", "edge-us-2")

	require.NoError(t, d.RemovePresence(ctx, "edge-us-2", "u1"))
	require.NoError(t, d.RemovePresence(ctx, "edge-eu-9", "u1"), "absent edge")
	require.NoError(t, d.RemovePresence(ctx, "edge-us-2", "nobody"), "absent user")
	eventuallyEdges(t, d, "u1", "edge-asia-1")
	require.NoError(t, d.RemovePresence(ctx, "edge-asia-1", "u1"))
	eventuallyEdges(t, d, "u1")
}

func testPresenceExpiry(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	const short = 50 * time.Millisecond
	// The short edge expires whichever order the adds come in; the long one,
	// and the key holding it, stay.
	require.NoError(t, d.AddPresence(ctx, "edge-short", short, "short-first", "only-short"))
	require.NoError(t, d.AddPresence(ctx, "edge-long", time.Minute, "short-first", "long-first"))
	require.NoError(t, d.AddPresence(ctx, "edge-short", short, "long-first"))
	eventuallyEdges(t, d, "long-first", "edge-long", "edge-short")

	checkFor(t, 2*time.Second, func() error {
		for _, u := range []string{"short-first", "long-first"} {
			edges, err := d.Presence(ctx, u)
			if err := wantEdges(edges, err, "edge-long"); err != nil {
				return fmt.Errorf("%s: %w", u, err)
			}
		}
		edges, err := d.Presence(ctx, "only-short")
		return wantEdges(edges, err)
	})
}

func testInvalidArguments(t *testing.T, d directory.Directory) {
	ctx := t.Context()
	require.Error(t, d.CreateSession(ctx, route(""), "a", "b"))
	require.Error(t, d.CreateSession(ctx, route("a-"), "a", ""))
	require.Error(t, d.AddPresence(ctx, "edge", 0, "a"))
	require.Error(t, d.AddPresence(ctx, "", time.Minute, "a"))
	_, err := d.Lookup(ctx, "a", true)
	require.ErrorIs(t, err, directory.ErrNotFound, "a failed create claimed a user")
}
