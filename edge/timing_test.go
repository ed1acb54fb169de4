package edge

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"courtmesh/directory"
	"courtmesh/mesh/wire"
	"courtmesh/protocol"
	"courtmesh/token"
)

// The timing tests run inside synctest bubbles: the retry pauses, the
// retry budget and the drain's spreading run on the bubble's clock, so the
// tests check exact instants in microseconds of real time.

// bubbleEdge is an edge that is not listening: what runs in a bubble.
func bubbleEdge(t *testing.T, mesh *fakeMesh, dir *fakeDir, timeout time.Duration) *Server {
	t.Helper()
	s, err := New(Config{NodeID: "edge-us-1", Region: "us", Verifier: &token.Verifier{Secret: testSecret},
		Directory: dir, Mesh: mesh, RequestTimeout: timeout})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// notOwnerUntil answers not_owner until the bubble's clock reaches at, and
// counts the tries.
func notOwnerUntil(at time.Time, tries *atomic.Int32) func(context.Context, string, *wire.Request) (*wire.Response, error) {
	return func(context.Context, string, *wire.Request) (*wire.Response, error) {
		tries.Add(1)
		if time.Now().Before(at) {
			return nil, &wire.Error{Code: wire.CodeNotOwner, Reason: "moved", Temporary: true}
		}
		return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
	}
}

// TestRetryBudget: a request whose home keeps answering not_owner is tried
// at 0, 0 (the immediate redirect), 50, 150, 350, 750, 1550, 2350 and
// 3150 ms (the pauses double up to 800 ms), and given up once retryBudget
// has passed.
func TestRetryBudget(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var tries atomic.Int32
		mesh := &fakeMesh{nodes: []string{"home-us-1"}}
		mesh.setFn(notOwnerUntil(time.Now().Add(time.Hour), &tries))
		s := bubbleEdge(t, mesh, newFakeDir(), time.Minute)
		begin := time.Now()
		_, err := s.forward(t.Context(), s.request("alice", protocol.Serve, nil), false)
		var we *wire.Error
		require.ErrorAs(t, err, &we)
		require.Equal(t, wire.CodeNotOwner, we.Code)
		require.Equal(t, 3150*time.Millisecond, time.Since(begin))
		require.Equal(t, int32(9), tries.Load())
	})
}

// TestRetryRidesOutAFailover: a home that answers again 1.2 s into the
// retries (a takeover) is reached at the next try, 1550 ms in.
func TestRetryRidesOutAFailover(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var tries atomic.Int32
		mesh := &fakeMesh{nodes: []string{"home-us-1"}}
		begin := time.Now()
		mesh.setFn(notOwnerUntil(begin.Add(1200*time.Millisecond), &tries))
		s := bubbleEdge(t, mesh, newFakeDir(), time.Minute)
		resp, err := s.forward(t.Context(), s.request("alice", protocol.Serve, nil), false)
		require.NoError(t, err)
		require.JSONEq(t, `{"ok":true}`, string(resp.Ack))
		require.Equal(t, 1550*time.Millisecond, time.Since(begin))
		require.Equal(t, int32(7), tries.Load())
	})
}

// TestStaleRouteRedirectsAtOnce: a cached route that names a home that no
// longer owns the session (a lagging replica) costs one redirect: the
// fresh read's owner is asked at once, with no pause.
func TestStaleRouteRedirectsAtOnce(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		mesh := &fakeMesh{nodes: []string{"home-us-1", "home-us-2"}}
		mesh.setFn(func(_ context.Context, node string, _ *wire.Request) (*wire.Response, error) {
			if node == "home-us-1" {
				return nil, &wire.Error{Code: wire.CodeNotOwner, Reason: "moved", Temporary: true}
			}
			return &wire.Response{Ack: json.RawMessage(`{"ok":true}`)}, nil
		})
		dir := newFakeDir()
		dir.routes["alice"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-1"}
		dir.fresh["alice"] = directory.Route{SessionID: "s1", HomeRegion: "us", OwnerNode: "home-us-2"}
		s := bubbleEdge(t, mesh, dir, time.Minute)
		begin := time.Now()
		_, err := s.forward(t.Context(), s.request("alice", protocol.Serve, nil), false)
		require.NoError(t, err)
		require.Zero(t, time.Since(begin), "no pause before the redirect")
		require.Equal(t, []string{"home-us-1", "home-us-2"}, mesh.targets())
	})
}

// TestRetryStopsAtTheActionDeadline: the action's deadline ends the
// retries before the budget does.
func TestRetryStopsAtTheActionDeadline(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var tries atomic.Int32
		mesh := &fakeMesh{nodes: []string{"home-us-1"}}
		mesh.setFn(notOwnerUntil(time.Now().Add(time.Hour), &tries))
		s := bubbleEdge(t, mesh, newFakeDir(), time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		begin := time.Now()
		_, err := s.forward(ctx, s.request("alice", protocol.Serve, nil), false)
		require.Error(t, err)
		require.Equal(t, time.Second, time.Since(begin))
		require.Equal(t, int32(6), tries.Load(), "tries at 0, 0, 50, 150, 350 and 750 ms")
	})
}

// TestDrainSpreadsDisconnects: Shutdown tells its sockets to move in
// drainSteps batches spread over three quarters of the time left, not all
// at once.
func TestDrainSpreadsDisconnects(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := bubbleEdge(t, &fakeMesh{}, newFakeDir(), time.Minute)
		const n = 100
		conns := make([]*conn, n)
		s.mu.Lock()
		for i := range conns {
			// writing: a writer "runs" already, so the drain only queues
			// the disconnect and marks the socket closing.
			conns[i] = &conn{s: s, id: uint64(i + 1), writing: true}
			s.conns[conns[i].id] = conns[i]
		}
		s.mu.Unlock()
		told := func() int {
			k := 0
			for _, c := range conns {
				c.mu.Lock()
				if c.closing == reasonShutdown {
					k++
				}
				c.mu.Unlock()
			}
			return k
		}
		ctx, cancel := context.WithTimeout(t.Context(), 4*time.Second) // window 3 s: 20 batches of 5, 150 ms apart
		defer cancel()
		done := make(chan struct{})
		go func() {
			s.spreadDisconnects(ctx, 3*time.Second)
			close(done)
		}()
		synctest.Wait()
		require.Equal(t, 5, told(), "the first batch at once")
		for step := 2; step <= drainSteps; step++ {
			time.Sleep(150*time.Millisecond - time.Nanosecond)
			synctest.Wait()
			require.Equal(t, 5*(step-1), told(), "not before its tick")
			time.Sleep(time.Nanosecond)
			synctest.Wait()
			require.Equal(t, 5*step, told(), "batch %d", step)
		}
		<-done
		s.mu.Lock()
		clear(s.conns) // no real sockets to close
		s.mu.Unlock()
	})
}
