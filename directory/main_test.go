package directory_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"courtmesh/directory"
	"courtmesh/directory/redistest"
)

// settle bounds how long a cached read may lag a write in these tests.
const settle = 2 * time.Second

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, redistest.IgnoreDialRetry())
}

// checkFor calls f every few milliseconds until it returns nil, and fails the
// test with f's last error once total has passed.
func checkFor(t *testing.T, total time.Duration, f func() error) {
	t.Helper()
	deadline := time.After(total)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		err := f()
		if err == nil {
			return
		}
		select {
		case <-deadline:
			t.Fatalf("not true after %v: %v", total, err)
		case <-tick.C:
		}
	}
}

// wantEdges is a checkFor condition: the edges equal want.
func wantEdges(got []string, err error, want ...string) error {
	if err != nil {
		return err
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Errorf("edges %v, want %v", got, want)
	}
	return nil
}

// eventuallyEdges waits until Presence of userID gives want.
func eventuallyEdges(t *testing.T, d directory.Directory, userID string, want ...string) {
	t.Helper()
	checkFor(t, settle, func() error {
		edges, err := d.Presence(t.Context(), userID)
		return wantEdges(edges, err, want...)
	})
}

// eventuallyLookup waits until the cached Lookup of userID gives want; the
// zero Route stands for ErrNotFound.
func eventuallyLookup(t *testing.T, d directory.Directory, userID string, want directory.Route) {
	t.Helper()
	checkFor(t, settle, func() error {
		return routeIs(d.Lookup(t.Context(), userID, false))(want)
	})
}

// eventuallyRouteOf waits until the cached RouteOf of sessionID gives want;
// the zero Route stands for ErrNotFound.
func eventuallyRouteOf(t *testing.T, d directory.Directory, sessionID string, want directory.Route) {
	t.Helper()
	checkFor(t, settle, func() error {
		return routeIs(d.RouteOf(t.Context(), sessionID, false))(want)
	})
}

// routeIs returns a check that a read gave want, with ErrNotFound read as
// the zero Route.
func routeIs(got directory.Route, err error) func(want directory.Route) error {
	return func(want directory.Route) error {
		if err != nil && !errors.Is(err, directory.ErrNotFound) {
			return err
		}
		if got != want {
			return fmt.Errorf("route %+v, want %+v", got, want)
		}
		return nil
	}
}
